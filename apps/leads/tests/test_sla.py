"""SLA enforcement through the real scheduled task: reminder once past target, re-assignment
past maximum (once, even under repeated and concurrent runs), the new rep's clock."""

import datetime as dt
import threading

import pytest
import time_machine
from django.core import mail
from django.db import connection

from apps.accounts.models import OwnershipEvent
from apps.accounts.services import account_set_owner
from apps.cadences.models import Cadence
from apps.cadences.services import activity_create, enrolment_create
from apps.leads.models import LeadCycle, SlaBreach
from apps.leads.services import lead_cycle_open
from apps.leads.services.sla import _next_rep_for
from apps.people.models import Rep
from apps.people.tests.factories import ContactFactory, RepFactory

T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


def sla_check(run_task, at):
    with time_machine.travel(at, tick=False):
        return run_task("apps.leads.tasks.lead_sla_check")


@pytest.fixture
def inbound(sdr):
    contact = ContactFactory()
    account_set_owner(account=contact.account, to_rep=sdr, reason="distribution")
    with time_machine.travel(T0, tick=False):
        return lead_cycle_open(contact=contact, rep=sdr)


@pytest.mark.django_db
def test_target_reminds_the_rep_once(inbound, sdr, run_task):
    assert sla_check(run_task, T0 + dt.timedelta(minutes=119)) == {}
    assert sla_check(run_task, T0 + dt.timedelta(minutes=120)) == {"reminded": 1}
    assert sla_check(run_task, T0 + dt.timedelta(hours=5)) == {}
    assert [m.to for m in mail.outbox] == [[sdr.user.email]]
    message = mail.outbox[0]
    assert "response target" in message.subject and str(inbound.contact.email) in message.body
    assert message.alternatives[0][1] == "text/html" and "<a href=" in message.alternatives[0][0]
    breach = SlaBreach.objects.get()
    assert (breach.kind, breach.rep, breach.due_at) == ("target", sdr, T0 + dt.timedelta(hours=2))


@pytest.mark.django_db
def test_touched_leads_and_outbound_leads_are_not_chased(inbound, sdr, run_task):
    with time_machine.travel(T0 + dt.timedelta(minutes=30), tick=False):
        activity_create(rep=sdr, contact=inbound.contact, type="call")
        outbound = lead_cycle_open(contact=ContactFactory(), rep=sdr, lead_type="outbound")
    assert outbound.sla_target_at is None
    assert sla_check(run_task, T0 + dt.timedelta(days=3)) == {}
    assert not mail.outbox and not SlaBreach.objects.exists()


@pytest.mark.django_db
def test_maximum_reassigns_to_least_loaded_team_sdr_and_restarts_the_clock(inbound, sdr, manager, team, run_task):
    busy = RepFactory(role=Rep.Role.SDR, team=team, owner_name="Busy Bee")
    free = RepFactory(role=Rep.Role.SDR, team=team, owner_name="Free Fred")
    RepFactory(role=Rep.Role.SDR, team=team, owner_name="Away Ann", out_of_office_from=dt.date(2026, 3, 1))
    RepFactory(role=Rep.Role.AE, team=team, owner_name="Not An SDR")
    with time_machine.travel(T0, tick=False):
        lead_cycle_open(contact=ContactFactory(), rep=busy, lead_type="outbound")
        enrolment = enrolment_create(contact=inbound.contact, cadence=Cadence.objects.get(name="High-touch inbound"),
                                     rep=sdr)
    sla_check(run_task, T0 + dt.timedelta(hours=2))
    mail.outbox.clear()
    at = T0 + dt.timedelta(hours=24)
    assert sla_check(run_task, at) == {"reassigned": 1}
    inbound.refresh_from_db()
    assert (inbound.rep, inbound.assigned_at, inbound.reassignment_count) == (free, at, 1)
    assert inbound.sla_target_at == at + dt.timedelta(hours=2)
    enrolment.refresh_from_db()
    assert enrolment.rep == free and enrolment.state == "active"
    event = OwnershipEvent.objects.get(reason="sla_reassignment")
    assert (event.from_rep, event.to_rep, event.account) == (sdr, free, inbound.contact.account)
    breach = SlaBreach.objects.get(kind="maximum")
    assert (breach.rep, breach.reassigned_to, breach.assigned_at) == (sdr, free, T0)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([manager.user.email, free.user.email])
    escalation = next(m for m in mail.outbox if m.to == [manager.user.email])
    assert "re-assigned to Free Fred" in escalation.subject and "&lt;" not in escalation.subject + escalation.body
    # Re-running changes nothing; the new rep gets their own reminder on their own clock.
    assert sla_check(run_task, at + dt.timedelta(minutes=5)) == {}
    assert sla_check(run_task, at + dt.timedelta(hours=2)) == {"reminded": 1}
    assert mail.outbox[-1].to == [free.user.email]
    assert OwnershipEvent.objects.filter(reason="sla_reassignment").count() == 1


