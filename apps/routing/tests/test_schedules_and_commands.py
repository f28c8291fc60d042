import datetime as dt

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_q.models import Schedule, Success
from django_q.scheduler import scheduler

from apps.accounts.models import Account, OwnershipEvent
from apps.accounts.services import account_set_owner
from apps.leads.models import LeadCycle
from apps.people.models import Contact, Rep
from apps.people.tests.factories import RepFactory
from apps.routing.models import RoutingDecision
from apps.routing.schedules import schedules_ensure
from apps.routing.tasks import distribution_run_task, retrieval_run_task
from apps.routing.tests.factories import ScoredAccountFactory, rule_with

pytestmark = pytest.mark.django_db


def test_schedules_are_declared_in_code():
    schedules_ensure()  # what the data migration runs (a transactional test may have flushed it)
    Schedule.objects.filter(name="routing.daily_retrieval").update(cron="0 4 * * *")  # ops edit
    schedules_ensure()
    assert Schedule.objects.filter(name__startswith="routing.").count() == 2
    schedules = {s.name: s for s in Schedule.objects.filter(name__startswith="routing.")}
    assert schedules["routing.daily_retrieval"].cron == "0 4 * * *"
    assert schedules["routing.weekly_distribution"].func == "apps.routing.tasks.distribution_run_task"
    assert schedules["routing.weekly_distribution"].schedule_type == Schedule.CRON
    assert schedules["routing.daily_retrieval"].func == "apps.routing.tasks.retrieval_run_task"


def test_schedules_run_through_django_q(sdr):
    t0 = dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC)
    sdr.capacity = 3
    sdr.save()
    with time_machine.travel(t0, tick=False):
        stale = ScoredAccountFactory(total_score=10)
        account_set_owner(account=stale, to_rep=sdr, reason="distribution")
    for score in (90, 80, 70, 60):
        ScoredAccountFactory(total_score=score)
    schedules_ensure()
    Schedule.objects.filter(name="routing.daily_retrieval").update(next_run=t0 + dt.timedelta(days=31))
    Schedule.objects.filter(name="routing.weekly_distribution").update(next_run=t0 + dt.timedelta(days=31, hours=1))
    with time_machine.travel(t0 + dt.timedelta(days=31, minutes=1), tick=False):
        scheduler()  # the cluster's scheduler: makes (and, sync in tests, runs) the due task
    assert list(Success.objects.values_list("group", flat=True)) == ["routing.daily_retrieval"]
    stale.refresh_from_db()
    assert stale.owner is None
    with time_machine.travel(t0 + dt.timedelta(days=31, hours=1, minutes=1), tick=False):
        scheduler()
        assert Schedule.objects.get(name="routing.weekly_distribution").next_run > timezone.now()
    assert Success.objects.filter(group="routing.weekly_distribution").count() == 1
    assert Account.objects.filter(owner=sdr).count() == 3
    assert Account.objects.filter(owner=sdr, total_score__gte=70).count() == 3  # the best three; stale rests


def test_tasks_are_idempotent(sdr):
    sdr.capacity = 2
    sdr.save()
    for score in (90, 80, 70):
        ScoredAccountFactory(total_score=score)
    assert distribution_run_task() == 2
    assert distribution_run_task() == 0
    assert retrieval_run_task() == 0
    assert OwnershipEvent.objects.count() == 2


def test_distribute_command_dry_run_and_filters(capsys, sdr, other_sdr):
    for score in range(10):
        ScoredAccountFactory(total_score=score * 10)
    Rep.objects.filter(pk__in=[sdr.pk, other_sdr.pk]).update(capacity=2)
    call_command("distribute", "--dry-run", "--team", "East")
    out = capsys.readouterr().out
    assert "Sam Seller" in out and "Olga Other" not in out and "would be assigned" in out
    assert not Account.objects.filter(owner__isnull=False).exists()
    call_command("distribute", "--team", "east")
    assert Account.objects.filter(owner=sdr).count() == 2 and not Account.objects.filter(owner=other_sdr).exists()
    with pytest.raises(CommandError, match="Unknown team"):
        call_command("distribute", "--team", "Nowhere")
    with pytest.raises(CommandError, match="Unknown segment"):
        call_command("distribute", "--segment", "galactic")


def test_retrieve_command(capsys, sdr):
    t0 = dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC)
    with time_machine.travel(t0, tick=False):
        account = ScoredAccountFactory(name="Sleepy Inc")
        account_set_owner(account=account, to_rep=sdr, reason="distribution")
    with time_machine.travel(t0 + dt.timedelta(days=30), tick=False):
        call_command("retrieve", "--dry-run")
        assert "Sleepy Inc" in capsys.readouterr().out
        account.refresh_from_db()
        assert account.owner == sdr
        call_command("retrieve")
    account.refresh_from_db()
    assert account.owner is None


def test_route_leads_command(tmp_path, capsys, team):
    reps = [RepFactory(role=Rep.Role.SDR, team=team) for _ in range(2)]
    rule_with(reps)
    path = tmp_path / "leads.csv"
    path.write_text("email,first_name,last_name,account_domain\nann@alpha.com,Ann,A,\njoe@gmail.com,Joe,B,\nkim@gmail.com,Kim,C,beta.io\n")
    call_command("route_leads", str(path))
    out = capsys.readouterr().out
    assert "3 lead(s) routed" in out
    assert Contact.objects.get(email="ann@alpha.com").source == "inbound"
    assert RoutingDecision.objects.get(contact__email="joe@gmail.com").outcome == "unmatched"
    assert Account.objects.get(domain="beta.io").owner in reps
    assert LeadCycle.objects.count() == 2


def test_route_leads_rejects_bad_file_and_writes_nothing(tmp_path, team):
    rule_with([RepFactory(role=Rep.Role.SDR, team=team)])
    path = tmp_path / "leads.csv"
    path.write_text("email,account_domain,lead_type\nok@alpha.com,,\nnot-an-email,,\nok@alpha.com,,\nx@y.com,not a domain,\nz@w.com,,weird\n")
    with pytest.raises(CommandError) as error:
        call_command("route_leads", str(path))
    message = str(error.value)
    assert "line 3, email" in message and "line 4, email: ok@alpha.com already on line 2" in message
    assert "line 5, account_domain" in message and "line 6, lead_type" in message
    assert not Contact.objects.exists() and not Account.objects.exists()
    with pytest.raises(CommandError, match="header"):
        (tmp_path / "bad.csv").write_text("mail\nx@y.com\n")
        call_command("route_leads", str(tmp_path / "bad.csv"))


