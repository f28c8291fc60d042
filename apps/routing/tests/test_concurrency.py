"""Parallel runs on real PostgreSQL: threads, each with its own connection, started together."""

import datetime as dt
import threading
from collections import Counter

import pytest
import time_machine
from django.db import connection
from django.db.models import Count

from apps.accounts.models import Account, OwnershipEvent
from apps.accounts.services import account_set_owner
from apps.people.models import Rep
from apps.people.tests.factories import ContactFactory, RepFactory, TeamFactory
from apps.routing.models import QueueItem, Strategy
from apps.routing.services import distribution_run, lead_route, queue_claim_next, retrieval_run
from apps.routing.tests.factories import ScoredAccountFactory, rule_with

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(*functions):
    """Run each function in its own thread, released at once; re-raise the first error."""
    barrier = threading.Barrier(len(functions))
    results, errors = [None] * len(functions), []

    def runner(index, fn):
        try:
            barrier.wait()
            results[index] = fn()
        except Exception as error:  # noqa: BLE001 - re-raised in the main thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, fn)) for i, fn in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    if errors:
        raise errors[0]
    return results


def assert_no_double_assignment_and_capacity(reps):
    per_account = OwnershipEvent.objects.filter(reason="distribution").values("account").annotate(n=Count("id"))
    assert all(row["n"] == 1 for row in per_account)
    for rep in reps:
        rep.refresh_from_db()
        assert Account.objects.filter(owner=rep).count() <= rep.capacity


def test_two_distributions_over_the_same_reps():
    team = TeamFactory(name="Parallel")
    reps = [RepFactory(role=Rep.Role.SDR, team=team, capacity=15) for _ in range(4)]
    for i in range(150):
        ScoredAccountFactory(total_score=i % 100)
    run_together(lambda: distribution_run(team=team), lambda: distribution_run(team=team))
    assert_no_double_assignment_and_capacity(reps)
    assert Account.objects.filter(owner__in=reps).count() == 60


def test_two_distributions_over_different_teams_share_one_pool():
    east = [RepFactory(role=Rep.Role.SDR, team=TeamFactory(name="E"), capacity=30) for _ in range(3)]
    west = [RepFactory(role=Rep.Role.SDR, team=TeamFactory(name="W"), capacity=30) for _ in range(3)]
    for i in range(120):
        ScoredAccountFactory(total_score=i % 100)
    run_together(lambda: distribution_run(team=east[0].team), lambda: distribution_run(team=west[0].team))
    assert_no_double_assignment_and_capacity(east + west)
    assert Account.objects.filter(owner__isnull=False).count() == 120  # the whole pool, each account once


def test_distribution_and_retrieval_in_parallel():
    t0 = dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC)
    reps = [RepFactory(role=Rep.Role.SDR, capacity=20, team=TeamFactory(name="R")) for _ in range(3)]
    stale = []
    with time_machine.travel(t0, tick=False):
        for i in range(30):
            account = ScoredAccountFactory(total_score=90)
            account_set_owner(account=account, to_rep=reps[i % 3], reason="distribution")
            stale.append(account.pk)
    for i in range(60):
        ScoredAccountFactory(total_score=i)
    with time_machine.travel(t0 + dt.timedelta(days=31)):
        run_together(lambda: distribution_run(), lambda: retrieval_run())
    # Every stale account was retrieved and none of them was handed out again (they rest).
    assert not Account.objects.filter(pk__in=stale, owner__isnull=False).exists()
    events = Counter(OwnershipEvent.objects.filter(account_id__in=stale).values_list("reason", flat=True))
    assert events == {"distribution": 30, "retrieval": 30}
    for rep in reps:
        assert Account.objects.filter(owner=rep).count() <= 20


def test_two_claim_next_never_get_the_same_lead():
    reps = [RepFactory(role=Rep.Role.SDR) for _ in range(2)]
    rule_with(reps, strategy=Strategy.QUEUE)
    lead_route(contact=ContactFactory(email="only@one.com", account=None))
    results = run_together(lambda: queue_claim_next(rep=reps[0]), lambda: queue_claim_next(rep=reps[1]))
    claimed = [r for r in results if r is not None]
    assert len(claimed) == 1
    assert QueueItem.objects.get().claimed_by_id in {r.pk for r in reps}

    for i in range(2):
        lead_route(contact=ContactFactory(email=f"lead{i}@two{i}.com", account=None))
    results = run_together(lambda: queue_claim_next(rep=reps[0]), lambda: queue_claim_next(rep=reps[1]))
    assert len({item.pk for item in results}) == 2
    assert QueueItem.objects.filter(claimed_at__isnull=True).count() == 0


def test_claim_next_by_one_rep_twice_in_parallel_respects_capacity():
    rep = RepFactory(role=Rep.Role.SDR, capacity=1)
    rule_with([rep], strategy=Strategy.QUEUE)
    for i in range(2):
        lead_route(contact=ContactFactory(email=f"lead{i}@cap{i}.com", account=None))
    outcomes = []

    def claim():
        try:
            return queue_claim_next(rep=rep)
        except Exception as error:  # noqa: BLE001
            outcomes.append(str(error))
            return None

    run_together(claim, claim)
    assert Account.objects.filter(owner=rep).count() == 1
    assert outcomes and "at capacity" in outcomes[0]
