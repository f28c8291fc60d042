from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from apps.accounts.models import Account
from apps.accounts.tests.factories import AccountFactory
from apps.icps.models import Quadrant, Rule, ScoreHistory, ScoringSettings
from apps.icps.selectors import account_score_explain
from apps.icps.services import accounts_rescore
from apps.icps.tests.factories import ICPFactory, RuleFactory, SignalFactory, signal_type

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)
C = Rule.Condition


def scored(account) -> Account:
    accounts_rescore(account_ids=[account.pk], now=NOW)
    account.refresh_from_db()
    explanation = account_score_explain(account=account, now=NOW)
    # The explanation is always the stored score, rule by rule.
    assert explanation.total == account.total_score
    assert explanation.score("fit") == account.fit_score
    assert explanation.score("opportunity") == account.opportunity_score
    assert explanation.score("readiness") == account.readiness_score
    assert (explanation.matched.icp_id if explanation.matched else None) == account.matched_icp_id
    assert explanation.tier == account.tier
    assert explanation.quadrant == account.quadrant
    return account


def one_rule(**kwargs):
    icp = ICPFactory()
    RuleFactory(icp=icp, **kwargs)
    return icp


@pytest.mark.parametrize(
    "rule, account_fields, gives",
    [
        ({"condition": C.INDUSTRY_IN, "values": ["software", "Fintech"]}, {"industry": "Software"}, True),
        ({"condition": C.INDUSTRY_IN, "values": ["Fintech"]}, {"industry": "Software"}, False),
        ({"condition": C.INDUSTRY_NOT_IN, "values": ["Retail"]}, {"industry": "Software"}, True),
        ({"condition": C.INDUSTRY_NOT_IN, "values": ["Software"]}, {"industry": "Software"}, False),
        ({"condition": C.EMPLOYEES_BETWEEN, "minimum": 200, "maximum": 1000}, {"employees": 200}, True),
        ({"condition": C.EMPLOYEES_BETWEEN, "minimum": 200, "maximum": 1000}, {"employees": 1000}, True),
        ({"condition": C.EMPLOYEES_BETWEEN, "minimum": 200, "maximum": 1000}, {"employees": 1001}, False),
        ({"condition": C.EMPLOYEES_BETWEEN, "minimum": 200, "maximum": 1000}, {"employees": 199}, False),
        ({"condition": C.EMPLOYEES_BETWEEN, "minimum": 200}, {"employees": None}, False),
        ({"condition": C.EMPLOYEES_BETWEEN, "maximum": 50}, {"employees": 10}, True),
        ({"condition": C.REVENUE_BETWEEN, "minimum": 1_000_000}, {"annual_revenue": Decimal("1000000")}, True),
        ({"condition": C.REVENUE_BETWEEN, "minimum": 1_000_000}, {"annual_revenue": Decimal("999999.99")}, False),
        ({"condition": C.COUNTRY_IN, "values": ["Germany", "United States"]}, {"country": "united states"}, True),
        ({"condition": C.COUNTRY_IN, "values": ["Germany"]}, {"country": "France"}, False),
        ({"condition": C.REGION_IN, "values": ["EMEA"]}, {"region": "EMEA"}, True),
        ({"condition": C.REGION_IN, "values": ["EMEA"]}, {"region": ""}, False),
        ({"condition": C.SEGMENT_IN, "values": ["mid_market", "enterprise"]}, {"segment": "enterprise"}, True),
        ({"condition": C.SEGMENT_IN, "values": ["mid_market"]}, {"segment": "smb"}, False),
        ({"condition": C.TECHNOLOGY_PRESENT, "values": ["Marketo"]}, {"technologies": ["Salesforce", "marketo"]}, True),
        ({"condition": C.TECHNOLOGY_PRESENT, "values": ["Marketo"]}, {"technologies": ["Eloqua"]}, False),
        ({"condition": C.TECHNOLOGY_PRESENT, "values": ["Marketo"]}, {"technologies": []}, False),
    ],
)
def test_account_field_conditions(rule, account_fields, gives):
    one_rule(points=7, **rule)
    account = scored(AccountFactory(**account_fields))
    assert account.fit_score == (7 if gives else 0)


