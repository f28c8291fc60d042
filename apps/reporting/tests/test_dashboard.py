from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from apps.accounts.models import Activity
from apps.people.models import Rep
from apps.people.tests.factories import ContactFactory, RepFactory
from apps.reporting.models import FunnelTargets
from apps.reporting.tests.conftest import (
    csv_table,
    html_table,
    make_accounts,
    make_cycle,
    make_meeting,
    make_opportunity,
)

PERIOD = {"date_from": "2026-03-02", "date_to": "2026-03-08"}
H = dt.timedelta(hours=1)


def at(day, hour=10, month=3):
    return dt.datetime(2026, month, day, hour, tzinfo=dt.UTC)


def sql(cycle, sdr, ae, *, opportunity_stage=None, pipeline=False, when=None):
    """A Completed – Qualified meeting in the cycle, and optionally its opportunity."""
    opportunity = None
    if opportunity_stage:
        opportunity = make_opportunity(account=cycle.contact.account, owner=ae, sourcing_sdr=sdr, stage=opportunity_stage,
                                       created_at=when or at(5), pipeline_at=(when or at(5)) + H if pipeline else None,
                                       amount=Decimal("10000"))
    return make_meeting(sdr=sdr, ae=ae, scheduled_at=when or at(5), cycle=cycle, status="completed_qualified",
                        opportunity=opportunity)


@pytest.fixture
def funnel(sdr, tia, ae, team, manager):
    uma = RepFactory(role=Rep.Role.SDR, team=team, manager=manager, owner_name="Uma Third", user__username="uma")
    # Sam: 10 MQLs (a recycled lead twice), 4 SQLs (one qualified after the period), 0 Opps.
    recycled = ContactFactory()
    sam = [make_cycle(sdr, at(2), touch=at(2) + H, done=at(3), disposition="nurture", contact=recycled, campaign="Webinar"),
           make_cycle(sdr, at(4), touch=at(4) + H, contact=recycled, number=2, campaign="Webinar")]
    sam += [make_cycle(sdr, at(3 + i % 4), touch=at(3 + i % 4) + H, campaign="Pricing" if i == 0 else "") for i in range(7)]
    sam.append(make_cycle(sdr, at(6), campaign="Ignored"))  # untouched: its campaign is not active
    for cycle in sam[:3]:
        sql(cycle, sdr, ae)
    sql(sam[3], sdr, ae, opportunity_stage="meeting_completed", when=at(12))  # qualified next period, no SAO
    make_meeting(sdr=sdr, ae=ae, scheduled_at=at(5), cycle=sam[4], status="completed_unqualified")
    # Last period's cohort, qualified and in pipeline this period: not counted.
    old = make_cycle(sdr, at(25, month=2), touch=at(25, 11, month=2))
    sql(old, sdr, ae, opportunity_stage="pipeline", pipeline=True)
    # Tia: 2 MQLs, nothing qualified.
    make_cycle(tia, at(3), touch=at(3) + H, campaign="Webinar")
    make_cycle(tia, at(4))
    # Uma: 3 MQLs, 3 SQLs, 2 in pipeline.
    uma_cycles = [make_cycle(uma, at(5), touch=at(5) + H) for _ in range(3)]
    sql(uma_cycles[0], uma, ae, opportunity_stage="pipeline", pipeline=True)
    sql(uma_cycles[1], uma, ae, opportunity_stage="closed_won", pipeline=True)
    sql(uma_cycles[2], uma, ae)
    make_accounts(sdr, 3)
    make_accounts(tia, 1)
    for i in range(14):
        Activity.objects.create(rep=sdr, type="call", occurred_at=at(2 + i % 7, 9))
    Activity.objects.create(rep=sdr, type="email", occurred_at=at(3), automated=True)
    return uma


KEYS = ("MQLs", "SQLs", "Opps", "MQL→SQL", "SQL→Opp", "MQL→Opp", "Accounts", "Active campaigns", "Activities",
        "Per day", "Per week")


