"""Accounts with new timing signals are routed continuously to reps with capacity: a pool
account that a signal puts in the Good Place (ICP fit, in market) goes to a rep at once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from apps.accounts.models import Account, OwnershipEvent
from apps.accounts.services import account_set_owner
from apps.icps.models import Quadrant, Signal
from apps.icps.services import signal_record, signals_bulk_record
from apps.icps.tests.factories import ICPFactory, RuleFactory, signal_type
from apps.markets.tests.factories import (
    EnrolledAccountFactory as AccountFactory,  # pool accounts are enrolled
)
from apps.people.models import Rep
from apps.people.tests.factories import RepFactory
from apps.routing.models import AccountRest, RoutingDecision, RoutingRule, RoutingRuleMember, Strategy
from apps.routing.services import accounts_route_signalled

pytestmark = pytest.mark.django_db


@pytest.fixture
def icp(db):
    """Software companies fit (30 fit points, threshold 24); a demo request in the last 30
    days puts them in market (20 readiness points, threshold 15)."""
    icp = ICPFactory(name="Software")
    RuleFactory(icp=icp, category="fit", condition="industry_in", values=["Software"], points=30)
    RuleFactory(icp=icp, category="readiness", condition="signal_count", values=[], minimum=1, days=30,
                signal_type=signal_type("demo_request"), points=20)
    return icp


@pytest.fixture
def reps(team):
    reps = [RepFactory(role=Rep.Role.SDR, team=team, owner_name=f"Signal SDR {i}") for i in range(2)]
    rule = RoutingRule.objects.create(name="Signals", position=0, strategy=Strategy.ROUND_ROBIN)
    for order, rep in enumerate(reps):
        RoutingRuleMember.objects.create(rule=rule, rep=rep, order=order)
    return reps


def demo_request(account, capture):
    with capture(execute=True):
        signal_record(account=account, type=signal_type("demo_request"), source="website")
    account.refresh_from_db()


def test_a_pool_account_a_signal_puts_in_the_good_place_goes_to_a_rep(icp, reps, django_capture_on_commit_callbacks):
    account = AccountFactory(industry="Software", domain="fits.com")
    demo_request(account, django_capture_on_commit_callbacks)
    assert account.quadrant == Quadrant.GOOD_PLACE
    assert account.owner == reps[0]
    event = OwnershipEvent.objects.get(account=account)
    assert (event.from_rep, event.to_rep, event.reason) == (None, reps[0], "signal")
    decision = RoutingDecision.objects.get(account=account)
    assert (decision.contact, decision.rep, decision.outcome) == (None, reps[0], "rule")
    # A second signal (or a second run of the job) changes nothing.
    demo_request(account, django_capture_on_commit_callbacks)
    assert account.owner == reps[0] and OwnershipEvent.objects.filter(account=account).count() == 1
    assert accounts_route_signalled(account_ids=[account.pk]) == []


def test_accounts_that_are_not_for_the_pool_or_not_in_market_stay_put(
    icp, reps, sdr, django_capture_on_commit_callbacks
):
    no_fit = AccountFactory(industry="Retail", domain="nofit.com")  # False Hope
    owned = AccountFactory(industry="Software", domain="owned.com")
    account_set_owner(account=owned, to_rep=sdr, reason="manual")
    resting = AccountFactory(industry="Software", domain="resting.com")
    AccountRest.objects.create(account=resting, until=timezone.now() + dt.timedelta(days=10), reason="not_interested")
    disqualified = AccountFactory(industry="Software", domain="dq.com", status=Account.Status.DISQUALIFIED)
    customer = AccountFactory(industry="Software", domain="cust.com", status=Account.Status.CUSTOMER)
    for account in (no_fit, owned, resting, disqualified, customer):
        demo_request(account, django_capture_on_commit_callbacks)
    assert no_fit.quadrant == Quadrant.FALSE_HOPE and no_fit.owner is None
    assert owned.owner == sdr
    assert resting.owner is None and disqualified.owner is None and customer.owner is None
    assert not RoutingDecision.objects.exists()
    # Fit but not in market yet (no signal): left for the distribution.
    later = AccountFactory(industry="Software", domain="later.com")
    assert accounts_route_signalled(account_ids=[later.pk]) == []


def test_no_rep_with_capacity_leaves_the_account_in_the_pool_with_the_reason(
    icp, reps, django_capture_on_commit_callbacks
):
    Rep.objects.filter(pk__in=[r.pk for r in reps]).update(capacity=0)
    account = AccountFactory(industry="Software", domain="full.com")
    demo_request(account, django_capture_on_commit_callbacks)
    assert account.owner is None
    decision = RoutingDecision.objects.get(account=account)
    assert decision.rep is None and "capacity" in str(decision.skipped)


def test_imported_signals_route_their_accounts_too(icp, reps, django_capture_on_commit_callbacks):
    accounts = [AccountFactory(industry="Software", domain=f"bulk{i}.com") for i in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        signals_bulk_record(signals=[
            Signal(account=a, type=signal_type("demo_request"), occurred_at=timezone.now(), source="csv") for a in accounts
        ])
    owners = [Account.objects.get(pk=a.pk).owner for a in accounts]
    assert owners == [reps[0], reps[1], reps[0]]