@pytest.mark.django_db
def test_nobody_to_reassign_to_still_escalates_once(inbound, sdr, manager, run_task):
    assert sla_check(run_task, T0 + dt.timedelta(days=2)) == {"escalated": 1}
    assert sla_check(run_task, T0 + dt.timedelta(days=3)) == {}
    inbound.refresh_from_db()
    assert inbound.rep == sdr and inbound.assigned_at == T0
    assert [m.to for m in mail.outbox] == [[manager.user.email]]
    assert "No available rep" in SlaBreach.objects.get(kind="maximum").note


@pytest.mark.django_db
def test_scheduled_job_is_declared_and_runs_through_the_scheduler(inbound, sdr, django_capture_on_commit_callbacks):
    from django_q.models import Schedule
    from django_q.scheduler import scheduler

    schedule = Schedule.objects.get(name="leads.sla_check")
    assert (schedule.func, schedule.schedule_type, schedule.minutes) == ("apps.leads.tasks.lead_sla_check", "I", 5)
    Schedule.objects.exclude(pk=schedule.pk).update(next_run=T0 + dt.timedelta(days=365))
    Schedule.objects.filter(pk=schedule.pk).update(next_run=T0)
    with time_machine.travel(T0 + dt.timedelta(hours=2, minutes=1), tick=False), \
            django_capture_on_commit_callbacks(execute=True):
        scheduler()
    assert SlaBreach.objects.filter(kind="target").count() == 1 and len(mail.outbox) == 1
    schedule.refresh_from_db()
    assert schedule.next_run > T0 + dt.timedelta(hours=2)


@pytest.mark.django_db
def test_fallback_next_rep_is_documented_choice(inbound, sdr, team, other_sdr):
    assert _next_rep_for(inbound) is None  # other_sdr is in another team
    teammate = RepFactory(role=Rep.Role.SDR, team=team)
    assert _next_rep_for(inbound) == teammate
    teammate.active = False
    teammate.save()
    assert _next_rep_for(inbound) is None


@pytest.mark.django_db(transaction=True)
def test_concurrent_sla_checks_reassign_and_notify_once(team, sdr, manager):
    """Two workers run the SLA check at the same moment on their own connections."""
    from django.core import mail as django_mail

    from apps.leads import tasks

    teammate = RepFactory(role=Rep.Role.SDR, team=team, owner_name="Tina Teammate")
    contacts = [ContactFactory() for _ in range(6)]
    with time_machine.travel(T0, tick=False):
        for contact in contacts:
            lead_cycle_open(contact=contact, rep=sdr)
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            with time_machine.travel(T0 + dt.timedelta(days=2), tick=False):
                barrier.wait(timeout=10)
                results.append(tasks.lead_sla_check())
        except Exception as error:  # surfaced below; a thread's exception is otherwise lost
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert sum(r.get("reassigned", 0) for r in results) == 6
    assert SlaBreach.objects.filter(kind="maximum").count() == 6
    assert LeadCycle.objects.filter(rep=teammate, reassignment_count=1).count() == 6
    assert OwnershipEvent.objects.filter(reason="sla_reassignment").count() == 6
    to_manager = [m for m in django_mail.outbox if m.to == [manager.user.email]]
    assert len(to_manager) == 6
    # And a third run afterwards finds nothing to do.
    with time_machine.travel(T0 + dt.timedelta(days=2, minutes=5), tick=False):
        assert tasks.lead_sla_check() == {}


@pytest.mark.django_db
def test_a_mail_server_failure_does_not_stop_the_check(sdr, run_task, settings, caplog):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1  # nothing listens there
    with time_machine.travel(T0, tick=False):
        for _ in range(2):
            lead_cycle_open(contact=ContactFactory(), rep=sdr)
    assert sla_check(run_task, T0 + dt.timedelta(hours=2)) == {"reminded": 2}
    assert SlaBreach.objects.count() == 2
    # The reminders wait in the mail outbox for the next attempt (sdrops.mail): not lost, not resent by the check.
    from apps.connect.models import OutboundEmail

    rows = list(OutboundEmail.objects.filter(related="sla_reminder"))
    assert [(row.status, row.attempts) for row in rows] == [("pending", 1)] * 2
    assert all("refused" in row.last_error.lower() for row in rows) and "retried later" in caplog.text
