import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.accounts.models import Account, Activity, DomainAlias, OwnershipEvent
from apps.accounts.services import account_set_owner
from apps.accounts.tests.factories import ActivityFactory, DomainAliasFactory
from apps.icps.defaults import icps_defaults_ensure
from apps.icps.models import Signal
from apps.people.models import Contact
from apps.people.tests.factories import ContactFactory
from apps.routing.models import AccountRest, ReturnRequest
from apps.routing.services import (
    distribution_run,
    rest_periods_process,
    return_approve,
    return_data_fixed,
    return_file,
    return_reject,
)
from apps.routing.tests.factories import ScoredAccountFactory

pytestmark = pytest.mark.django_db


def mine(rep, **kwargs):
    account = ScoredAccountFactory(**kwargs)
    account_set_owner(account=account, to_rep=rep, reason="distribution")
    return account


def tomorrow():
    return timezone.localdate() + dt.timedelta(days=1)


# --- filing -------------------------------------------------------------------------------


def test_only_own_accounts_can_be_returned(sdr, other_sdr):
    account = mine(other_sdr)
    with pytest.raises(ValidationError, match="your own book"):
        return_file(account=account, rep=sdr, reason="bad_data")
    assert not ReturnRequest.objects.exists()


def test_one_pending_return_per_account(sdr):
    account = mine(sdr)
    return_file(account=account, rep=sdr, reason="bad_data")
    with pytest.raises(ValidationError, match="already has a return"):
        return_file(account=account, rep=sdr, reason="not_interested")


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"reason": "duplicate"}, "duplicate_of"),
        ({"reason": "get_back_to_me"}, "get_back_on"),
        ({"reason": "get_back_to_me", "get_back_on": dt.date(2000, 1, 1)}, "get_back_on"),
        ({"reason": "retrieval"}, "reason"),
        ({"reason": "bored"}, "reason"),
    ],
)
def test_reason_specific_fields_are_required(sdr, kwargs, field):
    account = mine(sdr)
    with pytest.raises(ValidationError) as error:
        return_file(account=account, rep=sdr, **kwargs)
    assert field in error.value.message_dict


@pytest.mark.parametrize("reason", ["no_icp_fit", "no_relevant_contact", "not_interested", "out_of_business", "bad_data"])
def test_every_plain_reason_can_be_filed(sdr, reason):
    account = mine(sdr)
    request = return_file(account=account, rep=sdr, reason=reason, note="why")
    assert (request.status, request.reason, request.account_name) == ("pending", reason, account.name)
    account.refresh_from_db()
    assert account.owner == sdr  # it stays until reviewed


def test_swap_hands_best_replacement_at_once(sdr):
    sdr.segment = "smb"
    sdr.save()
    returned = mine(sdr, segment="smb")
    ScoredAccountFactory(segment="smb", total_score=40)
    best = ScoredAccountFactory(segment="smb", total_score=80)
    ScoredAccountFactory(segment="enterprise", total_score=99)
    request = return_file(account=returned, rep=sdr, reason="not_interested", swap=True)
    assert request.swap_account == best
    best.refresh_from_db()
    assert best.owner == sdr
    assert OwnershipEvent.objects.get(account=best).reason == "swap"
    # The pending return does not count against the book: a distribution does not overfill.


def test_swap_with_empty_pool_still_files(sdr):
    request = return_file(account=mine(sdr), rep=sdr, reason="bad_data", swap=True)
    assert request.swap_account is None and request.status == "pending"


# --- review outcomes ----------------------------------------------------------------------


def test_not_interested_rests_90_days_by_default(sdr, ops):
    account = mine(sdr)
    request = return_file(account=account, rep=sdr, reason="not_interested")
    with time_machine.travel(dt.datetime(2026, 2, 1, 10, tzinfo=dt.UTC), tick=False):
        request = return_approve(return_request=request, actor=ops.user)
        assert AccountRest.objects.get(account=account).until == timezone.now() + dt.timedelta(days=90)
    assert (request.status, request.outcome, request.rest_days, request.reviewed_by) == ("approved", "rest", 90, ops.user)
    account.refresh_from_db()
    assert account.owner is None
    assert OwnershipEvent.objects.filter(account=account, reason="return", to_rep=None).exists()


def test_rest_days_can_be_chosen(sdr, ops):
    account = mine(sdr)
    request = return_approve(return_request=return_file(account=account, rep=sdr, reason="no_relevant_contact"),
                             actor=ops.user, rest_days=3)
    assert request.rest_days == 3


