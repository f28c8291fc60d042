"""Issue 18 pages: targets and attainment, and the fairness statement — hand-worked numbers,
scope (an SDR sees only their own statement), bounded queries, CSV and the API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from apps.integrations.services import integration_create
from apps.meetings.tests.factories import MeetingFactory
from apps.people.models import Contact, Rep
from apps.people.tests.factories import ContactFactory, RepFactory
from apps.reporting.models import RepTarget
from apps.reporting.targets import attainment_rows
from apps.reporting.tests.conftest import csv_table, html_table
from apps.routing.services import lead_route
from apps.routing.tests.factories import rule_with

pytestmark = pytest.mark.django_db

APRIL_16 = dt.datetime(2026, 4, 16, 12, tzinfo=dt.UTC)  # day 16 of 30


def held(rep, n, day=3):
    for i in range(n):
        at = dt.datetime(2026, 4, day, 9 + i % 8, tzinfo=dt.UTC)
        MeetingFactory(sdr=rep, scheduled_at=at, status="completed_qualified", dispositioned_at=at + dt.timedelta(hours=1))


@time_machine.travel(APRIL_16, tick=False)
def test_attainment_is_ramp_adjusted_with_pace(report, manager, sdr, team):
    """Rae (SMB, ramp from 1 March: April is month 2, 50 %): 15 × 0.5 = 7.5 → 8 meetings (rounded
    up to whole); 3 held → 37.5 % (shown 38 %); expected by day 16 of 30: 8 × 16 ÷ 30 = 4.27 → 4, so
    3 is behind; pace 3 ÷ 4.27 = 70 %. Sam (fully ramped) has his manager's April target of 20:
    10 held → 50 %; expected 20 × 16 ÷ 30 = 10.67 → 11: behind, pace 10 ÷ 10.67 = 94 %. Eve
    (Enterprise: 45 a quarter) has 15 a month and 4 SAOs (12 ÷ 3)."""
    Rep.objects.filter(pk=sdr.pk).update(segment="smb")
    rae = RepFactory(role=Rep.Role.SDR, team=team, manager=manager, owner_name="Rae Ramp", segment="smb",
                     ramp_start=dt.date(2026, 3, 1))
    eve = RepFactory(role=Rep.Role.SDR, team=team, manager=manager, owner_name="Eve Enterprise", segment="enterprise")
    RepTarget.objects.create(rep=sdr, month=dt.date(2026, 4, 1), meetings_held=20, saos=4, pipeline=Decimal("80000"))
    held(rae, 3)
    held(sdr, 10)
    response = report(manager, "attainment")
    assert response.status_code == 200
    html = response.content.decode()
    rows = {r[0]: r for r in html_table(html, "attainment")[1:]}
    header = html_table(html, "attainment")[0]
    col = {name: i for i, name in enumerate(header)}
    assert rows["Rae Ramp"][col["Ramp"]] == "50%"
    assert [rows["Rae Ramp"][col[c]] for c in ("Meetings held target", "Meetings held so far", "Meetings held attained",
                                                "Meetings held expected by today", "Meetings held pace",
                                                "Meetings held pace %")] == ["8", "3", "38%", "4", "behind", "70%"]
    assert [rows["Sam Seller"][col[c]] for c in ("Targets", "Meetings held target", "Meetings held attained",
                                                  "Meetings held expected by today", "Meetings held pace",
                                                  "Meetings held pace %")] == ["set for the month", "20", "50%", "11", "behind", "94%"]
    assert [rows["Eve Enterprise"][col[c]] for c in ("Meetings held target", "SAOs target")] == ["15", "4"]
    assert "18 closes" in html and "180 meetings a year" in html  # the planner's 360,000 / 20,000 / 10 %
    export = report(manager, "attainment", export="attainment")
    assert [r[0] for r in csv_table(export.content.decode())[1:]] == ["Eve Enterprise", "Rae Ramp", "Sam Seller"]
    # Bounded: the same statements for 3 reps as for 13.
    with CaptureQueriesContext(connection) as few:
        attainment_rows(rep_ids=[sdr.pk, rae.pk, eve.pk], month=dt.date(2026, 4, 1))
    more = [RepFactory(role=Rep.Role.SDR, team=team).pk for _ in range(10)]
    with CaptureQueriesContext(connection) as many:
        attainment_rows(rep_ids=[sdr.pk, rae.pk, eve.pk, *more], month=dt.date(2026, 4, 1))
    assert len(few) == len(many) == 1
    scorecard = report(manager, "scorecard", rep=sdr.pk, date_from="2026-04-01", date_to="2026-04-16")
    assert "10 of 20 (50.0%; pace 93.8%)" in scorecard.content.decode()
    dashboard = report(manager, "team-dashboard", date_from="2026-04-01", date_to="2026-04-16")
    assert html_table(dashboard.content.decode(), "attainment")[1][0] == "Eve Enterprise"


@time_machine.travel(dt.datetime(2026, 5, 20, 12, tzinfo=dt.UTC), tick=False)
def test_a_ramping_sdrs_targets_are_whole_meetings(sdr, team, manager):
    """Ray's ramp started on 18 March: 1-17 May is his month 2 (50 %), from the 18th month 3
    (100 %): the mean over May's 31 days is (17 × 0.5 + 14) ÷ 31 = 0.7258, so 15 × 0.7258 =
    10.89 meetings — 11 (it used to read 10.9) — and 5 × 0.7258 = 3.63 SAOs → 4; pipeline stays
    in cents: 100,000 × 0.7258 = 72,580.00. Expected by the 20th: 11 × 20 ÷ 31 = 7.10 → 7;
    7 held is on pace, 8 ahead."""
    ray = RepFactory(role=Rep.Role.SDR, team=team, manager=manager, owner_name="Ray Ramp", ramp_start=dt.date(2026, 3, 18))
    for i in range(7):
        at = dt.datetime(2026, 5, 4, 9 + i, tzinfo=dt.UTC)
        MeetingFactory(sdr=ray, scheduled_at=at, status="completed_qualified", dispositioned_at=at + dt.timedelta(hours=1))
    [row] = attainment_rows(rep_ids=[ray.pk], month=dt.date(2026, 5, 1))
    assert row["ramp"] == 0.7258
    assert (row["meetings_held_target"], row["saos_target"], row["pipeline_target"]) == (
        Decimal("11"), Decimal("4"), Decimal("72580.00"))
    assert (row["meetings_held_expected"], row["meetings_held_status"]) == (Decimal("7"), "on pace")
    at = dt.datetime(2026, 5, 5, 9, tzinfo=dt.UTC)
    MeetingFactory(sdr=ray, scheduled_at=at, status="completed_qualified", dispositioned_at=at + dt.timedelta(hours=1))
    [row] = attainment_rows(rep_ids=[ray.pk], month=dt.date(2026, 5, 1))
    assert row["meetings_held_status"] == "ahead"


@time_machine.travel(dt.datetime(2026, 5, 1, 15, tzinfo=dt.UTC), tick=False)
def test_pace_on_the_first_of_the_month_is_early_not_207_percent(client, sdr, team, manager):
    """1 meeting of 15 on 1 May: so far ÷ due by today = 1 ÷ (15 × 1 ÷ 31) = 207 % — true, and
    loud. Before day 7 the pages say "early in the month" with the number expected by today
    (15 × 1 ÷ 31 = 0.48 → 0) and no percentage; from day 7 they judge it."""
    at = dt.datetime(2026, 5, 1, 9, tzinfo=dt.UTC)
    MeetingFactory(sdr=sdr, scheduled_at=at, status="completed_qualified", dispositioned_at=at + dt.timedelta(hours=1))
    [row] = attainment_rows(rep_ids=[sdr.pk], month=dt.date(2026, 5, 1))
    assert (row["meetings_held_target"], row["meetings_held_done"], row["meetings_held_expected"]) == (
        Decimal("15"), Decimal("1"), Decimal("0"))
    assert row["meetings_held_pace"] is None and row["meetings_held_status"] == "early"
    client.force_login(manager.user)
    html = client.get("/admin/").content.decode()
    box = html[html.index('id="home-attainment"'):]
    box = box[:box.index("</table>")]
    assert "early in the month" in box and "0 expected by today" in box and "%" not in box.split("ramping")[0]
    [row] = attainment_rows(rep_ids=[sdr.pk], month=dt.date(2026, 5, 1), today=dt.date(2026, 5, 7))
    # Day 7: expected 15 × 7 ÷ 31 = 3.39 → 3; 1 held is behind, pace 1 ÷ 3.39 = 30 %.
    assert (row["meetings_held_expected"], row["meetings_held_status"]) == (Decimal("3"), "behind")
    assert round(row["meetings_held_pace"], 2) == 0.30

def lead(email):
    return ContactFactory(email=email, account=None, source=Contact.Source.INBOUND)


@pytest.fixture
def routed(sdr, tia):
    """Sam and Tia rotate; 4 leads go 2 / 2; Tia is away for the next 2, which go to Sam."""
    rule_with([sdr, tia])
    for i in range(4):
        lead_route(contact=lead(f"a{i}@before{i}.com"))
    Rep.objects.filter(pk=tia.pk).update(out_of_office_from=timezone.localdate() - dt.timedelta(days=1))
    for i in range(2):
        lead_route(contact=lead(f"b{i}@away{i}.com"))
    Rep.objects.filter(pk=tia.pk).update(out_of_office_from=None)


def test_fairness_statement_side_by_side_for_the_manager(report, manager, sdr, tia, routed):
    """Turns: Sam 4, Tia 2 of the team's 6; equal weights → fair share 50 %, 3 fair turns
    each; Tia was skipped twice as out of office (and the skips list says who got them)."""
    response = report(manager, "fairness")
    assert response.status_code == 200
    html = response.content.decode()
    table = html_table(html, "statement")
    col = {name: i for i, name in enumerate(table[0])}
    rows = {r[0]: r for r in table[1:]}
    assert [rows["Sam Seller"][col[c]] for c in ("Turns", "Fair turns", "Share", "Fair share", "Skipped: out of office",
                                                  "Gained: routed")] == ["4", "3.0", "66.7%", "50.0%", "0", "4"]
    assert [rows["Tia Teammate"][col[c]] for c in ("Turns", "Share", "Skipped: out of office")] == ["2", "33.3%", "2"]
    skips = html_table(html, "skips")
    assert [(r[1], r[2], r[4]) for r in skips[1:]] == [("Tia Teammate", "out of office", "Sam Seller")] * 2


def test_fairness_statement_sdr_sees_only_their_own_also_in_the_api(report, sdr, tia, routed):
    table = html_table(report(tia, "fairness").content.decode(), "statement")
    assert [r[0] for r in table[1:]] == ["Tia Teammate"]
    _, token = integration_create(name="fair-tia", user=tia.user, scopes=["read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    data = client.get("/api/reports/fairness/").json()
    statement = next(t for t in data["tables"] if t["key"] == "statement")
    assert [r["rep"] for r in statement["rows"]] == ["Tia Teammate"]
    assert statement["rows"][0]["turns"] == 2 and statement["rows"][0]["skip_out_of_office"] == 2


def test_fairness_statement_queries_are_bounded(report, manager, sdr, tia, routed, team):
    """The page's statements do not grow with the team: 2 SDRs or 8."""
    report(manager, "fairness")  # the session and the caches warm
    with CaptureQueriesContext(connection) as few:
        report(manager, "fairness")
    for _ in range(6):
        RepFactory(role=Rep.Role.SDR, team=team, manager=manager)
    report(manager, "fairness")  # new users' groups moved the configuration version: caches warm again
    with CaptureQueriesContext(connection) as many:
        response = report(manager, "fairness")
    assert len(html_table(response.content.decode(), "statement")) == 1 + 8
    assert len(few) == len(many)
