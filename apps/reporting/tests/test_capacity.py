from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from apps.people.models import Rep
from apps.people.tests.factories import RepFactory
from apps.reporting.reports import capacity_plan
from apps.reporting.tests.conftest import csv_table, html_table


def test_capacity_formula_matches_the_worked_example():
    # 360,000 ÷ 20,000 = 18 closes; 18 ÷ 10% = 180 meetings a year; ÷ 12 = 15 a month.
    plan = capacity_plan(quota=Decimal("360000"), acv=Decimal("20000"), win_rate_pct=Decimal("10"))
    assert plan == {"closes": 18, "meetings_year": 180, "meetings_month": Decimal(15)}


def test_capacity_rounds_closes_and_meetings_up():
    # 100,000 ÷ 30,000 = 3.33 → 4 closes; 4 ÷ 15% = 26.67 → 27 meetings; 27 ÷ 12 = 2.25 a month.
    plan = capacity_plan(quota=Decimal("100000"), acv=Decimal("30000"), win_rate_pct=Decimal("15"))
    assert plan["closes"] == 4
    assert plan["meetings_year"] == 27
    assert plan["meetings_month"] == Decimal("2.25")


@time_machine.travel(dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC), tick=False)
def test_ramp_adjusted_targets_per_ramping_rep(report, manager, sdr, team):
    today = timezone.localdate()
    assert today == dt.date(2026, 3, 10)
    # Started 20 days ago: month 1 now (0%), month 2 on Apr 10 (50%), month 3 on May 10 (100%).
    RepFactory(role=Rep.Role.SDR, team=team, manager=manager, owner_name="Newbie Ramp", ramp_start=dt.date(2026, 2, 18))
    response = report(manager, "capacity")
    assert response.status_code == 200
    rows = html_table(response.content.decode(), "targets")
    assert rows[0] == ["SDR", "Ramp start", "Ramping", "Ramp 2026-03-10", "Target 2026-03-10", "Ramp 2026-04-10", "Target 2026-04-10",
                       "Ramp 2026-05-10", "Target 2026-05-10"]
    by_name = {row[0]: row for row in rows[1:]}
    # 15 meetings a month × 0 / 0.5 / 1 → 0, 7.5 rounded up to 8, 15.
    assert by_name["Newbie Ramp"][1:] == ["2026-02-18", "yes", "0%", "0", "50%", "8", "100%", "15"]
    assert by_name["Sam Seller"][1:] == ["—", "no", "100%", "15", "100%", "15", "100%", "15"]
    assert by_name["Team"][1:] == ["", "", "—", "15", "—", "23", "—", "30"]


@pytest.mark.django_db
def test_capacity_form_errors_are_reported_not_raised(report, manager):
    response = report(manager, "capacity", win_rate="0", acv="abc")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Win rate (%)" in html and "ACV" in html
    assert 'id="table-targets"' not in html


def test_capacity_csv_equals_table(report, manager, sdr):
    html = report(manager, "capacity", quota="120000").content.decode()
    export = report(manager, "capacity", quota="120000", export="targets")
    assert export["Content-Type"].startswith("text/csv")
    assert csv_table(export.content.decode()) == html_table(html, "targets")