@time_machine.travel(NOW, tick=False)
def test_signal_count_in_window_counts_exactly_n_within_d_days():
    one_rule(category="readiness", condition=C.SIGNAL_COUNT, signal_type=signal_type("pricing_page_visit"), minimum=3, days=7, points=10)
    account = AccountFactory()
    visit = signal_type("pricing_page_visit")
    SignalFactory(account=account, type=visit, occurred_at=NOW - dt.timedelta(days=1))
    SignalFactory(account=account, type=visit, occurred_at=NOW - dt.timedelta(days=7))  # exactly on the edge: counts
    SignalFactory(account=account, type=visit, occurred_at=NOW - dt.timedelta(days=7, seconds=1))  # too old
    SignalFactory(account=account, type=signal_type("demo_request"), occurred_at=NOW)  # other type
    assert scored(account).readiness_score == 0
    SignalFactory(account=account, type=visit, occurred_at=NOW - dt.timedelta(hours=1))
    assert scored(account).readiness_score == 10


@time_machine.travel(NOW, tick=False)
def test_dated_signal_upcoming_window():
    one_rule(category="opportunity", condition=C.SIGNAL_DATE_UPCOMING, signal_type=signal_type("competitor_renewal_date"), days=90, points=12)
    renewal = signal_type("competitor_renewal_date")
    today = NOW.date()
    inside = AccountFactory()
    SignalFactory(account=inside, type=renewal, date=today + dt.timedelta(days=90), occurred_at=NOW - dt.timedelta(days=30))
    outside = AccountFactory()
    SignalFactory(account=outside, type=renewal, date=today + dt.timedelta(days=91), occurred_at=NOW - dt.timedelta(days=30))
    past = AccountFactory()
    SignalFactory(account=past, type=renewal, date=today - dt.timedelta(days=1), occurred_at=NOW - dt.timedelta(days=30))
    assert scored(inside).opportunity_score == 12
    assert scored(outside).opportunity_score == 0
    assert scored(past).opportunity_score == 0


@time_machine.travel(NOW, tick=False)
def test_get_back_to_me_date_reached():
    one_rule(category="readiness", condition=C.SIGNAL_DATE_REACHED, signal_type=signal_type("get_back_to_me_date"), days=30, points=15)
    gbtm = signal_type("get_back_to_me_date")
    today = NOW.date()
    account = AccountFactory()
    signal = SignalFactory(account=account, type=gbtm, date=today + dt.timedelta(days=1), occurred_at=NOW - dt.timedelta(days=60))
    assert scored(account).readiness_score == 0
    signal.date = today
    signal.save()
    assert scored(account).readiness_score == 15
    signal.date = today - dt.timedelta(days=31)  # reached too long ago
    signal.save()
    assert scored(account).readiness_score == 0


@time_machine.travel(NOW, tick=False)
def test_numeric_signal_uses_latest_value_at_or_above_threshold():
    one_rule(category="readiness", condition=C.SIGNAL_VALUE_AT_LEAST, signal_type=signal_type("marketing_score"), minimum=60, points=8)
    score = signal_type("marketing_score")
    account = AccountFactory()
    SignalFactory(account=account, type=score, value=Decimal("80"), occurred_at=NOW - dt.timedelta(days=5))
    SignalFactory(account=account, type=score, value=Decimal("59.99"), occurred_at=NOW - dt.timedelta(days=1))
    assert scored(account).readiness_score == 0  # the latest value dropped below 60
    SignalFactory(account=account, type=score, value=Decimal("60"), occurred_at=NOW - dt.timedelta(hours=1))
    assert scored(account).readiness_score == 8


