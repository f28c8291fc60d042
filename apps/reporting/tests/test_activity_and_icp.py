from __future__ import annotations

import datetime as dt

import pytest

from apps.accounts.models import Activity
from apps.icps.models import ICP
from apps.people.models import Rep
from apps.people.tests.factories import RepFactory
from apps.reporting.tests.conftest import csv_table, html_table, make_accounts

PERIOD = {"date_from": "2026-03-02", "date_to": "2026-03-08"}  # Monday to Sunday


def at(day: int, hour: int = 12, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=dt.UTC)


def act(rep, account, kind, when, automated=False):
    return Activity.objects.create(rep=rep, account=account, type=kind, occurred_at=when, automated=automated)


@pytest.fixture
def activity_week(sdr, tia):
    x, y, z, w = make_accounts(sdr, 4)
    act(sdr, z, "call", at(20, month=2))          # before the period: Z was reached earlier
    act(sdr, None, "deal_created", at(25, month=2))
    act(sdr, x, "intelligence_run", at(2, 9))     # Mon: research, then the first call
    act(sdr, x, "call", at(2, 10))
    act(sdr, y, "email", at(3))                   # Tue: Y reached without research
    act(sdr, y, "email", at(4), automated=True)   # Wed: a sequence — never counted
    act(sdr, z, "call", at(6, 9))                 # Fri: three
    act(sdr, z, "call", at(6, 10))
    act(sdr, z, "note", at(6, 11))
    act(sdr, x, "note", at(7))                    # Sat
    act(sdr, w, "call", at(9))                    # after the period
    for hour in range(9, 14):                     # Tia: five calls on Wednesday only
        act(tia, w, "call", at(4, hour))
    return x, y, z, w


@pytest.fixture
def tia_sourced(tia, ae):
    from apps.reporting.tests.conftest import make_opportunity

    account, = make_accounts(tia, 1)
    make_opportunity(account=account, owner=ae, sourcing_sdr=tia, created_at=at(5))
    make_opportunity(account=account, owner=ae, sourcing_sdr=tia, created_at=at(10))  # after the period


def test_activity_patterns_worked_out(report, manager, activity_week, tia_sourced):
    html = report(manager, "activity", **PERIOD).content.decode()
    table = html_table(html, "patterns")
    col = {name: i for i, name in enumerate(table[0])}
    rows = {row[0]: row for row in table[1:]}
    sam, tia = rows["Sam Seller"], rows["Tia Teammate"]
    # Sam: 2 + 1 + 3 + 1 = 7 real activities in 7 days; weekdays [2, 1, 0, 0, 3]: mean 1.2,
    # variance (0.64 + 0.04 + 1.44 + 1.44 + 3.24) / 5 = 1.36, std 1.166, variation 0.97.
    assert [sam[col[k]] for k in ("Activities", "Per day", "Active weekdays", "Weekdays", "Variation", "Pattern")] == \
        ["7", "1.0", "3", "5", "0.97", "consistent"]
    # X first reached Monday after research; Y on Tuesday without; Z was reached in February.
    assert [sam[col[k]] for k in ("Accounts first reached", "Researched first", "Research first %")] == ["2", "1", "50%"]
    assert [sam[col[k]] for k in ("Last opportunity", "Days since opportunity")] == ["2026-02-25", "11"]
    # Tia: [0, 0, 5, 0, 0]: mean 1, std 2 → variation 2.00, bursty; sourced an opportunity on
    # Thursday (the one after the period does not count): 3 days before the period's end.
    assert [tia[col[k]] for k in ("Activities", "Variation", "Pattern", "Last opportunity", "Days since opportunity")] == \
        ["5", "2.00", "bursty", "2026-03-05", "3"]
    daily = {row[0]: row for row in html_table(html, "daily")[1:]}
    daily_header = html_table(html, "daily")[0]
    assert daily_header[:2] == ["Day", "All reps"]
    assert daily["2026-03-04"][1] == "5"  # Tia's five; Sam's automated email not counted
    assert daily["2026-03-06"][1] == "3"
    assert len(daily) == 7
    weekly = html_table(html, "weekly")
    assert weekly[1][:2] == ["2026-03-02", "12"]
    log = html_table(html, "log")
    assert len(log) == 1 + 13  # 8 of Sam's (the automated one too) and Tia's 5
    assert csv_table(report(manager, "activity", export="patterns", **PERIOD).content.decode()) == table


