"""Exceptions leave every number (issue 22 item 4), worked by hand.

Sam's week (2-8 March 2026), four inbound cycles, all with an SLA maximum 4 h after assignment:
  c1  assigned 2 Mar 10:00, touched +1 h, Completed – Qualified meeting, campaign Spring
  c2  assigned 3 Mar 10:00, touched +3 h, Completed – Qualified meeting
  c3  assigned 4 Mar 10:00, touched +5 h (past the maximum: a breach, and an SlaBreach row),
      Completed – Qualified meeting, campaign Spring, enrolled in a cadence
  c4  assigned 5 Mar 10:00, never touched, nurtured 6 Mar 16:00 (bypass; untouched past the
      maximum: a breach)
Counted: assigned 4, picked up 4, responded 3 (1, 3, 5 h → median 3 h), qualified 3 (3 ÷ 4 =
75%), breaches 2, without touch 1. A manager marks c3 and c4 exceptions: assigned 2, picked up
2, responded 2 (1, 3 h → median 2 h), qualified 2 (100%), breaches 0, without touch 0.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine

from apps.cadences.models import Enrolment
from apps.cadences.tests.factories import CadenceFactory
from apps.leads.models import ExceptionReason, SlaBreach
from apps.leads.services import lead_cycle_exception_clear, lead_cycle_exception_mark
from apps.reporting.tests.conftest import html_table, make_cycle, make_meeting
from sdrops.api.scope import Scope

pytestmark = pytest.mark.django_db
H = dt.timedelta(hours=1)


def at(day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, tzinfo=dt.UTC)


@pytest.fixture
def week(sdr, ae):
    c1 = make_cycle(sdr, at(2), touch=at(2) + H, sla_maximum_at=at(2) + 4 * H, campaign="Spring")
    c2 = make_cycle(sdr, at(3), touch=at(3) + 3 * H, sla_maximum_at=at(3) + 4 * H)
    c3 = make_cycle(sdr, at(4), touch=at(4) + 5 * H, sla_maximum_at=at(4) + 4 * H, campaign="Spring")
    c4 = make_cycle(sdr, at(5), done=at(6, 16), disposition="nurture", bypassed=True, sla_maximum_at=at(5) + 4 * H)
    for cycle in (c1, c2, c3):
        make_meeting(sdr=sdr, ae=ae, scheduled_at=cycle.assigned_at + 24 * H, cycle=cycle, status="completed_qualified")
    SlaBreach.objects.create(cycle=c3, kind=SlaBreach.Kind.MAXIMUM, rep=sdr, assigned_at=c3.assigned_at,
                             due_at=c3.sla_maximum_at, breached_at=c3.sla_maximum_at)
    Enrolment.objects.create(contact=c3.contact, cadence=CadenceFactory(lead_type="inbound"), rep=sdr, lead_cycle=c3,
                             enrolled_at=at(4, 16))
    return c1, c2, c3, c4


def numbers(sdr, manager) -> dict:
    """Every selector that counts lead cycles, for Sam's week."""
    from apps.campaigns.nurture_report import in_nurture_rows
    from apps.campaigns.report_selectors import campaign_rows
    from apps.leads.selectors import lead_response_by_rep
    from apps.reporting import selectors as s
    from apps.reporting.reports.cadences import cadence_summary
    from apps.reporting.reports.sales import meetings_by
    from apps.workspace.selectors import home_for

    scope = Scope(user=manager.user, date_from=dt.date(2026, 3, 2), date_to=dt.date(2026, 3, 8), start=at(2, 0),
                  end=at(9, 0), rep_ids=(sdr.pk,))
    total = s.cohort_stats(scope=scope, breakdowns=("rep", "source"))["total"][0]
    tiers = s.funnel_by_tier(scope=scope)
    by_rep = lead_response_by_rep(rep_ids=[sdr.pk], start=scope.start, end=scope.end)[sdr.pk]
    spring = [r for r in campaign_rows(scope=scope)]
    nurture = [r for r in in_nurture_rows(scope=scope) if r["g_reason"]]
    with time_machine.travel(at(9), tick=False):
        headline = next(b for b in home_for(user=manager.user)[1] if b.key == "headline").rows[0]
        escalations = next(b for b in home_for(user=manager.user, now=at(4, 20))[1] if b.key == "escalations").count
    return {
        "cohort": [total[k] for k in ("assigned", "picked_up", "responded", "qualified", "breaches", "no_touch")],
        "median_h": total["median_s"] / 3600,
        "tier_funnel": [sum(r["mql"] for r in tiers), sum(r["sql"] for r in tiers)],
        "rep_lead_response": [by_rep.assigned, by_rep.picked_up, by_rep.bypassed, by_rep.breaches],
        "campaign": [(r["name"], r["leads"], r["sql"]) for r in spring],
        "in_nurture": nurture[0]["leads"] if nurture else 0,
        "meetings_held": meetings_by(scope=scope, who="sdr")[0]["held"],
        "cadence_enrolments": sum(r["enrolments"] for r in cadence_summary(scope=scope)),
        "home_headline": [headline["leads"], headline["qualified"]],
        "home_escalations": escalations,
    }


