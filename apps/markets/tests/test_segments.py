"""Market segments: classification by rules (set-based, twice is harmless), the override with its
reason, the history, and the wall around the pool (distributions, swaps, signals, plays)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.accounts.models import Account, OwnershipEvent
from apps.accounts.tests.factories import AccountFactory
from apps.markets.models import AccountMarket, MarketSegmentChange, MarketSegmentRule, TargetedPlay
from apps.markets.selectors import (
    account_market_explain,
    b_accounts_waiting_for_data_fix,
    g_accounts_proposed_for_removal,
    segment_counts,
)
from apps.markets.services import account_market_override, market_segments_classify
from apps.markets.tests.factories import MarketSegmentRuleFactory
from apps.people.models import Rep
from apps.people.tests.factories import RepFactory, UserFactory
from apps.routing.models import ReturnReason, ReturnRequest
from apps.routing.services import distribution_commit, distribution_preview, distribution_run
from apps.routing.tests.factories import ICPFactory, ScoredAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rules(db):
    """Three rules in order: disqualified → G; mid-size software with an ICP fit → B;
    anything with an ICP match → C. No catch-all: the rest stays unclassified."""
    MarketSegmentRule.objects.all().delete()  # the starter rules from the migration
    return [
        MarketSegmentRuleFactory(position=1, name="Dead", segment="G", statuses=["disqualified"]),
        MarketSegmentRuleFactory(position=2, name="Core", segment="B", industries=["software"], employees_min=100,
                                 employees_max=5000, icp_fit="fit", note="Our SOM"),
        MarketSegmentRuleFactory(position=3, name="Stretch", segment="C", icp_fit="matched"),
    ]


def segments() -> dict[str, str]:
    return dict(AccountMarket.objects.values_list("account__name", "segment"))


def test_rules_classify_in_order_in_one_statement_and_a_second_run_changes_nothing(rules):
    icp = ICPFactory()
    AccountFactory(name="core", industry="SOFTWARE", employees=250, matched_icp=icp, fit_score=30)
    AccountFactory(name="too big", industry="Software", employees=9000, matched_icp=icp, fit_score=30)
    AccountFactory(name="weak fit", industry="Software", employees=250, matched_icp=icp, fit_score=10)
    AccountFactory(name="dead core", industry="Software", employees=250, matched_icp=icp, fit_score=30,
                   status=Account.Status.DISQUALIFIED)
    AccountFactory(name="nobody", industry="Retail", employees=50)
    with CaptureQueriesContext(connection) as ctx:
        first = market_segments_classify()
    # The configuration version and the rules (kept per process), the fit threshold, the
    # advisory lock and the one upsert statement.
    assert len(ctx.captured_queries) <= 7
    # Hand-worked: core → B (rule 2); too big and weak fit miss rule 2 (size, fit 10 < 24) but
    # have an ICP match → C; dead core → G (rule 1 wins over rule 2); nobody: no rule.
    assert segments() == {"core": "B", "too big": "C", "weak fit": "C", "dead core": "G"}
    assert (first.rows_written, first.moved) == (4, 4)
    change = MarketSegmentChange.objects.get(account__name="core")
    assert (change.from_segment, change.to_segment, change.source, change.rule_name, change.reason, change.actor) == (
        "", "B", "rules", "Core", "Our SOM", None)
    second = market_segments_classify()
    assert (second.rows_written, second.moved) == (0, 0)
    assert MarketSegmentChange.objects.count() == 4


def test_the_rule_that_matches_now_from_the_kept_statement_is_the_classifications(rules, monkeypatch):
    """account_market_explain asks which rule matches now with SQL compiled once per
    configuration version (sdrops.kept_sql): for each account it names the rule the
    classification applies, as the queryset built afresh does."""
    from sdrops import config_cache, kept_sql

    icp = ICPFactory()
    made = [
        AccountFactory(name="core", industry="SOFTWARE", employees=250, matched_icp=icp, fit_score=30),
        AccountFactory(name="too big", industry="Software", employees=9000, matched_icp=icp, fit_score=30),
        AccountFactory(name="dead core", industry="Software", employees=250, matched_icp=icp, fit_score=30,
                       status=Account.Status.DISQUALIFIED),
        AccountFactory(name="nobody", industry="Retail", employees=50),
    ]
    market_segments_classify()
    by_rule = dict(AccountMarket.objects.values_list("account__name", "rule__name"))
    config_cache.clear()
    with config_cache.checked(config_cache.version_read()):
        kept = {a.name: getattr(account_market_explain(account=a)["now_rule"], "name", None) for a in made}
        assert config_cache._entries[("kept_sql", "markets.account_rule_now")][1] is not kept_sql._NOT_KEPT
    with monkeypatch.context() as patched:
        patched.setattr(kept_sql, "_keep", lambda build, values: None)
        config_cache.clear()
        afresh = {a.name: getattr(account_market_explain(account=a)["now_rule"], "name", None) for a in made}
    assert kept == afresh == {"core": "Core", "too big": "Stretch", "dead core": "Dead", "nobody": None}
    assert {name: rule for name, rule in kept.items() if rule} == by_rule

def test_a_moved_account_gets_a_history_row_and_an_unmatched_one_loses_its_segment(rules):
    icp = ICPFactory()
    account = AccountFactory(name="core", industry="Software", employees=250, matched_icp=icp, fit_score=30)
    market_segments_classify()
    Account.objects.filter(pk=account.pk).update(employees=9000)
    market_segments_classify()
    Account.objects.filter(pk=account.pk).update(matched_icp=None)
    market_segments_classify()
    moves = list(MarketSegmentChange.objects.filter(account=account).order_by("pk")
                 .values_list("from_segment", "to_segment", "reason"))
    assert moves == [("", "B", "Our SOM"), ("B", "C", ""), ("C", "", "No rule matches")]
    assert AccountMarket.objects.get(account=account).segment == ""


def test_override_needs_a_reason_survives_the_rules_and_removing_it_goes_back_to_the_rules(rules):
    icp = ICPFactory()
    account = AccountFactory(name="core", industry="Software", employees=250, matched_icp=icp, fit_score=30)
    market_segments_classify()
    ops = UserFactory(username="ops-person")
    with pytest.raises(ValidationError) as error:
        account_market_override(account_ids=[account.pk], segment="C", reason="  ", actor=ops)
    assert "Say why" in str(error.value)
    assert account_market_override(account_ids=[account.pk], segment="C", reason="Product not ready for them", actor=ops) == 1
    assert market_segments_classify().moved == 0  # the rules still say B; the override holds
    market = AccountMarket.objects.get(account=account)
    assert (market.segment, market.rule_segment, market.override_reason, market.override_by) == (
        "C", "B", "Product not ready for them", ops)
    explained = account_market_explain(account=account)
    assert explained["now_rule"].name == "Core" and not explained["enrolled"]
    account_market_override(account_ids=[account.pk], segment="", reason="Product shipped", actor=ops)
    market.refresh_from_db()
    assert (market.segment, market.override_segment) == ("B", "")
    history = list(MarketSegmentChange.objects.filter(account=account).order_by("pk")
                   .values_list("from_segment", "to_segment", "source", "reason", "actor__username"))
    assert history[1:] == [("B", "C", "override", "Product not ready for them", "ops-person"),
                           ("C", "B", "override_cleared", "Product shipped", "ops-person")]


@pytest.fixture
def sdr(team):
    return RepFactory(role=Rep.Role.SDR, team=team, capacity=10, segment="")


def test_a_distribution_hands_out_only_enrolled_accounts(sdr):
    enrolled = ScoredAccountFactory(total_score=10)
    ScoredAccountFactory(total_score=90, market_segment="C")
    ScoredAccountFactory(total_score=90, market_segment="")
    distribution = distribution_run()
    assert list(distribution.lines.values_list("account_id", flat=True)) == [enrolled.pk]
    assert distribution.play is None


def test_a_targeted_play_hands_out_its_set_and_is_recorded_as_such(sdr):
    ScoredAccountFactory(total_score=99)  # enrolled, but not in the play
    c_account = ScoredAccountFactory(total_score=50, market_segment="C")
    named = ScoredAccountFactory(total_score=40, market_segment="D")
    ScoredAccountFactory(total_score=80, market_segment="D")  # D, not named
    play = TargetedPlay.objects.create(name="Probe C", purpose="Can we win C accounts?", segments=["C"])
    play.accounts.add(named)
    preview = distribution_preview(play=play)
    assert sorted(preview.lines.values_list("account_id", flat=True)) == sorted([c_account.pk, named.pk])
    committed = distribution_commit(distribution=preview)
    assert committed.status == "committed" and committed.play == play
    notes = set(OwnershipEvent.objects.filter(reason="distribution").values_list("note", flat=True))
    assert notes == {f"Distribution {preview.pk}, targeted play “Probe C”"}


def test_segment_view_lists_b_accounts_waiting_for_a_data_fix_and_g_accounts(sdr):
    from apps.accounts.services import account_set_owner
    from apps.routing.services import return_approve, return_file

    waiting = ScoredAccountFactory(name="Waiting")
    fixed_later = ScoredAccountFactory(name="Fixed")
    other_reason = ScoredAccountFactory(name="Other")
    garbage = ScoredAccountFactory(name="Junk", market_segment="G")
    for account in (waiting, fixed_later, other_reason):
        account_set_owner(account=account, to_rep=sdr, reason="manual")
    pending = return_file(account=waiting, rep=sdr, reason=ReturnReason.BAD_DATA, note="phone wrong")
    approved = return_file(account=fixed_later, rep=sdr, reason=ReturnReason.BAD_DATA, note="wrong domain")
    return_file(account=other_reason, rep=sdr, reason=ReturnReason.NOT_INTERESTED, note="no")
    approved = return_approve(return_request=approved, outcome="data_fix")
    assert [r.pk for r in b_accounts_waiting_for_data_fix()] == [pending.pk, approved.pk]
    from apps.routing.services import return_data_fixed

    return_data_fixed(return_request=ReturnRequest.objects.get(pk=approved.pk))
    assert [r.pk for r in b_accounts_waiting_for_data_fix()] == [pending.pk]
    assert list(g_accounts_proposed_for_removal()) == [garbage]
    counts = segment_counts()
    assert (counts.by_segment["B"], counts.by_segment["G"], counts.unclassified) == (3, 1, 0)


def test_ops_classify_now_override_from_the_accounts_list_and_read_the_segment_view(rules, admin_client, admin_user):
    icp = ICPFactory()
    AccountFactory(name="core", industry="Software", employees=250, matched_icp=icp, fit_score=30)
    stretch = AccountFactory(name="stretch", industry="Retail", employees=250, matched_icp=icp, fit_score=5)
    AccountFactory(name="nobody", industry="Retail")
    response = admin_client.post(reverse("admin:markets_classify"), follow=True)
    assert "Market segments classified: 2 account(s) changed segment" in response.content.decode()
    response = admin_client.post(reverse("admin:accounts_account_changelist"), {
        "action": "override_market_segment", "_selected_action": [stretch.pk], "apply": "1", "segment": "B",
        "reason": "Retail pilot signed"}, follow=True)
    assert "Market segment override recorded for 1 account(s)." in response.content.decode()
    page = admin_client.get(reverse("admin:accounts_account_change", args=[stretch.pk])).content.decode()
    assert "manual override by" in page and "Retail pilot signed" in page and "(the rules say C)" in page
    listing = admin_client.get(reverse("admin:accounts_account_changelist"), {"market_segment": "enrolled"})
    assert sorted(a.name for a in listing.context["cl"].result_list) == ["core", "stretch"]
    url = reverse("admin:report", args=["market-segments"])
    view = admin_client.get(url)
    assert view.status_code == 200
    summary = dict(view.context["result"].summary)
    # Hand-worked: B = core + stretch (override); nothing in A, C, E; one unclassified.
    assert (summary["SOM (A + B)"], summary["Enrolled (B)"], summary["Manual overrides"], summary["Unclassified"]) == (
        "2", "2", "1", "1")
    moves = admin_client.get(url, {"export": "movements"}).content.decode().splitlines()
    assert moves[0] == "From,To,Moves,By rules,By hand"
    assert moves[1:] == ["—,B,1,1,0", "—,C,1,1,0", "C,B,1,0,1", "All,,3,2,1"]


def test_classification_job_is_declared_in_the_schedule_registry():
    from sdrops.schedules import registered

    job = {j.name: j for j in registered()}["markets.classify_segments"]
    assert (job.func, job.cron) == ("apps.markets.tasks.market_segments_classify_task", "0 5 * * *")


def test_a_managers_segment_view_lists_their_teams_g_accounts_and_skips_the_list_when_there_are_none(client, manager, sdr):
    """The G list reads only when the page's own counts have a G account in scope: a team with
    none costs no scan of the organisation's G accounts (they belong to other books)."""
    from apps.accounts.services import account_set_owner

    ScoredAccountFactory(name="Pool junk", market_segment="G")
    client.force_login(manager.user)
    url = reverse("admin:report", args=["market-segments"])
    with CaptureQueriesContext(connection) as ctx:
        page = client.get(url)
    assert page.status_code == 200 and page.context["result"].table("garbage").rows == []
    assert not [q["sql"] for q in ctx.captured_queries if "classified_at" in q["sql"] and "ORDER BY" in q["sql"]]
    junk = ScoredAccountFactory(name="Team junk", market_segment="G")
    account_set_owner(account=junk, to_rep=sdr, reason="manual")
    rows = client.get(url).context["result"].table("garbage").rows
    assert [row["account"] for row in rows] == ["Team junk"]
