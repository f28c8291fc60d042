"""The campaign report, with every figure worked out by hand from the rows below.

Period 2026-03-02 … 03-08. Team East: Sam Seller (sdr) and Tia Teammate; Olga Other is West.

Webinar (cost 6,000), four East leads and one West lead:
  w1 Sam, touched +1 h, qualified meeting → opp A 30,000 in pipeline, closed won; cadence ended positive
  w2 Sam, touched +3 h, qualified meeting → opp B 10,000 in pipeline, open
  w3 Tia, touched +2 h, nurtured; its cadence dispositioned after 1 step done (early abandon)
  w4 Sam, untouched
  w5 Olga (West), untouched
Tradeshow (source event, cost 1,000): t1 Tia, touched +1 h.
Not with a campaign (inbound / inbound, like the webinar's): n1 Sam, qualified meeting → opp C in
pipeline, closed won; n2, n3 Tia touched; n4 Tia untouched; x1 Sam — but x1's contact registered for
the webinar (an interaction without a cycle), so x1 is not in the webinar's similar cohort.

Manager (East) — Webinar: leads 4, picked up 3 (75.0%), median response of 1, 3, 2 h = 2.0,
SQL 2 (qualified rate 2/3 = 66.7%), held 2, opportunities 2, pipeline $40,000, won 1
(30000.00); cost per opportunity not shown (team filter). Similar cohort: n1-n4 = 4 leads,
1 SQL, 1 Opp, 1 won → 25.0% / 100.0% / 25.0% / 25.0%; webinar 50.0% / 100.0% / 50.0% / 25.0%;
lift 25.0 pts. Tradeshow: 1 lead, similar cohort (inbound / event, none else) 0.
Ops (everyone): Webinar leads 5, picked up 60.0%, cost per opportunity $3,000, per won $6,000.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from apps.campaigns.models import CampaignInteraction
from apps.campaigns.tests.factories import CampaignFactory
from apps.reporting.tests.conftest import csv_table, html_table, make_cycle, make_meeting, make_opportunity

PERIOD = {"date_from": "2026-03-02", "date_to": "2026-03-08"}
H = dt.timedelta(hours=1)


def at(day, hour=10):
    return dt.datetime(2026, 3, day, hour, tzinfo=dt.UTC)


def enrol(cycle, state, steps_done):
    from apps.cadences.models import Enrolment, EnrolmentStep
    from apps.cadences.tests.factories import cadence_with_steps

    cadence = cadence_with_steps(lead_type="inbound")
    enrolment = Enrolment.objects.create(contact=cycle.contact, cadence=cadence, rep=cycle.rep, lead_cycle=cycle,
                                         state=state, enrolled_at=cycle.assigned_at, ended_at=cycle.assigned_at + 24 * H)
    for step in cadence.steps.order_by("position"):
        outcome = "no_response" if step.position <= steps_done else "pending"
        EnrolmentStep.objects.create(enrolment=enrolment, step=step, position=step.position, channel=step.channel,
                                     due_at=cycle.assigned_at, outcome=outcome,
                                     ended_at=cycle.assigned_at + H if outcome != "pending" else None)


def qualified_deal(cycle, ae, *, amount, stage):
    opp = make_opportunity(account=cycle.contact.account, owner=ae, sourcing_sdr=cycle.rep, stage=stage, amount=amount,
                           created_at=cycle.assigned_at + 30 * H, pipeline_at=cycle.assigned_at + 40 * H)
    make_meeting(sdr=cycle.rep, ae=ae, scheduled_at=cycle.assigned_at + 24 * H, cycle=cycle,
                 status="completed_qualified", opportunity=opp)
    return opp


@pytest.fixture
def campaigns(sdr, tia, other_sdr, ae):
    webinar = CampaignFactory(name="Webinar", offer="webinar", cost=6000)
    CampaignFactory(name="Tradeshow", offer="event", source="event", cost=1000)
    w1 = make_cycle(sdr, at(2), touch=at(2) + H, campaign="Webinar")
    qualified_deal(w1, ae, amount=30000, stage="closed_won")
    enrol(w1, "positive", 1)
    w2 = make_cycle(sdr, at(3), touch=at(3) + 3 * H, campaign="Webinar")
    qualified_deal(w2, ae, amount=10000, stage="pipeline")
    w3 = make_cycle(tia, at(3), touch=at(3) + 2 * H, done=at(4), disposition="nurture", campaign="Webinar")
    enrol(w3, "dispositioned", 1)
    make_cycle(sdr, at(4), campaign="Webinar")
    make_cycle(other_sdr, at(4), campaign="Webinar")
    make_cycle(tia, at(5), touch=at(5) + H, source="event", campaign="Tradeshow")
    n1 = make_cycle(sdr, at(2), touch=at(2) + H)
    qualified_deal(n1, ae, amount=5000, stage="closed_won")
    make_cycle(tia, at(3), touch=at(3) + H)
    make_cycle(tia, at(4), touch=at(4) + H)
    make_cycle(tia, at(5))
    x1 = make_cycle(sdr, at(5), touch=at(5) + H)
    CampaignInteraction.objects.create(campaign=webinar, contact=x1.contact, occurred_at=at(1))
    make_cycle(sdr, at(12), campaign="Webinar")  # after the period


def rows_of(table):
    header = table[0]
    return {row[0]: dict(zip(header, row, strict=True)) for row in table[1:]}


def test_campaign_report_worked_out_for_a_manager(report, manager, campaigns):
    html = report(manager, "campaigns", **PERIOD).content.decode()
    funnel = rows_of(html_table(html, "by-campaign"))
    web = funnel["Webinar"]
    assert [web[k] for k in ("Offer", "Leads", "Picked up", "Pick-up rate", "Median response (h)", "Cadence completed",
                             "Abandoned early", "Qualified", "Qualified rate", "Meetings held", "Opportunities",
                             "Pipeline", "Won", "Won amount", "Cost", "Cost per opportunity", "Cost per won deal")] == [
        "Webinar", "4", "3", "75.0%", "2.0", "1", "1", "2", "66.7%", "2", "2", "$40,000", "1", "$30,000",
        "$6,000", "—", "—"]
    assert [funnel["Tradeshow"][k] for k in ("Leads", "Picked up", "Qualified", "Opportunities")] == ["1", "1", "0", "0"]
    compare = rows_of(html_table(html, "vs-similar"))
    assert [compare["Webinar"][k] for k in (
        "Matched on (lead type / source)", "Leads", "Cohort leads", "MQL→SQL", "Cohort MQL→SQL", "SQL→Opp",
        "Cohort SQL→Opp", "MQL→Opp", "Cohort MQL→Opp", "MQL→Won", "Cohort MQL→Won", "Lift (pts)")] == [
        "inbound / inbound", "4", "4", "50.0%", "25.0%", "100.0%", "100.0%", "50.0%", "25.0%", "25.0%", "25.0%", "25.0"]
    assert [compare["Tradeshow"][k] for k in ("Cohort leads", "Cohort MQL→Opp", "Lift (pts)")] == ["0", "—", "—"]
    # The chart plots the same rates in percent (its axis says "%"): 50% against 25%, not 0.5 and 0.25.
    chart = json.loads(re.search(r'id="report-chart-data"[^>]*>(.*?)</script>', html, re.S).group(1))
    webinar = chart["labels"].index("Webinar")
    assert [d["data"][webinar] for d in chart["datasets"]] == [50.0, 25.0] and chart["percent"]
    # The page says what "similar" means and why the cost columns are empty.
    assert "whose contact never interacted with that campaign" in html
    assert "a team&#x27;s share of the spend is not recorded" in html or "a team's share of the spend is not recorded" in html
    assert "Olga" not in html
    for key in ("by-campaign", "vs-similar"):
        exported = csv_table(report(manager, "campaigns", export=key, **PERIOD).content.decode())
        assert exported == html_table(html, key)


def test_ops_sees_every_team_and_the_cost_per_deal(report, ops, campaigns):
    html = report(ops, "campaigns", **PERIOD).content.decode()
    web = rows_of(html_table(html, "by-campaign"))["Webinar"]
    assert [web[k] for k in ("Leads", "Pick-up rate", "Cost per opportunity", "Cost per won deal")] == [
        "5", "60.0%", "$3,000", "$6,000"]


def test_an_sdr_sees_only_their_own_leads(report, sdr, campaigns):
    html = report(sdr, "campaigns", **PERIOD).content.decode()
    funnel = rows_of(html_table(html, "by-campaign"))
    assert list(funnel) == ["Webinar"]  # w1, w2, w4 are Sam's; Tia's tradeshow lead is not
    assert [funnel["Webinar"][k] for k in ("Leads", "Picked up", "Opportunities")] == ["3", "2", "2"]


@pytest.mark.parametrize("n", [1, 6])
def test_campaign_report_query_count_is_bounded(report, manager, sdr, ae, django_assert_max_num_queries, n):
    for i in range(n):
        CampaignFactory(name=f"C{i}")
        cycle = make_cycle(sdr, at(2 + i % 5), touch=at(2 + i % 5) + H, campaign=f"C{i}")
        qualified_deal(cycle, ae, amount=1000, stage="pipeline")
    report(manager, "campaigns", **PERIOD)
    with django_assert_max_num_queries(16):
        assert report(manager, "campaigns", **PERIOD).status_code == 200


def test_qualified_by_criterion_met_worked_out_by_hand(report, manager, sdr, ae, ops):
    """Period 03-02…08, Sam's qualified leads with their criteria (✓ met, ✗ not, ✗* override):
      c1 fit ✓ power ✓ pain ✓ timing ✗, its meeting's opportunity in the pipeline (Opp)
      c2 fit ✓ power ✗ pain ✓ timing ✗, no opportunity
      c3 fit ✗ power ✗* pain ✓ timing ✓, Opp
      c4 assigned 02-20 (outside the period) with Pain ✗; c5 qualified with nothing recorded.
    Company fit: 3 recorded, 2 met (66.7%), → Opp when met 1/2 = 50.0%, not met 1/1 = 100.0%.
    Access to power: 1 met (33.3%), 1 override, → Opp 1/1 = 100.0%, not met 1/2 = 50.0%.
    Pain: 3 met (100.0%), → Opp 2/3 = 66.7%, not met — (none). Timing: 1 met, 100.0% / 50.0%."""
    from apps.campaigns.models import QualificationCheck, QualificationCriterion

    QualificationCriterion.objects.filter(code="access_to_power").update(required=True)
    crit = {c.code: c for c in QualificationCriterion.objects.all()}

    def qualified(day, marks, *, opp):
        cycle = make_cycle(sdr, at(day), touch=at(day) + H, done=at(day) + 2 * H, disposition="qualified")
        if opp:
            qualified_deal(cycle, ae, amount=1000, stage="pipeline")
        for code, mark in zip(["company_fit", "access_to_power", "pain", "timing"], marks, strict=True):
            QualificationCheck.objects.create(cycle=cycle, criterion=crit[code], met=mark == "✓",
                                              overridden_by=manager.user if mark == "✗*" else None)
        return cycle

    qualified(2, ["✓", "✓", "✓", "✗"], opp=True)
    qualified(3, ["✓", "✗", "✓", "✗"], opp=False)
    qualified(4, ["✗", "✗*", "✓", "✓"], opp=True)
    QualificationCheck.objects.create(cycle=make_cycle(sdr, dt.datetime(2026, 2, 20, 10, tzinfo=dt.UTC)),
                                      criterion=crit["pain"], met=False)
    make_cycle(sdr, at(5), touch=at(5) + H, done=at(5) + 2 * H, disposition="qualified")
    html = report(manager, "campaigns", **PERIOD).content.decode()
    table = html_table(html, "by-criterion")
    assert table == [
        ["Criterion", "Required", "Qualified, criteria recorded", "Met", "Met rate", "By override", "→ Opp when met",
         "→ Opp when not met"],
        ["Company fit", "—", "3", "2", "66.7%", "0", "50.0%", "100.0%"],
        ["Access to power", "required", "3", "1", "33.3%", "1", "100.0%", "50.0%"],
        ["Pain", "—", "3", "3", "100.0%", "0", "66.7%", "—"],
        ["Timing", "—", "3", "1", "33.3%", "0", "100.0%", "50.0%"],
    ]
    assert "Qualified leads with criteria recorded" in html and "by the Completed – Qualified meeting that qualified them" in html
    assert csv_table(report(manager, "campaigns", export="by-criterion", **PERIOD).content.decode()) == table