def test_caps_cut_each_category_and_explanation_names_the_cut():
    icp = ICPFactory()
    RuleFactory(icp=icp, category="fit", condition=C.INDUSTRY_IN, values=["Software"], points=30)
    RuleFactory(icp=icp, category="fit", condition=C.COUNTRY_IN, values=["United States"], points=25)
    RuleFactory(icp=icp, category="opportunity", condition=C.INDUSTRY_IN, values=["Software"], points=31)
    RuleFactory(icp=icp, category="readiness", condition=C.INDUSTRY_IN, values=["Software"], points=50)
    account = scored(AccountFactory(industry="Software", country="United States"))
    assert (account.fit_score, account.opportunity_score, account.readiness_score) == (40, 30, 30)
    assert account.total_score == 100
    explanation = account_score_explain(account=account, now=NOW)
    assert explanation.matched.raw == {"fit": 55, "opportunity": 31, "readiness": 50}
    assert explanation.matched.cut == {"fit": 15, "opportunity": 1, "readiness": 20}
    assert sorted(h.points for h in explanation.matched.hits) == [25, 30, 31, 50]


def test_decay_signal_past_its_type_lifetime_stops_counting():
    demo = signal_type("demo_request")
    demo.lifetime_days = 30
    demo.save()
    one_rule(category="readiness", condition=C.SIGNAL_COUNT, signal_type=demo, minimum=1, days=365, points=20)
    account = AccountFactory()
    with time_machine.travel(NOW, tick=False):
        SignalFactory(account=account, type=demo, occurred_at=NOW)
        accounts_rescore()
        account.refresh_from_db()
        assert account.readiness_score == 20
    with time_machine.travel(NOW + dt.timedelta(days=30), tick=False):
        accounts_rescore()
        account.refresh_from_db()
        assert account.readiness_score == 20
    with time_machine.travel(NOW + dt.timedelta(days=30, seconds=1), tick=False):
        accounts_rescore()
        account.refresh_from_db()
        assert account.readiness_score == 0
        assert account_score_explain(account=account).total == 0


def test_future_signal_does_not_count_yet():
    one_rule(category="readiness", condition=C.SIGNAL_COUNT, signal_type=signal_type("demo_request"), minimum=1, days=30, points=5)
    account = AccountFactory()
    SignalFactory(account=account, type=signal_type("demo_request"), occurred_at=NOW + dt.timedelta(minutes=1))
    assert scored(account).readiness_score == 0


def test_qualifiers_decide_the_match_and_failures_are_explained():
    icp = ICPFactory(name="Mid-Market US")
    RuleFactory(icp=icp, category="qualifier", condition=C.SEGMENT_IN, values=["mid_market", "enterprise"], points=0)
    RuleFactory(icp=icp, category="qualifier", condition=C.COUNTRY_IN, values=["United States"], points=0)
    RuleFactory(icp=icp, points=10)
    fits = scored(AccountFactory(segment="mid_market", country="United States"))
    assert fits.matched_icp_id == icp.pk and fits.total_score == 10 and fits.tier == "C"
    wrong_country = scored(AccountFactory(segment="mid_market", country="France"))
    assert wrong_country.matched_icp_id is None
    assert (wrong_country.total_score, wrong_country.tier, wrong_country.quadrant) == (0, "", "")
    explanation = account_score_explain(account=wrong_country, now=NOW)
    assert explanation.icps[0].failed_qualifiers == ["Country is one of United States"]


def test_icp_with_only_qualifiers_matches_with_zero():
    icp = one_rule(category="qualifier", condition=C.INDUSTRY_IN, values=["Software"], points=0)
    account = scored(AccountFactory(industry="Software"))
    assert account.matched_icp_id == icp.pk
    assert (account.total_score, account.tier, account.quadrant) == (0, "C", Quadrant.BAD_PLACE)


def _account_with_scores(fit: int, readiness: int, opportunity: int = 0):
    icp = ICPFactory()
    for category, points in (("fit", fit), ("readiness", readiness), ("opportunity", opportunity)):
        if points:
            RuleFactory(icp=icp, category=category, condition=C.INDUSTRY_IN, values=["Software"], points=points)
    return scored(AccountFactory(industry="Software"))


