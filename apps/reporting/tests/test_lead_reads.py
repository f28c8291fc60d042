"""The lead rollups (apps.reporting.lead_reads) equal the count over the cycles themselves after
every kind of write the lifecycle makes: new, worked, dispositioned, re-assigned, re-typed,
marked and cleared as an exception, deleted."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from apps.leads.models import ExceptionReason, LeadCycle, LeadType
from apps.leads.services import lead_cycle_exception_clear, lead_cycle_exception_mark
from apps.reporting import balance
from apps.reporting.rollup_reads import from_history
from apps.reporting.rollups import rollups_check, rollups_rebuild
from apps.reporting.tests.conftest import make_cycle

H = dt.timedelta(hours=1)
T0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)


def both(rep_ids):
    kept = balance.open_inbound_leads(rep_ids=rep_ids)
    with from_history():
        scratch = balance.open_inbound_leads(rep_ids=rep_ids)
    return kept, scratch


@pytest.mark.django_db
def test_open_inbound_leads_follow_every_cycle_write(sdr, tia, manager):
    cycles = [make_cycle(rep, T0 + n * H, lead_type=["inbound", "outbound"][n % 2], touch=T0 + n * H if n % 3 == 1 else None,
                         done=T0 + 9 * H if n % 5 == 4 else None, disposition="unqualified" if n % 5 == 4 else "")
              for n, rep in enumerate([sdr, tia, sdr, None, tia, sdr, sdr, tia, None, sdr])]
    assert both(None)[0] == both(None)[1] and both(None)[0]
    LeadCycle.objects.filter(pk=cycles[0].pk).update(rep=tia)  # re-assigned
    LeadCycle.objects.filter(pk=cycles[2].pk).update(lead_type=LeadType.OUTBOUND)  # re-typed
    LeadCycle.objects.filter(pk=cycles[6].pk).update(state=LeadCycle.State.DISPOSITIONED, dispositioned_at=T0 + 20 * H,
                                                     disposition="qualified")
    LeadCycle.objects.filter(pk=cycles[8].pk).update(rep=sdr)  # the pool's cycle taken
    LeadCycle.objects.filter(pk=cycles[1].pk).delete()
    reason = ExceptionReason.objects.create(label="Lead-reads test")
    lead_cycle_exception_mark(cycle=LeadCycle.objects.get(pk=cycles[5].pk), reason=reason, actor=manager, at=T0)
    lead_cycle_exception_mark(cycle=LeadCycle.objects.get(pk=cycles[7].pk), reason=reason, actor=manager, at=T0)
    lead_cycle_exception_clear(cycle=LeadCycle.objects.get(pk=cycles[7].pk), actor=manager, at=T0)
    for rep_ids in (None, (sdr.pk,), (sdr.pk, tia.pk), ()):
        kept, scratch = both(rep_ids)
        assert kept == scratch, rep_ids
    assert rollups_check() == []



@pytest.mark.django_db
def test_off_hours_tables_from_arrival_facts_equal_history(sdr, tia, ops, manager):
    """Edges of the business day in two rep zones, a holiday, a re-assignment to a rep in
    another zone, a rep changing zone, a policy changing its hours, days and holiday country,
    a cycle losing its policy, an exception, a delete — viewed from zones whose midnight is not
    UTC midnight."""
    from apps.leads.models import SlaPolicy
    from apps.reporting.tests.test_rollups import page_cells

    sdr.time_zone, tia.time_zone = "America/New_York", "Europe/Berlin"
    sdr.save(update_fields=["time_zone"])
    tia.save(update_fields=["time_zone"])
    ops.time_zone, manager.time_zone = "Asia/Kolkata", "Pacific/Auckland"
    ops.save(update_fields=["time_zone"])
    manager.save(update_fields=["time_zone"])
    policy = SlaPolicy.objects.get(lead_type="inbound", source="", active=True)
    policy.holiday_country = "US"
    policy.save()
    day = dt.datetime(2026, 1, 16, 0, tzinfo=dt.UTC)  # Friday; Mon 19 Jan is a US holiday
    cycles = []
    for n in range(40):
        assigned = day + n * 3 * H + dt.timedelta(minutes=59 if n % 4 == 1 else 0)
        touch = assigned + (n % 7 + 1) * H if n % 5 else None
        cycles.append(make_cycle([sdr, tia][n % 2], assigned, touch=touch, source=["inbound", "event"][n % 2],
                                 response_time=(n % 3 + 1) * H if touch and n % 2 else None,
                                 lead_type="outbound" if n % 5 == 3 else "inbound"))
    # exactly on the edges: 09:00 and 17:00 in New York (UTC-5) and Berlin (UTC+1), then 08:30
    # and 18:00 (the policy's new hours) in New York and Tokyo (UTC+9), where tia moves
    for rep, hour, minute in [(sdr, 14, 0), (sdr, 22, 0), (tia, 8, 0), (tia, 16, 0), (sdr, 13, 30), (sdr, 23, 0),
                              (tia, 23, 30), (tia, 9, 0)]:
        for d in (0, 3, 4):  # Friday, the Monday holiday, Tuesday
            assigned = day + dt.timedelta(days=d, hours=hour, minutes=minute)
            make_cycle(rep, assigned, touch=assigned + 2 * H, source="inbound")
    LeadCycle.objects.update(sla_policy=policy)
    LeadCycle.objects.filter(pk=cycles[3].pk).update(created_at=cycles[3].assigned_at - 40 * H)  # came in earlier
    LeadCycle.objects.filter(pk=cycles[4].pk).update(rep=tia, assigned_at=cycles[4].assigned_at + 5 * H)  # re-assigned
    LeadCycle.objects.filter(pk=cycles[6].pk).update(sla_policy=None)
    LeadCycle.objects.filter(pk=cycles[8].pk).update(first_touch_at=cycles[8].assigned_at + 30 * H, bypassed_working=False)
    LeadCycle.objects.filter(pk=cycles[9].pk).delete()
    lead_cycle_exception_mark(cycle=LeadCycle.objects.get(pk=cycles[10].pk), reason=ExceptionReason.objects.create(
        label="Arrival test"), actor=manager, at=T0)
    windows = [{"date_from": "2026-01-15", "date_to": "2026-01-22"}, {"date_from": "2026-01-19", "date_to": "2026-01-19"},
               {"date_from": "2026-01-15", "date_to": "2026-01-22", "lead_type": "outbound"}]

    def compare():
        for who in (ops, manager, sdr):
            for window in windows:
                kept = page_cells(who.user, "lead-response", **window)
                with from_history():
                    scratch = page_cells(who.user, "lead-response", **window)
                assert kept == scratch, (who, window)
                assert kept["tables"]["off-hours-by-week"][1] or who is sdr and window != windows[0]
        assert rollups_check() == []

    compare()
    tia.time_zone = "Asia/Tokyo"  # the rep moved: their arrivals on another wall clock
    tia.save(update_fields=["time_zone"])
    policy.business_start, policy.business_end, policy.working_days = dt.time(8, 30), dt.time(18), "0,1,2,3"
    policy.holiday_country = "DE"
    policy.save()
    compare()
    with connection.cursor() as cursor:  # a broken fact (a restore, a repair with triggers off): found, repaired
        cursor.execute("UPDATE reporting_arrivalfact SET local_dow = (local_dow + 1) % 7 "
                       "WHERE id = (SELECT min(id) FROM reporting_arrivalfact)")
    assert {d.table for d in rollups_check()} == {"arrival facts"}
    rollups_rebuild()
    compare()