def test_get_back_to_me_rests_until_the_date_then_adds_a_signal(sdr, ops):
    account = mine(sdr)
    when = timezone.localdate() + dt.timedelta(days=20)
    request = return_file(account=account, rep=sdr, reason="get_back_to_me", get_back_on=when)
    return_approve(return_request=request, actor=ops.user)
    rest = AccountRest.objects.get(account=account)
    assert rest.until.date() == when and rest.signal_on == when
    distribution_run()
    account.refresh_from_db()
    assert account.owner is None
    icps_defaults_ensure()  # signal types (a transactional test may have flushed them)
    with time_machine.travel(dt.datetime.combine(when, dt.time(6), tzinfo=dt.UTC) - dt.timedelta(days=1), tick=False):
        assert rest_periods_process() == 0
    with time_machine.travel(dt.datetime.combine(when, dt.time(6), tzinfo=dt.UTC), tick=False):
        assert rest_periods_process() == 1
        assert rest_periods_process() == 0  # twice: no harm
    signal = Signal.objects.get(account=account)
    assert (signal.type.key, signal.date, signal.source) == ("get_back_to_me_date", when, "return")
    assert not AccountRest.objects.filter(account=account, signal_added_at__isnull=True).exists()


def test_out_of_business_disqualifies(sdr, ops):
    account = mine(sdr)
    return_approve(return_request=return_file(account=account, rep=sdr, reason="out_of_business"), actor=ops.user)
    account.refresh_from_db()
    assert (account.owner, account.status) == (None, "disqualified")


def test_bad_data_goes_to_data_fixing_then_back_to_pool(sdr, ops):
    account = mine(sdr, total_score=95)
    request = return_approve(return_request=return_file(account=account, rep=sdr, reason="bad_data"), actor=ops.user)
    assert request.outcome == "data_fix"
    distribution_run()
    account.refresh_from_db()
    assert account.owner is None  # held while ops fix it
    return_data_fixed(return_request=request, actor=ops.user)
    with pytest.raises(ValidationError):
        return_data_fixed(return_request=request, actor=ops.user)
    distribution_run()
    account.refresh_from_db()
    assert account.owner == sdr


def test_reassign_to_another_rep(sdr, other_sdr, ops):
    account = mine(sdr)
    request = return_file(account=account, rep=sdr, reason="no_icp_fit")
    with pytest.raises(ValidationError):
        return_approve(return_request=request, actor=ops.user, outcome="reassign")
    return_approve(return_request=request, actor=ops.user, outcome="reassign", reassign_to=other_sdr)
    account.refresh_from_db()
    assert account.owner == other_sdr


def test_merge_moves_everything_to_the_survivor(sdr, other_sdr, ops):
    survivor = ScoredAccountFactory(domain="acme.com", name="Acme")
    account_set_owner(account=survivor, to_rep=other_sdr, reason="distribution")
    dup = mine(sdr, domain="acme-inc.com", name="Acme Inc")
    DomainAliasFactory(account=dup, domain="acme-europe.com")
    contact = ContactFactory(account=dup)
    ActivityFactory(account=dup, type="call")
    request = return_file(account=dup, rep=sdr, reason="duplicate", duplicate_of=survivor, note="same company")
    request = return_approve(return_request=request, actor=ops.user)
    assert (request.status, request.outcome) == ("approved", "merge")
    assert not Account.objects.filter(pk=dup.pk).exists()
    assert Contact.objects.get(pk=contact.pk).account == survivor
    assert Activity.objects.filter(account=survivor).count() == 1
    assert set(DomainAlias.objects.filter(account=survivor).values_list("domain", flat=True)) == {
        "acme-inc.com", "acme-europe.com",
    }
    # The duplicate's ownership history moved to the survivor too.
    assert OwnershipEvent.objects.filter(account=survivor, from_rep=sdr).exists()
    survivor.refresh_from_db()
    assert survivor.owner == other_sdr
    request.refresh_from_db()
    assert request.account is None and request.account_name == "Acme Inc"


def test_reject_keeps_account_and_tells_the_rep(sdr, ops, django_capture_on_commit_callbacks):
    account = mine(sdr)
    request = return_file(account=account, rep=sdr, reason="not_interested")
    with pytest.raises(ValidationError):
        return_reject(return_request=request, actor=ops.user, note=" ")
    with django_capture_on_commit_callbacks(execute=True):
        return_reject(return_request=request, actor=ops.user, note="They opened our email twice this week.")
    account.refresh_from_db()
    assert account.owner == sdr
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [sdr.user.email]
    assert "opened our email twice" in mail.outbox[0].body
    with pytest.raises(ValidationError, match="already rejected"):
        return_approve(return_request=request, actor=ops.user)


def test_pending_return_does_not_count_against_capacity(sdr):
    sdr.capacity = 2
    sdr.save()
    returned = mine(sdr)
    mine(sdr)
    ScoredAccountFactory()
    return_file(account=returned, rep=sdr, reason="not_interested")
    distribution_run()
    assert Account.objects.filter(owner=sdr).count() == 3  # 2 in the book + 1 waiting for review
