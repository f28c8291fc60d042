import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from apps.accounts.models import Account, OwnershipEvent
from apps.accounts.services import account_set_owner
from apps.accounts.tests.factories import AccountFactory, ActivityFactory
from apps.routing.models import AccountRest, ReturnRequest, RulesOfEngagement
from apps.routing.selectors import roe_get
from apps.routing.services import distribution_run, retrieval_run, return_file
from apps.routing.tests.factories import ScoredAccountFactory

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC)


def owned(rep, **kwargs):
    account = ScoredAccountFactory(**kwargs)
    with time_machine.travel(T0, tick=False):
        account_set_owner(account=account, to_rep=rep, reason="distribution")
    return account


def test_retrieved_exactly_at_n_days_not_a_second_before(sdr):
    account = owned(sdr)
    with time_machine.travel(T0 + dt.timedelta(days=30) - dt.timedelta(seconds=1), tick=False):
        assert retrieval_run() == []
    with time_machine.travel(T0 + dt.timedelta(days=30), tick=False):
        rows = retrieval_run()
    assert [r.account_id for r in rows] == [account.pk]
    account.refresh_from_db()
    assert account.owner is None
    event = OwnershipEvent.objects.get(account=account, reason="retrieval")
    assert event.from_rep == sdr and "30 days" in event.note
    rest = AccountRest.objects.get(account=account)
    assert rest.until == T0 + dt.timedelta(days=30 + 14)
    assert ReturnRequest.objects.get(account=account).reason == "retrieval"


def test_meaningful_activity_restarts_the_clock_others_do_not(sdr):
    worked = owned(sdr)
    viewed = owned(sdr)
    robot = owned(sdr)
    ActivityFactory(account=worked, type="call", occurred_at=T0 + dt.timedelta(days=10))
    ActivityFactory(account=viewed, type="account_viewed", occurred_at=T0 + dt.timedelta(days=10))
    ActivityFactory(account=robot, type="email", automated=True, occurred_at=T0 + dt.timedelta(days=10))
    with time_machine.travel(T0 + dt.timedelta(days=39, hours=23), tick=False):
        ids = {r.account_id for r in retrieval_run()}
    assert ids == {viewed.pk, robot.pk}
    with time_machine.travel(T0 + dt.timedelta(days=40), tick=False):
        assert [r.account_id for r in retrieval_run()] == [worked.pk]


def test_activity_before_assignment_does_not_count(sdr):
    account = ScoredAccountFactory()
    ActivityFactory(account=account, type="call", occurred_at=T0 - dt.timedelta(days=100))
    with time_machine.travel(T0 + dt.timedelta(days=20), tick=False):
        account_set_owner(account=account, to_rep=sdr, reason="distribution")
    with time_machine.travel(T0 + dt.timedelta(days=49), tick=False):
        assert retrieval_run() == []
    with time_machine.travel(T0 + dt.timedelta(days=50), tick=False):
        assert len(retrieval_run()) == 1


def test_inactivity_days_come_from_rules_of_engagement(sdr):
    RulesOfEngagement.objects.filter(pk=roe_get().pk).update(inactivity_days=15, rest_days=7)
    account = owned(sdr)
    with time_machine.travel(T0 + dt.timedelta(days=15), tick=False):
        assert len(retrieval_run()) == 1
    assert AccountRest.objects.get(account=account).until == T0 + dt.timedelta(days=22)


def test_pending_return_is_exempt(sdr):
    account = owned(sdr)
    return_file(account=account, rep=sdr, reason="bad_data")
    with time_machine.travel(T0 + dt.timedelta(days=60), tick=False):
        assert retrieval_run() == []


def test_digest_sent_after_commit(sdr, other_sdr, django_capture_on_commit_callbacks):
    owned(sdr, name="Alpha")
    owned(sdr, name="Beta")
    owned(other_sdr, name="Gamma")
    with time_machine.travel(T0 + dt.timedelta(days=31), tick=False), django_capture_on_commit_callbacks(execute=True):
        retrieval_run()
    assert len(mail.outbox) == 2
    to_sam = next(m for m in mail.outbox if m.to == [sdr.user.email])
    assert "Alpha" in to_sam.body and "Beta" in to_sam.body and "Gamma" not in to_sam.body
    assert "30 days" in to_sam.body


def test_second_run_does_nothing_and_rest_blocks_distribution(sdr):
    account = owned(sdr, total_score=90)
    with time_machine.travel(T0 + dt.timedelta(days=31), tick=False):
        assert len(retrieval_run()) == 1
        assert retrieval_run() == []
        distribution_run()
        account.refresh_from_db()
        assert account.owner is None  # resting
    with time_machine.travel(T0 + dt.timedelta(days=31 + 14), tick=False):
        distribution_run()
        account.refresh_from_db()
        assert account.owner == sdr


def test_dry_run_lists_without_changing(sdr):
    account = owned(sdr)
    with time_machine.travel(T0 + dt.timedelta(days=31), tick=False):
        assert [r.account_id for r in retrieval_run(dry_run=True)] == [account.pk]
    account.refresh_from_db()
    assert account.owner == sdr


def test_unowned_accounts_are_never_retrieved():
    AccountFactory()
    with time_machine.travel(timezone.now() + dt.timedelta(days=400), tick=False):
        assert retrieval_run() == []


def test_customers_are_never_retrieved(ae):
    owned(ae, status=Account.Status.CUSTOMER)
    with time_machine.travel(T0 + dt.timedelta(days=400), tick=False):
        assert retrieval_run() == []
