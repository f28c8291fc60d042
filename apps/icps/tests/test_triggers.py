"""Rescoring triggers: signals, account changes, ICP changes (django-q2 task, run in-process),
the nightly schedule and the score_accounts command."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule, Task

from apps.accounts.models import Account
from apps.accounts.tests.factories import AccountFactory
from apps.icps.models import ICPChange, Rule
from apps.icps.services import account_changed, icp_change_record, icp_snapshot, signal_delete, signal_record
from apps.icps.tests.factories import ICPFactory, RuleFactory, signal_type

pytestmark = pytest.mark.django_db
C = Rule.Condition


@pytest.fixture
def demo_icp():
    icp = ICPFactory(name="Demo-driven")
    RuleFactory(icp=icp, category="fit", condition=C.INDUSTRY_IN, values=["Software"], points=30)
    RuleFactory(
        icp=icp, category="readiness", condition=C.SIGNAL_COUNT, signal_type=signal_type("demo_request"),
        minimum=1, days=30, points=20,
    )
    return icp


def test_signal_record_and_delete_rescore_the_account(demo_icp, ops):
    account = AccountFactory()
    account_changed(account=account)
    account.refresh_from_db()
    assert (account.total_score, account.tier) == (30, "C")
    signal = signal_record(account=account, type=signal_type("demo_request"), source="web", actor=ops.user)
    account.refresh_from_db()
    assert (account.total_score, account.tier) == (50, "B")
    assert signal.created_by == ops.user
    signal_delete(signal=signal)
    account.refresh_from_db()
    assert account.total_score == 30


def test_signal_record_refuses_a_dated_signal_without_date(demo_icp):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="needs a date"):
        signal_record(account=AccountFactory(), type=signal_type("competitor_renewal_date"))


def test_account_change_rescores_it(demo_icp):
    account = AccountFactory(industry="Retail")
    account_changed(account=account)
    account.refresh_from_db()
    assert account.total_score == 0
    account.industry = "Software"
    account.save()
    account_changed(account=account)
    account.refresh_from_db()
    assert account.total_score == 30


def test_icp_change_queues_a_rescore_of_all_accounts_after_commit(demo_icp, ops, django_capture_on_commit_callbacks):
    accounts = AccountFactory.create_batch(3)
    call_command("score_accounts", "--all", stdout=StringIO())
    assert set(Account.objects.values_list("total_score", flat=True)) == {30}
    before = icp_snapshot(icp_id=demo_icp.pk)
    rule = demo_icp.rules.get(category="fit")
    rule.points = 40
    rule.save()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        change = icp_change_record(icp=demo_icp, before=before, actor=ops.user)
    assert len(callbacks) == 1
    assert set(Account.objects.filter(pk__in=[a.pk for a in accounts]).values_list("total_score", "tier")) == {(40, "B")}
    task = Task.objects.get(func="apps.icps.tasks.rescore_all_accounts")
    assert task.success and task.result["accounts_written"] == 3
    assert change.actor == ops.user
    assert change.changes["rules_changed"] == [["Industry is one of Software (+30)", "Industry is one of Software (+40)"]]


def test_icp_change_with_no_difference_records_nothing(demo_icp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert icp_change_record(icp=demo_icp, before=icp_snapshot(icp_id=demo_icp.pk)) is None
    assert callbacks == [] and not ICPChange.objects.exists()


def test_nightly_schedule_is_declared_and_decays_scores(demo_icp):
    from django_q.brokers import get_broker
    from django_q.scheduler import scheduler

    schedule = Schedule.objects.get(name="icps.nightly_rescore")
    assert schedule.func == "apps.icps.tasks.rescore_all_accounts"
    assert schedule.schedule_type == Schedule.CRON and schedule.cron == "15 2 * * *"
    demo = signal_type("demo_request")  # lifetime 90 days (migration 0003)
    account = AccountFactory()
    now = timezone.now()
    signal_record(account=account, type=demo, occurred_at=now - dt.timedelta(days=20))
    account.refresh_from_db()
    assert account.readiness_score == 20
    # The rule's 30-day window closes first; the nightly run notices without anyone touching the account.
    with time_machine.travel(max(schedule.next_run, now + dt.timedelta(days=11)) + dt.timedelta(minutes=1), tick=False):
        scheduler(broker=get_broker())
    account.refresh_from_db()
    assert account.readiness_score == 0
    assert account.score_history.first().new_tier == "C"
    schedule.refresh_from_db()
    assert schedule.next_run > now + dt.timedelta(days=11)


def test_score_accounts_command_defaults_to_unscored_accounts(demo_icp):
    scored = AccountFactory()
    account_changed(account=scored)
    unscored = AccountFactory()
    out = StringIO()
    call_command("score_accounts", stdout=out)
    assert out.getvalue().startswith("1 account(s) written")
    unscored.refresh_from_db()
    assert unscored.scored_at is not None and unscored.total_score == 30
    out = StringIO()
    call_command("score_accounts", "--all", stdout=out)
    assert out.getvalue().startswith("0 account(s) written")