def test_activity_log_filters_by_type_and_account(report, manager, activity_week):
    x = activity_week[0]
    html = report(manager, "activity", type="note", **PERIOD).content.decode()
    assert [row[2] for row in html_table(html, "log")[1:]] == ["Note", "Note"]
    html = report(manager, "activity", account=x.name[:6], **PERIOD).content.decode()
    assert {row[3] for row in html_table(html, "log")[1:]} >= {x.name}


def test_activity_empty_period_shows_zeros_and_no_data(report, manager, sdr):
    response = report(manager, "activity", date_from="2025-01-06", date_to="2025-01-12")
    assert response.status_code == 200
    html = response.content.decode()
    rows = html_table(html, "patterns")
    assert rows[1][:2] == ["Sam Seller", "0"]
    assert "no data" in html
    assert html_table(html, "daily") == [html_table(html, "daily")[0]]


@pytest.fixture
def coverage(sdr, tia):
    core = ICP.objects.create(name="Core")
    a1, = make_accounts(sdr, 1, tier="A", matched_icp=core, total_score=80)
    a2, = make_accounts(sdr, 1, tier="B", matched_icp=core, total_score=50)
    a3, = make_accounts(sdr, 1, tier="A", total_score=20)
    a4, = make_accounts(sdr, 1, tier="A", matched_icp=core, total_score=90)
    a5, = make_accounts(tia, 1, tier="A", matched_icp=core, total_score=70)
    act(sdr, a1, "call", at(3))
    act(sdr, a2, "note", at(3))                     # worked, but a note is not contact
    act(sdr, a3, "call", at(20, month=2))           # before the period
    act(sdr, a4, "email", at(4), automated=True)    # automated: neither worked nor contacted
    act(tia, a5, "call", at(5))
    return a1, a2, a3, a4, a5


def test_icp_coverage_worked_out(report, manager, coverage):
    html = report(manager, "icp-coverage", **PERIOD).content.decode()
    table = html_table(html, "owners")
    col = {name: i for i, name in enumerate(table[0])}
    rows = {row[0]: row for row in table[1:]}
    keys = ("Accounts", "ICP matched", "ICP match %", "Worked", "Avg score worked", "Tier A", "Tier A contacted",
            "Tier A contacted %")
    # Sam: 3 of 4 matched; worked a1 (80) and a2 (50) → 65.0; tier A a1, a3, a4, contacted a1 only.
    assert [rows["Sam Seller"][col[k]] for k in keys] == ["4", "3", "75%", "2", "65.0", "3", "1", "33%"]
    assert [rows["Tia Teammate"][col[k]] for k in keys] == ["1", "1", "100%", "1", "70.0", "1", "1", "100%"]
    # All: 4 of 5 matched = 80% (not above the 80% target); (80 + 50 + 70) / 3 = 66.7; 2 of 4 tier A.
    assert [rows["All"][col[k]] for k in keys] == ["5", "4", "80%", "3", "66.7", "4", "2", "50%"]
    assert 'class="kind-pct status-bad">80%' in html  # the target is "more than 80%"
    hist = {row[0]: row[1] for row in html_table(html, "histogram")[1:]}
    assert hist == {"0-9": "0", "10-19": "0", "20-29": "1", "30-39": "0", "40-49": "0", "50-59": "1",
                    "60-69": "0", "70-79": "1", "80-89": "1", "90-100": "1"}
    assert csv_table(report(manager, "icp-coverage", export="histogram", **PERIOD).content.decode()) == \
        html_table(html, "histogram")


@pytest.mark.parametrize("n", [1, 10])
def test_activity_and_icp_query_counts_are_bounded(report, manager, team, django_assert_max_num_queries, n):
    for i in range(3):
        rep = RepFactory(role=Rep.Role.SDR, team=team, manager=manager, owner_name=f"Rep {i}")
        for account in make_accounts(rep, n, tier="A", total_score=75):
            act(rep, account, "intelligence_run", at(2, 9))
            act(rep, account, "call", at(3))
            act(rep, None, "deal_created", at(4))
    report(manager, "activity", **PERIOD)
    # 21: the activity-against-results 2×2 adds one statement (the reporting cohort per rep).
    with django_assert_max_num_queries(21):
        assert report(manager, "activity", **PERIOD).status_code == 200
    with django_assert_max_num_queries(18):
        assert report(manager, "icp-coverage", **PERIOD).status_code == 200


