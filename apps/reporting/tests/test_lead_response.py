from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from apps.people.models import Rep
from apps.people.tests.factories import ContactFactory, RepFactory
from apps.reporting.tests.conftest import csv_table, html_table, make_cycle, make_meeting

PERIOD = {"date_from": "2026-03-02", "date_to": "2026-03-08"}
H = dt.timedelta(hours=1)


def at(day: int, hour: int = 10, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=dt.UTC)


@pytest.fixture
def cycles(sdr, tia, ae):
    make_cycle(sdr, at(2), touch=at(2) + H)                                           # 1 h, working
    # 3 h; qualified by a Completed – Qualified meeting held in the next period: still this cohort's.
    qualified = make_cycle(sdr, at(3), touch=at(3) + 3 * H, done=at(10, 12), disposition="qualified")
    make_meeting(sdr=sdr, ae=ae, scheduled_at=at(10), cycle=qualified, status="completed_qualified")
    last_cohort = make_cycle(sdr, at(27, month=2), touch=at(27, 11, month=2))
    make_meeting(sdr=sdr, ae=ae, scheduled_at=at(3), cycle=last_cohort, status="completed_qualified")
    make_cycle(sdr, at(4), done=at(4, 11), disposition="unqualified", bypassed=True)   # bypass: picked up, no response
    make_cycle(sdr, at(5))                                                             # untouched
    recycled = ContactFactory()
    make_cycle(sdr, at(2), touch=at(2) + 2 * H, done=at(3), disposition="nurture", contact=recycled)
    make_cycle(sdr, at(6), touch=at(6) + 10 * H, contact=recycled, number=2, lead_type="outbound")
    make_cycle(tia, at(4), touch=at(4) + 5 * H, source="event")
    make_cycle(None, at(4))                                                            # unassigned: ops only
    make_cycle(sdr, at(9))                                                             # after the period


KEYS = ("Assigned", "Picked up", "Pick-up rate", "With a response", "Median response (h)", "P90 response (h)",
        "Qualified", "Qualified rate", "Dispositioned without touch")


def rows_of(html, key):
    table = html_table(html, key)
    col = {name: i for i, name in enumerate(table[0])}
    return {row[0]: [row[col[k]] for k in KEYS] for row in table[1:]}


def test_lead_response_definitions_worked_out(report, manager, cycles):
    html = report(manager, "lead-response", **PERIOD).content.decode()
    by_rep = rows_of(html, "by-rep")
    # Sam: 6 cycles (the recycled lead twice); 5 picked up (the bypass too) = 83.3%;
    # responses 1, 2, 3, 10 h → median 2.5, p90 3 + 0.7 × 7 = 7.9; 1 qualified of 5 picked up.
    assert by_rep["Sam Seller"] == ["6", "5", "83.3%", "4", "2.5", "7.9", "1", "20.0%", "1"]
    assert by_rep["Tia Teammate"] == ["1", "1", "100.0%", "1", "5.0", "5.0", "0", "0.0%", "0"]
    # Team: responses 1, 2, 3, 5, 10 → median 3, p90 5 + 0.6 × 5 = 8.
    assert by_rep["All"] == ["7", "6", "85.7%", "5", "3.0", "8.0", "1", "16.7%", "1"]
    assert "(unassigned)" not in by_rep
    by_source = rows_of(html, "by-source")
    assert by_source["Event"][:2] == ["1", "1"] and by_source["Inbound"][:2] == ["6", "5"]
    by_type = rows_of(html, "by-lead-type")
    assert by_type["Outbound"] == ["1", "1", "100.0%", "1", "10.0", "10.0", "0", "0.0%", "0"]
    assert by_type["Inbound"][0] == "6"


def test_lead_type_filter_and_zero_denominators(report, manager, cycles):
    html = report(manager, "lead-response", lead_type="target_account", **PERIOD).content.decode()
    by_rep = rows_of(html, "by-rep")
    assert by_rep["Sam Seller"] == ["0", "0", "—", "0", "—", "—", "0", "—", "0"]
    assert html_table(html, "by-source")[1:] == []
    assert "no data" in html
    html = report(manager, "lead-response", lead_type="outbound", **PERIOD).content.decode()
    assert rows_of(html, "by-rep")["Sam Seller"][:2] == ["1", "1"]


def test_ops_sees_unassigned_cycles_and_other_teams(report, ops, other_sdr, cycles):
    make_cycle(other_sdr, at(3))
    by_rep = rows_of(report(ops, "lead-response", **PERIOD).content.decode(), "by-rep")
    assert by_rep["(unassigned)"][0] == "1"
    assert by_rep["Olga Other"][0] == "1"
    assert by_rep["All"][0] == "9"


def test_lead_response_csv_equals_table(report, manager, cycles):
    html = report(manager, "lead-response", **PERIOD).content.decode()
    for key in ("by-rep", "by-source", "by-lead-type"):
        export = report(manager, "lead-response", export=key, **PERIOD).content.decode()
        assert csv_table(export) == html_table(html, key)