def test_team_dashboard_worked_out(report, manager, funnel):
    html = report(manager, "team-dashboard", **PERIOD).content.decode()
    table = html_table(html, "funnel")
    col = {name: i for i, name in enumerate(table[0])}
    rows = {r[0]: r for r in table[1:]}
    # Sam: 4/10 = 40% (good), 0/4 = 0% (bad), 0/10 = 0% (bad).
    assert [rows["Sam Seller"][col[k]] for k in KEYS] == \
        ["10", "4", "0", "40.0%", "0.0%", "0.0%", "3", "2", "14", "2.0", "14.0"]
    assert [rows["Tia Teammate"][col[k]] for k in KEYS[:6]] == ["2", "0", "0", "0.0%", "—", "0.0%"]
    assert [rows["Uma Third"][col[k]] for k in KEYS[:6]] == ["3", "3", "2", "100.0%", "66.7%", "66.7%"]
    # Team: 15 MQLs, 7 SQLs, 2 Opps; campaigns Webinar and Pricing counted once each.
    assert [rows["Team"][col[k]] for k in KEYS] == \
        ["15", "7", "2", "46.7%", "28.6%", "13.3%", "4", "2", "14", "2.0", "14.0"]
    # Average MQLs per SDR = 5: Sam above it with MQL→Opp below 5%, Uma below it with MQL→Opp above 10%.
    assert rows["Sam Seller"][col["Diagnosis"]] == (
        "Low SQL→Opp: weak discovery/qualification — train on BANT; "
        "High volume, low conversion: quantity over quality — focus on personalization")
    assert rows["Tia Teammate"][col["Diagnosis"]] == "Low MQL→SQL: poor ICP targeting — review ICP criteria"
    assert rows["Uma Third"][col["Diagnosis"]] == "High conversion, low volume: capacity issue — expand territory/team"
    assert rows["Team"][col["Diagnosis"]] == "—"
    # Colours: target exceeded → good; below warning → bad; between → warn (28.6% SQL→Opp).
    assert 'class="kind-pct status-good">40.0%' in html and 'class="kind-pct status-bad">0.0%' in html
    assert 'class="kind-pct status-warn">28.6%' in html
    assert csv_table(report(manager, "team-dashboard", export="funnel", **PERIOD).content.decode()) == table


def test_targets_are_editable(report, manager, funnel):
    FunnelTargets.objects.update_or_create(pk=1, defaults={"sql_opp_target": Decimal("20"), "sql_opp_warning": Decimal("10")})
    html = report(manager, "team-dashboard", **PERIOD).content.decode()
    assert 'class="kind-pct status-good">28.6%' in html
    assert "target &gt; 20%" in html


def test_dashboard_empty_period_and_scoping(report, manager, funnel, other_team, other_sdr):
    make_cycle(other_sdr, at(3))
    html = report(manager, "team-dashboard", date_from="2025-01-01", date_to="2025-01-31").content.decode()
    rows = {r[0]: r for r in html_table(html, "funnel")[1:]}
    assert rows["Sam Seller"][1:7] == ["0", "0", "0", "—", "—", "—"]
    assert "no data" in html
    assert "Olga Other" not in report(manager, "team-dashboard", **PERIOD).content.decode()
    assert report(manager, "team-dashboard", team=other_team.pk, **PERIOD).status_code == 400


def test_dashboard_through_the_meeting_services(report, manager, sdr, ae):
    """Book, disposition Completed – Qualified, move the opportunity to the pipeline stage:
    the cycle becomes an SQL, then an Opp."""
    import time_machine

    from apps.accounts.services import account_set_owner
    from apps.leads.services import lead_cycle_open
    from apps.meetings.models import OpportunityStage
    from apps.meetings.services import meeting_book, meeting_disposition, opportunity_stage_set

    contact = ContactFactory()
    account_set_owner(account=contact.account, to_rep=sdr, reason="manual")
    with time_machine.travel(at(2, 9), tick=False):
        cycle = lead_cycle_open(contact=contact, rep=sdr)
        meeting = meeting_book(contact=contact, sdr=sdr, ae=ae, actor=sdr.user, scheduled_at=at(4))
    assert meeting.lead_cycle_id == cycle.pk
    with time_machine.travel(at(4, 11), tick=False):
        meeting = meeting_disposition(meeting=meeting, outcome="completed_qualified", actor=ae.user)
    funnel = lambda: [r[1:4] for r in html_table(report(manager, "team-dashboard", **PERIOD).content.decode(), "funnel")  # noqa: E731
                      if r[0] == "Sam Seller"][0]
    assert funnel() == ["1", "1", "0"]
    with time_machine.travel(at(9, 11), tick=False):
        opportunity_stage_set(opportunity=meeting.opportunity, stage=OpportunityStage.objects.get(code="pipeline"),
                              actor=ae.user)
    assert funnel() == ["1", "1", "1"]


