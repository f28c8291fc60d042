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
    """Rae (SMB, ramp from 1 March: April is month 2, 50 %): 15 × 0.5 = 7.5 meetings; 3 held →
    40 %; due by day 16 of 30: 7.5 × 16 ÷ 30 = 4 → pace 75 %. Sam (fully ramped) has his
    manager's April target of 20: 10 held → 50 %, pace 10 ÷ (20 × 16 ÷ 30) = 94 %. Eve
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
                                                "Meetings held pace")] == ["7.5", "3.0", "40%", "75%"]
    assert [rows["Sam Seller"][col[c]] for c in ("Targets", "Meetings held target", "Meetings held attained",
                                                  "Meetings held pace")] == ["set for the month", "20.0", "50%", "94%"]
    assert [rows["Eve Enterprise"][col[c]] for c in ("Meetings held target", "SAOs target")] == ["15.0", "4.0"]
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
    assert "10 of 20.0 (50.0%; pace 93.8%)" in scorecard.content.decode()
    dashboard = report(manager, "team-dashboard", date_from="2026-04-01", date_to="2026-04-16")
    assert html_table(dashboard.content.decode(), "attainment")[1][0] == "Eve Enterprise"


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
