from __future__ import annotations

import datetime as dt

import pytest

from apps.people.models import Rep
from apps.people.tests.factories import ContactFactory, RepFactory
from apps.reporting.tests.conftest import csv_table, html_table, make_cycle

PERIOD = {"date_from": "2026-03-02", "date_to": "2026-03-08"}
H = dt.timedelta(hours=1)


def at(day: int, hour: int = 10, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=dt.UTC)


@pytest.fixture
def cycles(sdr, tia):
    make_cycle(sdr, at(2), touch=at(2) + H)                                           # 1 h, working
    make_cycle(sdr, at(3), touch=at(3) + 3 * H, done=at(10), disposition="qualified")  # 3 h, qualified next period
    make_cycle(sdr, at(4), done=at(4, 11), disposition="unqualified", bypassed=True)   # bypass: picked up, no response
    make_cycle(sdr, at(5))                                                             # untouched
    make_cycle(sdr, at(27, month=2), touch=at(2))                                      # last period's cohort
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