def test_marked_cycles_leave_every_number_and_come_back_when_cleared(sdr, manager, week):
    _c1, _c2, c3, c4 = week
    before = numbers(sdr, manager)
    assert before == {
        "cohort": [4, 4, 3, 3, 2, 1], "median_h": 3.0, "tier_funnel": [4, 3], "rep_lead_response": [4, 4, 1, 1],
        "campaign": [("Spring", 2, 2)], "in_nurture": 1, "meetings_held": 3, "cadence_enrolments": 1,
        "home_headline": [4, 0], "home_escalations": 1,
    }
    reason = ExceptionReason.objects.get(label="New market handled by hand")
    for cycle in (c3, c4):
        lead_cycle_exception_mark(cycle=cycle, reason=reason, note="Nordics pilot", actor=manager)
    after = numbers(sdr, manager)
    assert after == {
        "cohort": [2, 2, 2, 2, 0, 0], "median_h": 2.0, "tier_funnel": [2, 2], "rep_lead_response": [2, 2, 0, 0],
        "campaign": [("Spring", 1, 1)], "in_nurture": 0, "meetings_held": 2, "cadence_enrolments": 0,
        "home_headline": [2, 0], "home_escalations": 0,
    }
    for cycle in (c3, c4):
        lead_cycle_exception_clear(cycle=cycle, actor=manager)
    assert numbers(sdr, manager) == before


def test_pages_show_the_smaller_numbers_and_the_exceptions_report_lists_them(report, sdr, manager, week):
    *_rest, c3, c4 = week
    reason = ExceptionReason.objects.get(label="Test or internal lead")
    lead_cycle_exception_mark(cycle=c3, reason=reason, note="our own CFO", actor=manager)
    period = {"date_from": "2026-03-02", "date_to": "2026-03-08"}
    html = report(manager, "scorecard", rep=sdr.pk, **period).content.decode()
    rows = {r[0]: r[1] for r in html_table(html, "scorecard")[1:]}
    # c1, c2, c4 counted: qualified 2 of 3 picked up; one breach (c4); median of 1 and 3 h.
    assert (rows["MQLs"], rows["SQLs"], rows["Qualified rate"], rows["SLA breaches"], rows["Median response (h)"]) == \
        ("3", "2", "66.7%", "1", "2.0")
    response = report(manager, "exceptions", **period)
    by_reason = html_table(response.content.decode(), "by-reason")
    assert by_reason[1][:3] == ["Test or internal lead", "1", "1"]
    listed = html_table(response.content.decode(), "cycles")
    assert listed[1][2] == str(c3.contact) and listed[1][8:] == ["Working", "Test or internal lead", "our own CFO",
                                                                  manager.user.get_full_name() or "mona"]
    assert c4.exception_at is None
    csv = report(manager, "exceptions", export="by-reason", **period)
    assert "Test or internal lead,1,1" in csv.content.decode()


def test_exceptions_page_runs_the_same_queries_for_one_or_many(report, sdr, manager):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    reason = ExceptionReason.objects.get(label="Routing or data fault")
    period = {"date_from": "2026-03-02", "date_to": "2026-03-08"}
    counts = []
    for days in ((2,), (3, 4, 5)):  # one exception, then four
        for day in days:
            lead_cycle_exception_mark(cycle=make_cycle(sdr, at(day)), reason=reason, actor=manager)
        report(manager, "exceptions", **period)  # log in, warm the caches
        with CaptureQueriesContext(connection) as queries:
            html = report(manager, "exceptions", **period).content.decode()
        counts.append(len(queries))
    assert len(html_table(html, "cycles")) == 1 + 4
    assert counts[0] == counts[1]


def test_the_list_shows_the_newest_and_links_the_lead_cycles_admin_for_the_rest(report, client, sdr, manager,
                                                                               monkeypatch):
    from apps.reporting.reports import exceptions as page

    monkeypatch.setattr(page, "LIST_LIMIT", 2)
    reason = ExceptionReason.objects.get(label="Routing or data fault")
    marked = [make_cycle(sdr, at(day)) for day in (2, 3, 4)]
    for cycle in marked:
        lead_cycle_exception_mark(cycle=cycle, reason=reason, actor=manager)
    counted = make_cycle(sdr, at(5))  # in the period, not an exception
    outside = make_cycle(sdr, at(20))  # an exception outside the period
    lead_cycle_exception_mark(cycle=outside, reason=reason, actor=manager)
    html = report(manager, "exceptions", date_from="2026-03-02", date_to="2026-03-08").content.decode()
    # The counts stay exact; the list is the newest two, with the note and the link.
    assert html_table(html, "by-reason")[1][:2] == ["Routing or data fault", "3"]
    assert len(html_table(html, "cycles")) == 1 + 2
    assert "The newest 2 of 3 are listed." in html
    url = re.search(r'<a href="([^"]+)" id="more-cycles"', html).group(1).replace("&amp;", "&")
    response = client.get(url)
    assert response.status_code == 200  # the admin redirects to ?e=1 on a lookup it refuses
    changelist = response.content.decode()
    for cycle in marked:
        assert f"/leadcycle/{cycle.pk}/change/" in changelist
    for cycle in (counted, outside):
        assert f"/leadcycle/{cycle.pk}/change/" not in changelist


def test_no_link_when_every_exception_is_listed(report, sdr, manager):
    reason = ExceptionReason.objects.get(label="Routing or data fault")
    lead_cycle_exception_mark(cycle=make_cycle(sdr, at(2)), reason=reason, actor=manager)
    html = report(manager, "exceptions", date_from="2026-03-02", date_to="2026-03-08").content.decode()
    assert 'id="more-cycles"' not in html and "are listed" not in html