@pytest.mark.parametrize(
    "fit, opportunity, readiness, tier",
    [(40, 30, 0, "A"), (40, 29, 0, "B"), (40, 0, 0, "B"), (39, 0, 0, "C"), (0, 0, 0, "C")],
)
def test_tier_edges(fit, opportunity, readiness, tier):
    assert _account_with_scores(fit, readiness, opportunity).tier == tier


@pytest.mark.parametrize(
    "fit, readiness, quadrant",
    [
        (24, 15, Quadrant.GOOD_PLACE),
        (24, 14, Quadrant.GET_BACK_TO_ME),
        (23, 15, Quadrant.FALSE_HOPE),
        (23, 14, Quadrant.BAD_PLACE),
    ],
)
def test_quadrant_edges(fit, readiness, quadrant):
    assert _account_with_scores(fit, readiness).quadrant == quadrant


def test_thresholds_are_editable():
    settings = ScoringSettings.load()
    settings.tier_a_min, settings.tier_b_min, settings.fit_threshold, settings.readiness_threshold = 45, 20, 10, 5
    settings.save()
    account = _account_with_scores(10, 5, 30)
    assert account.tier == "A"
    assert account.quadrant == Quadrant.GOOD_PLACE


def test_best_scoring_active_icp_wins_and_ties_go_to_the_older_icp():
    low = one_rule(points=10)
    high = one_rule(points=30)
    inactive = ICPFactory(active=False)
    RuleFactory(icp=inactive, points=40)
    account = scored(AccountFactory())
    assert account.matched_icp_id == high.pk and account.total_score == 30
    tie = one_rule(points=30)
    account = scored(account)
    assert account.matched_icp_id == high.pk  # created before `tie`
    assert tie.pk > high.pk and low.pk < high.pk
    explanation = account_score_explain(account=account, now=NOW)
    assert {e.icp_id for e in explanation.icps} == {low.pk, high.pk, tie.pk}


def test_score_history_only_when_tier_or_quadrant_changes():
    icp = ICPFactory()
    rule = RuleFactory(icp=icp, points=30)
    account = scored(AccountFactory())
    first = list(ScoreHistory.objects.filter(account=account).values_list("old_tier", "new_tier", "new_quadrant"))
    assert first == [("", "C", Quadrant.GET_BACK_TO_ME)]
    rule.points = 35  # total changes, tier and quadrant do not
    rule.save()
    assert scored(account).total_score == 35
    assert ScoreHistory.objects.filter(account=account).count() == 1
    rule.points = 40
    rule.save()
    assert scored(account).tier == "B"
    last = ScoreHistory.objects.filter(account=account).first()
    assert (last.old_tier, last.new_tier, last.total_score, last.icp_id) == ("C", "B", 40, icp.pk)


def test_bulk_rescore_writes_only_changes_and_is_idempotent(django_assert_max_num_queries):
    icp = ICPFactory()
    RuleFactory(icp=icp, points=45, category="fit")
    RuleFactory(icp=icp, category="readiness", condition=C.SIGNAL_COUNT, signal_type=signal_type("demo_request"), minimum=1, days=30, points=30)
    accounts = AccountFactory.create_batch(30)
    SignalFactory.create_batch(5, account=accounts[0])
    with django_assert_max_num_queries(7):  # constant: ICPs, rules, settings, one statement
        result = accounts_rescore()
    assert result.accounts_written == 30
    assert accounts_rescore().accounts_written == 0
    stored = {a.pk: (a.total_score, a.tier) for a in Account.objects.all()}
    assert stored[accounts[0].pk] == (70, "A")
    assert stored[accounts[1].pk] == (40, "B")
    for account in Account.objects.all():
        assert account_score_explain(account=account).total == account.total_score


def test_no_active_icp_clears_scores():
    icp = one_rule(points=30)
    account = scored(AccountFactory())
    assert account.tier == "C"
    icp.active = False
    icp.save()
    account = scored(account)
    assert (account.matched_icp_id, account.total_score, account.tier, account.quadrant) == (None, 0, "", "")
    assert account.scored_at == NOW