def test_icp_conversion_by_tier_and_the_refinement_trigger(report, manager, sdr, ae):
    from apps.people.tests.factories import ContactFactory
    from apps.reporting.tests.conftest import make_cycle, make_meeting, make_opportunity

    def lead(tier, *, qualified=False, pipeline=False):
        account, = make_accounts(sdr, 1, tier=tier)
        cycle = make_cycle(sdr, at(3), touch=at(3, 13), contact=ContactFactory(account=account))
        if qualified:
            opportunity = make_opportunity(account=account, owner=ae, sourcing_sdr=sdr, stage="pipeline",
                                           created_at=at(4), pipeline_at=at(5)) if pipeline else None
            make_meeting(sdr=sdr, ae=ae, scheduled_at=at(4), cycle=cycle, status="completed_qualified",
                         opportunity=opportunity)

    # Tier A: 4 leads, 2 SQLs, 0 Opps. Tier C: 2 leads, 1 SQL in pipeline: C outconverts A.
    for i in range(4):
        lead("A", qualified=i < 2)
    lead("C", qualified=True, pipeline=True)
    lead("C")
    lead("")
    html = report(manager, "icp-coverage", **PERIOD).content.decode()
    rows = {r[0]: r[1:] for r in html_table(html, "by-tier")[1:]}
    assert rows == {
        "Tier A": ["4", "2", "0", "50.0%", "0.0%", "0.0%"],
        "Tier B": ["0", "0", "0", "—", "—", "—"],
        "Tier C": ["2", "1", "1", "50.0%", "100.0%", "50.0%"],
        "Unscored": ["1", "0", "0", "0.0%", "—", "0.0%"],
    }
    assert "ICP refinement trigger" in html


def test_activity_log_csv_neutralises_every_formula_prefix(report, manager, sdr):
    names = ["=cmd()", "+1+1", "-2", "@SUM(A1)", "\tTabbed", "\rReturn", "Plain"]
    for name, account in zip(names, make_accounts(sdr, len(names)), strict=True):
        account.name = name
        account.save()
        act(sdr, account, "call", at(3))
    export = report(manager, "activity", export="log", **PERIOD).content.decode()
    accounts = {row[3] for row in csv_table(export)[1:]}
    assert accounts == {"'=cmd()", "'+1+1", "'-2", "'@SUM(A1)", "'\tTabbed", "'\rReturn", "Plain"}


def test_activity_against_results_puts_each_rep_in_the_seeds_quadrant(report, manager, team, sdr, tia, ae, activity_week):
    from apps.reporting.tests.conftest import make_cycle, make_meeting

    rex = RepFactory(role=Rep.Role.SDR, team=team, manager=manager, owner_name="Rex Rest")
    lou = RepFactory(role=Rep.Role.SDR, team=team, manager=manager, owner_name="Lou Light")
    act(lou, None, "call", at(5))
    # MQLs / SQLs: Sam 4 / 0, Tia 2 / 1, Rex 2 / 0, Lou 1 / 1 → team 2 of 9 = 22.2%.
    for rep, leads, qualified in ((sdr, 4, 0), (tia, 2, 1), (rex, 2, 0), (lou, 1, 1)):
        for i in range(leads):
            cycle = make_cycle(rep, at(3), touch=at(3, 13))
            if i < qualified:  # an SQL: a Completed – Qualified meeting in the cycle
                make_meeting(sdr=rep, ae=ae, scheduled_at=at(4), cycle=cycle, status="completed_qualified")
    html = report(manager, "activity", **PERIOD).content.decode()
    table = html_table(html, "quadrant")
    col = {name: i for i, name in enumerate(table[0])}
    rows = {row[0]: [row[col[k]] for k in ("Activities", "MQLs", "SQLs", "MQL→SQL", "Quadrant")] for row in table[1:]}
    # Activities 7, 5, 0, 1 → median (1 + 5) / 2 = 3.
    assert rows == {
        "Sam Seller": ["7", "4", "0", "0%", "Quality issue"],
        "Tia Teammate": ["5", "2", "1", "50%", "Best practices"],
        "Rex Rest": ["0", "2", "0", "0%", "Effort issue"],
        "Lou Light": ["1", "1", "1", "100%", "Converting on low activity"],
    }
    assert "team&#x27;s median (3)" in html and "(22.2%)" in html
    assert csv_table(report(manager, "activity", export="quadrant", **PERIOD).content.decode()) == table
