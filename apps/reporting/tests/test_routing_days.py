"""The fairness statement's routing rollups (turns and skips per day) and its book tiers from
reporting_bookcount equal the from-scratch computation: every cell of the page, for viewers whose
local midnight is not UTC midnight (New York, Kolkata), after inserts, re-dated, re-assigned,
re-written (raw SQL too) and deleted decisions, and re-tiered, re-owned and deleted accounts."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection

from apps.accounts.models import Account, OwnershipReason
from apps.accounts.services import account_owners_set
from apps.accounts.tests.factories import AccountFactory
from apps.people.models import Rep
from apps.people.tests.factories import RepFactory
from apps.reporting.rollup_reads import from_history
from apps.reporting.rollups import rollups_check, rollups_rebuild
from apps.reporting.tests.test_rollups import NOW, page_cells
from apps.routing.models import RoutingDecision

pytestmark = pytest.mark.django_db
H = dt.timedelta(hours=1)
REASONS = ("out_of_office", "at_capacity", "unramped", "inactive")


def at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, tzinfo=dt.UTC)


@pytest.fixture
def routed(sdr, tia, manager, ops):
    manager.time_zone = "America/New_York"
    manager.save()
    ops.time_zone = "Asia/Kolkata"
    ops.save()
    other = RepFactory(role=Rep.Role.SDR, owner_name="Olga Other")  # another team: ops only
    reps = [sdr, tia, other]
    decisions = []
    for i in range(60):
        day, hour = 2 + i % 15, (i * 5) % 24  # every hour of the day: edges in every zone
        to = reps[i % 3] if i % 7 else None
        skipped = [{"rep_id": reps[(i + k + 1) % 3].pk, "rep": "x", "reason": REASONS[(i + k) % 4]} for k in range(i % 3)]
        if i % 11 == 0:
            skipped.append({"rep_id": sdr.pk, "rep": "x"})  # no reason recorded
        decisions.append(RoutingDecision.objects.create(rep=to, outcome="unmatched" if to is None else "rule",
                                                        skipped=skipped, decided_at=at(day, hour)))
    RoutingDecision.objects.bulk_create([RoutingDecision(rep=tia, outcome="rule", decided_at=at(9, h),
                                                         skipped=[{"rep_id": sdr.pk, "reason": "at_capacity"}])
                                         for h in (3, 4, 23)])
    # Changed afterwards: re-dated across midnight, given to another rep, skips rewritten, resolved, deleted.
    RoutingDecision.objects.filter(pk=decisions[1].pk).update(decided_at=at(12, 23) + 30 * dt.timedelta(minutes=1))
    RoutingDecision.objects.filter(pk=decisions[2].pk).update(rep=other)
    RoutingDecision.objects.filter(pk=decisions[4].pk).update(skipped=[{"rep_id": tia.pk, "reason": "inactive"}] * 2)
    RoutingDecision.objects.filter(pk=decisions[5].pk).update(skipped=[])
    RoutingDecision.objects.filter(pk=decisions[6].pk).update(resolved_at=at(17))  # no counted column
    RoutingDecision.objects.filter(pk__in=[decisions[8].pk, decisions[13].pk]).delete()
    with connection.cursor() as cursor:  # raw SQL, as an import or a repair would
        cursor.execute("UPDATE routing_routingdecision SET skipped = skipped || %s::jsonb WHERE id = %s",
                       [f'[{{"rep_id": {other.pk}, "reason": "unramped"}}]', decisions[10].pk])
    # Books: tiers, a re-owned account, a re-tiered one, a deleted one.
    accounts = [AccountFactory(owner=[sdr, tia, other, None][n % 4], tier="ABC "[n % 4].strip()) for n in range(14)]
    account_owners_set(changes=[(accounts[1].pk, sdr.pk)], reason=OwnershipReason.MANUAL)
    Account.objects.filter(pk=accounts[2].pk).update(tier="A")
    Account.objects.filter(pk=accounts[4].pk).delete()
    return {"sdr": sdr, "manager": manager, "ops": ops}


WINDOWS = [{"date_from": "2026-03-01", "date_to": "2026-03-19"}, {"date_from": "2026-03-09", "date_to": "2026-03-09"},
           {"date_from": "2026-03-05", "date_to": "2026-03-12"}]


@time_machine.travel(NOW, tick=False)
def test_fairness_cells_equal_the_computation_from_history(routed):
    assert rollups_check() == []
    checked = 0
    for who in ("ops", "manager", "sdr"):
        for window in WINDOWS:
            kept = page_cells(routed[who].user, "fairness", **window)
            with from_history():
                scratch = page_cells(routed[who].user, "fairness", **window)
            assert kept == scratch, (who, window)
            rows = kept["tables"]["statement"][1]
            checked += sum(int(cell) for row in rows for cell in row[6:10])
    assert checked > 40  # skips to compare, not only zeros
    with connection.cursor() as cursor:  # every kind of write reached the rollups
        cursor.execute("SELECT count(*) FROM reporting_routingskipday WHERE reason = '' AND skips > 0")
        assert cursor.fetchone()[0] > 0
    RoutingDecision.objects.all().delete()
    assert rollups_check() == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM reporting_routingdecisionday WHERE decisions <> 0")
        assert cursor.fetchone()[0] == 0


@time_machine.travel(NOW, tick=False)
def test_the_check_finds_a_broken_routing_day_and_the_rebuild_repairs_it(routed):
    with connection.cursor() as cursor:  # a restore, a repair with the triggers off
        cursor.execute("UPDATE reporting_routingskipday SET skips = skips + 1 WHERE id = (SELECT min(id) FROM reporting_routingskipday)")
        cursor.execute("DELETE FROM reporting_routingdecisionday WHERE id = (SELECT max(id) FROM reporting_routingdecisionday)")
    assert {d.table for d in rollups_check()} == {"routing skips per day", "routing decisions per day"}
    rollups_rebuild()
    assert rollups_check() == []