@pytest.mark.parametrize("per_rep", [1, 15])
def test_lead_response_query_count_is_bounded(report, manager, team, django_assert_max_num_queries, per_rep):
    for i in range(3):
        rep = RepFactory(role=Rep.Role.SDR, team=team, manager=manager, owner_name=f"Rep {i}")
        for j in range(per_rep):
            make_cycle(rep, at(3), touch=at(3) + j * H, source=["inbound", "event"][j % 2])
    report(manager, "lead-response", **PERIOD)
    with django_assert_max_num_queries(20):
        assert report(manager, "lead-response", **PERIOD).status_code == 200


@time_machine.travel(dt.datetime(2026, 3, 9, 12, tzinfo=dt.UTC), tick=False)
def test_sla_clock_and_breaches(report, manager, sdr):
    from apps.leads.models import SlaBreach

    day = dt.timedelta(days=1)
    # Touched 20 calendar hours later, but the business-hours policy clock counted 2 h: 2 h is used.
    make_cycle(sdr, at(2, 16), touch=at(3, 12), response_time=2 * H, sla_maximum_at=at(3, 16))
    # Calendar policy: 30 h, touched after the maximum (24 h) → a breach.
    make_cycle(sdr, at(3), touch=at(3) + 30 * H, response_time=30 * H, sla_maximum_at=at(3) + day)
    # Untouched, the maximum passed before now → a breach.
    make_cycle(sdr, at(5), sla_maximum_at=at(5) + day)
    # Dispositioned without a touch after the maximum → a breach; before it → not.
    make_cycle(sdr, at(6), done=at(7, 18), disposition="unqualified", bypassed=True, sla_maximum_at=at(7))
    make_cycle(sdr, at(6), done=at(6, 11), disposition="unqualified", bypassed=True, sla_maximum_at=at(7))
    # Untouched, maximum still ahead → not yet.
    make_cycle(sdr, at(8, 20), sla_maximum_at=at(9, 20))
    # Re-assigned by the SLA job (breach recorded), then touched in time by the new rep: one breach.
    late = make_cycle(sdr, at(8), touch=at(8, 11), response_time=H, sla_maximum_at=at(9))
    SlaBreach.objects.create(cycle=late, kind=SlaBreach.Kind.MAXIMUM, rep=sdr, assigned_at=at(7), due_at=at(8))
    html = report(manager, "lead-response", **PERIOD).content.decode()
    table = html_table(html, "by-rep")
    col = {name: i for i, name in enumerate(table[0])}
    sam = next(row for row in table if row[0] == "Sam Seller")
    # Responses 2 h, 30 h, 1 h → median 2, p90 2 + 0.8 × 28 = 24.4.
    assert [sam[col[k]] for k in ("Assigned", "With a response", "Median response (h)", "P90 response (h)", "SLA breaches")] == \
        ["7", "3", "2.0", "24.4", "4"]


def test_through_the_lifecycle_services_automated_touches_and_recycling(report, manager, sdr):
    """The numbers the services leave behind: an automated touch is not a response, a real
    call is; a recycled lead is a second cycle in the cohort."""
    from apps.cadences.services import activity_create
    from apps.leads.models import DispositionReason, LeadCycle
    from apps.leads.services import lead_cycle_disposition, lead_cycle_open

    contact = ContactFactory()
    with time_machine.travel(at(2, 9), tick=False):
        cycle = lead_cycle_open(contact=contact, rep=sdr, lead_type="inbound", source="inbound")
    with time_machine.travel(at(2, 10), tick=False):
        activity_create(rep=sdr, contact=contact, type="email", automated=True)
    cycle.refresh_from_db()
    assert cycle.state == LeadCycle.State.ASSIGNED
    assert rows_of(report(manager, "lead-response", **PERIOD).content.decode(), "by-rep")["Sam Seller"][:4] == \
        ["1", "0", "0.0%", "0"]
    with time_machine.travel(at(2, 12), tick=False):
        activity_create(rep=sdr, contact=contact, type="call")
    with time_machine.travel(at(3, 9), tick=False):
        reason = DispositionReason.objects.filter(disposition="nurture", active=True).first()
        lead_cycle_disposition(cycle=LeadCycle.objects.get(pk=cycle.pk), disposition="nurture", reason=reason)
    with time_machine.travel(at(4, 9), tick=False):
        lead_cycle_open(contact=contact, rep=sdr, lead_type="inbound", source="inbound")
    with time_machine.travel(at(9, 9), tick=False):
        rows = rows_of(report(manager, "lead-response", **PERIOD).content.decode(), "by-rep")
    # Two cycles (the recycle counts again); one picked up, answered 3 h after assignment.
    assert rows["Sam Seller"][:6] == ["2", "1", "50.0%", "1", "3.0", "3.0"]
