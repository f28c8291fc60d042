from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from apps.people.models import Rep
from apps.people.tests.factories import RepFactory
from apps.reporting.tests.conftest import csv_table, html_table, make_accounts, make_meeting, make_opportunity

PERIOD = {"date_from": "2026-03-02", "date_to": "2026-03-08"}


def at(day, hour=10, month=3):
    return dt.datetime(2026, month, day, hour, tzinfo=dt.UTC)


KEYS = ("Meetings", "Cancelled / rescheduled", "Held", "No-shows", "No-show rate", "Qualified", "Qualified rate",
        "Late dispositions", "Not dispositioned")


def rows_of(html, key):
    table = html_table(html, key)
    col = {name: i for i, name in enumerate(table[0])}
    return {r[0]: [r[col[k]] for k in KEYS] for r in table[1:]}


@pytest.fixture
def meetings(sdr, tia, ae, team):
    eve = RepFactory(role=Rep.Role.AE, team=team, owner_name="Eve Smb", user__username="eve")
    for status, late in [("completed_qualified", False), ("completed_qualified", True), ("completed_unqualified", False),
                         ("no_show", False), ("cancelled", False), ("scheduled", False), ("rescheduled", False)]:
        make_meeting(sdr=sdr, ae=ae, scheduled_at=at(4), status=status, late=late)
    make_meeting(sdr=sdr, ae=ae, scheduled_at=at(10), status="completed_qualified")  # after the period
    make_meeting(sdr=tia, ae=ae, scheduled_at=at(5), status="no_show")
    make_meeting(sdr=tia, ae=eve, scheduled_at=at(6), status="completed_qualified")
    return eve


def test_meetings_by_sdr_and_ae_worked_out(report, manager, meetings):
    html = report(manager, "meetings", **PERIOD).content.decode()
    by_sdr = rows_of(html, "by-sdr")
    assert by_sdr["Sam Seller"] == ["7", "2", "3", "1", "25.0%", "2", "66.7%", "1", "1"]
    assert by_sdr["Tia Teammate"] == ["2", "0", "1", "1", "50.0%", "1", "100.0%", "0", "0"]
    assert by_sdr["All"] == ["9", "2", "4", "2", "33.3%", "3", "75.0%", "1", "1"]
    by_ae = rows_of(html, "by-ae")
    assert by_ae["Abe Closer"] == ["8", "2", "3", "2", "40.0%", "2", "66.7%", "1", "1"]
    assert by_ae["Eve Smb"] == ["1", "0", "1", "0", "0.0%", "1", "100.0%", "0", "0"]
    for key in ("by-sdr", "by-ae"):
        assert csv_table(report(manager, "meetings", export=key, **PERIOD).content.decode()) == html_table(html, key)


def test_meetings_scoping_and_empty(report, sdr, other_sdr, meetings, ae):
    make_meeting(sdr=other_sdr, ae=ae, scheduled_at=at(4), status="no_show")
    by_sdr = rows_of(report(sdr, "meetings", **PERIOD).content.decode(), "by-sdr")
    assert set(by_sdr) == {"Sam Seller", "All"}
    html = report(sdr, "meetings", date_from="2025-01-01", date_to="2025-01-07").content.decode()
    assert rows_of(html, "by-sdr")["Sam Seller"] == ["0", "0", "0", "0", "—", "0", "—", "0", "0"]


@pytest.fixture
def opportunities(sdr, tia, ae):
    account, = make_accounts(sdr, 1)
    money = Decimal
    make_opportunity(account=account, owner=ae, sourcing_sdr=sdr, stage="closed_won", amount=money("20000"),
                     created_at=at(15, month=1), pipeline_at=at(16, month=1))
    make_opportunity(account=account, owner=ae, sourcing_sdr=sdr, stage="closed_lost", amount=money("10000"),
                     created_at=at(20, month=1))
    make_opportunity(account=account, owner=ae, sourcing_sdr=sdr, stage="pipeline", amount=money("5000"),
                     created_at=at(3, month=2), pipeline_at=at(10, month=2))
    make_opportunity(account=account, owner=ae, sourcing_sdr=sdr, stage="closed_won", amount=money("30000"),
                     created_at=at(5, month=2), pipeline_at=at(3))
    make_opportunity(account=account, owner=ae, sourcing_sdr=tia, stage="meeting_completed", created_at=at(10, month=2))
    make_opportunity(account=account, owner=ae, sourcing_sdr=None, stage="pipeline", amount=money("99999"),
                     created_at=at(10, month=2), pipeline_at=at(11, month=2))  # not SDR-sourced


def test_conversion_by_cohort_and_pipeline_worked_out(report, manager, opportunities):
    html = report(manager, "conversion", date_from="2026-01-01", date_to="2026-03-08").content.decode()
    cohorts = html_table(html, "cohorts")
    assert cohorts[0] == ["SDR", "Month created", "Opportunities", "Won", "Lost", "Open", "Win rate", "Amount",
                          "Won amount", "Win rate by amount"]
    assert cohorts[1:] == [
        # Money reads with separators and the currency, on the page and in its CSV.
        ["Sam Seller", "2026-01", "2", "1", "1", "0", "50.0%", "$30,000", "$20,000", "66.7%"],
        ["Sam Seller", "2026-02", "2", "1", "0", "1", "50.0%", "$35,000", "$30,000", "85.7%"],
        ["Tia Teammate", "2026-02", "1", "0", "0", "1", "0.0%", "$0", "$0", "—"],
        ["All", "", "5", "2", "1", "2", "40.0%", "$65,000", "$50,000", "76.9%"],
    ]
    pipeline = {r[0]: r[1:] for r in html_table(html, "pipeline")[1:]}
    assert pipeline == {"Sam Seller": ["3", "$55,000"], "Tia Teammate": ["0", "$0"], "All": ["3", "$55,000"]}
    html = report(manager, "conversion", **PERIOD).content.decode()
    assert html_table(html, "cohorts")[1:] == []
    assert {r[0]: r[1:] for r in html_table(html, "pipeline")[1:]}["Sam Seller"] == ["1", "$30,000"]
    export = report(manager, "conversion", export="cohorts", date_from="2026-01-01", date_to="2026-03-08")
    assert csv_table(export.content.decode()) == cohorts


@pytest.mark.parametrize("n", [1, 6])
def test_meetings_and_conversion_query_counts_are_bounded(report, manager, sdr, ae, django_assert_max_num_queries, n):
    account, = make_accounts(sdr, 1)
    for i in range(n):
        make_meeting(sdr=sdr, ae=ae, scheduled_at=at(3), status="no_show")
        make_opportunity(account=account, owner=ae, sourcing_sdr=sdr, stage="pipeline", amount=Decimal(i),
                         created_at=at(3), pipeline_at=at(4))
    report(manager, "meetings", **PERIOD)
    with django_assert_max_num_queries(20):
        assert report(manager, "meetings", **PERIOD).status_code == 200
    with django_assert_max_num_queries(20):
        assert report(manager, "conversion", **PERIOD).status_code == 200