@pytest.mark.parametrize("n", [1, 8])
def test_dashboard_query_count_is_bounded(report, manager, sdr, ae, django_assert_max_num_queries, n):
    for _ in range(n):
        sql(make_cycle(sdr, at(3), touch=at(3) + H), sdr, ae, opportunity_stage="pipeline", pipeline=True)
    report(manager, "team-dashboard", **PERIOD)
    # 20 before the attainment table (one statement) and the weekly comparison (one) joined the page.
    with django_assert_max_num_queries(22):
        assert report(manager, "team-dashboard", **PERIOD).status_code == 200


def test_the_period_is_compared_with_the_previous_one_and_the_trailing_average(report, manager, sdr, ae):
    def opportunity(cycle, day, amount, month=3):
        opp = make_opportunity(account=cycle.contact.account, owner=ae, sourcing_sdr=sdr, stage="pipeline",
                               created_at=at(day, month=month), pipeline_at=at(day, month=month) + H, amount=Decimal(amount))
        make_meeting(sdr=sdr, ae=ae, scheduled_at=at(day, month=month), cycle=cycle, status="completed_qualified",
                     opportunity=opp)

    # This period (Mar 2-8): 3 MQLs, 1 SQL with two deals in the pipeline: 10,000 and 20,000 → average 15,000.
    now = [make_cycle(sdr, at(3), touch=at(3) + H) for _ in range(3)]
    opportunity(now[0], 4, "10000")
    make_opportunity(account=now[1].contact.account, owner=ae, sourcing_sdr=sdr, stage="pipeline",
                     created_at=at(5), pipeline_at=at(5) + H, amount=Decimal("20000"))
    # Previous (Feb 23 - Mar 1): 1 MQL, qualified, its deal 4,000. Earlier in the trailing window
    # (Feb 2 - Mar 1): 3 more MQLs, none qualified, a deal of 8,000 from an older lead.
    previous = make_cycle(sdr, at(24, month=2), touch=at(24, month=2) + H)
    opportunity(previous, 25, "4000", month=2)
    for day in (3, 10, 17):
        make_cycle(sdr, at(day, month=2), touch=at(day, month=2) + H)
    make_opportunity(account=now[2].contact.account, owner=ae, sourcing_sdr=sdr, stage="pipeline",
                     created_at=at(10, month=2), pipeline_at=at(10, month=2) + H, amount=Decimal("8000"))
    html = report(manager, "team-dashboard", **PERIOD).content.decode()
    table = html_table(html, "comparison")
    assert table[0] == ["Measure", "This period", "Previous period", "Change", "Trailing average (4 periods)", "vs trailing"]
    rows = {row[0]: row[1:] for row in table[1:]}
    # Trailing window: 4 MQLs ÷ 4 = 1.0; 1 SQL ÷ 4 = 0.3 (0.25); MQL→SQL pooled 1 / 4 = 25%; deals 2 ÷ 4, average 6,000.
    assert rows["MQLs"] == ["3.0", "1.0", "2.0", "1.0", "2.0"]
    assert rows["SQLs"] == ["1.0", "1.0", "0.0", "0.2", "0.8"]
    assert rows["MQL→SQL"] == ["33.3", "100.0", "-66.7", "25.0", "8.3"]
    assert rows["Opportunities in the pipeline"] == ["2.0", "1.0", "1.0", "0.5", "1.5"]
    assert rows["Average deal value"] == ["15000.0", "4000.0", "11000.0", "6000.0", "9000.0"]
    assert "2026-02-02 – 2026-03-01" in html and "2026-02-23 – 2026-03-01" in html
    # The CSV is the same table, a leading "-" neutralised against formula injection.
    neutralised = [[f"'{cell}" if cell.startswith("-") else cell for cell in row] for row in table[1:]]
    assert csv_table(report(manager, "team-dashboard", export="comparison", **PERIOD).content.decode())[1:] == neutralised
