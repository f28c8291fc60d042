"""Account coverage × engagement: hand-worked quadrants, the account's details, the report by
rep (one statement), its CSV, the list filter and the API field."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Account, ActivityType
from apps.accounts.services import account_set_owner
from apps.accounts.tests.factories import AccountFactory, ActivityFactory
from apps.leads.models import LeadCycle
from apps.markets.coverage import CoverageRules, account_coverage, coverage_by_owner, with_coverage
from apps.markets.models import CoverageSettings
from apps.people.tests.factories import ContactFactory
from sdrops import config_cache

pytestmark = pytest.mark.django_db

NOW = timezone.now()


@pytest.fixture
def book(sdr):
    """Settings: roles decision maker + champion, persona "IT", 2 contacts; engaged = 2 touches
    in 30 days, the latest within 7. Five accounts in Sam's book, worked out by hand:

      win      DM (IT) + champion; calls 2 and 5 days ago        → covered, engaged → Win
      engage   DM (IT) + champion + user; one call 20 days ago   → covered, not engaged → Engage
      expand   DM only; three calls in the last 3 days           → engaged, not covered → Expand reach
      stale    DM (IT) only; calls 10 and 12 days ago            → 2 touches but none in 7 days → Identify
      robots   one contact; five automated emails (never count)  → Identify
    """
    CoverageSettings.objects.filter(pk=1).update(required_buying_roles=["decision_maker", "champion"], required_personas=["IT"],
                                                 min_contacts=2, engagement_window_days=30, engaged_min_touches=2, recency_days=7)
    accounts = {}
    plan = {
        "win": ([("decision_maker", "it"), ("champion", "")], [2, 5], False),
        "engage": ([("decision_maker", "IT"), ("champion", ""), ("user", "")], [20], False),
        "expand": ([("decision_maker", "")], [1, 2, 3], False),
        "stale": ([("decision_maker", "IT")], [10, 12], False),
        "robots": ([("user", "")], [1, 1, 1, 1, 1], True),
    }
    for name, (contacts, days_ago, automated) in plan.items():
        account = AccountFactory(name=name)
        account_set_owner(account=account, to_rep=sdr, reason="manual")
        made = [ContactFactory(account=account, buying_role=role, persona=persona) for role, persona in contacts]
        for days in days_ago:
            ActivityFactory(account=account, contact=made[0], rep=sdr, type=ActivityType.CALL if not automated else ActivityType.EMAIL,
                            automated=automated, occurred_at=NOW - dt.timedelta(days=days))
        accounts[name] = (account, made)
    # A touch on the account with no contact is not a touch "with its contacts".
    ActivityFactory(account=accounts["engage"][0], contact=None, rep=sdr, occurred_at=NOW - dt.timedelta(days=1))
    win_contact = accounts["win"][1][0]
    LeadCycle.objects.create(contact=win_contact, number=1, rep=sdr, assigned_at=NOW - dt.timedelta(days=3), lead_type="outbound")
    return accounts


def test_quadrants_worked_by_hand(book):
    got = dict(with_coverage(Account.objects.all(), now=NOW).values_list("name", "coverage_quadrant"))
    assert got == {"win": "win", "engage": "engage", "expand": "expand_reach", "stale": "identify", "robots": "identify"}


def test_account_details_roles_personas_and_funnel(book):
    account, _contacts = book["win"]
    CoverageRules.load()  # kept per process; a page reads the configuration version once (sdrops.config_cache)
    with config_cache.checked(config_cache.version_read()), CaptureQueriesContext(connection) as ctx:
        coverage = account_coverage(account=account, now=NOW)
    assert len(ctx.captured_queries) <= 2
    assert (coverage.contacts_known, coverage.touches, coverage.contacts_touched) == (2, 2, 1)
    assert coverage.roles_required == [("Decision maker", True), ("Champion", True)]
    assert coverage.personas_required == [("it", True)]
    assert coverage.quadrant_label == "Win" and coverage.funnel_text == "No lead cycle: 1 · Assigned: 1"
    expand = account_coverage(account=book["expand"][0], now=NOW)
    assert expand.roles_required == [("Decision maker", True), ("Champion", False)]
    assert expand.next_step.startswith("Good engagement with a few leads")


def test_report_by_rep_is_one_statement_with_hand_worked_numbers(book, sdr):
    CoverageRules.load()
    with config_cache.checked(config_cache.version_read()), CaptureQueriesContext(connection) as ctx:
        rows = coverage_by_owner(now=NOW)
    # The settings are kept (sdrops.config_cache): one aggregate over every account in the books.
    assert len(ctx.captured_queries) == 1
    assert rows == [{"owner_id": sdr.pk, "accounts": 5, "identify": 2, "expand_reach": 1, "engage": 1, "win": 1,
                     "covered_accounts": 2, "engaged_accounts": 2, "leads_in_funnel": 1}]


def test_report_page_csv_and_list_filter(book, admin_client):
    url = reverse("admin:report", args=["account-coverage"])
    page = admin_client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Expand reach" in text and "account coverage doesn&#x27;t apply to inbound leads" in text
    csv_text = admin_client.get(url, {"export": "by-rep"}).content.decode().splitlines()
    assert csv_text[0].startswith("Owner,Accounts,Identify,Expand reach,Engage,Win,Covered")
    assert csv_text[1].startswith("Sam Seller,5,2,1,1,1,2,")
    listing = admin_client.get(reverse("admin:accounts_account_changelist"), {"coverage_quadrant": "identify"})
    assert [a.name for a in listing.context["cl"].result_list] == ["robots", "stale"]


def test_api_and_csv_export_carry_the_segment_and_coverage(book, admin_client, admin_user):
    from apps.markets.services import account_market_override

    win = book["win"][0]
    account_market_override(account_ids=[win.pk], segment="C", reason="Probe later", actor=admin_user)
    body = admin_client.get("/api/accounts/", {"coverage_quadrant": "win"}).json()
    [row] = body["results"]
    assert (row["name"], row["coverage_quadrant"], row["covered"], row["engaged"], row["contacts_known"],
            row["touches_in_window"], row["market_segment"], row["market_segment_source"], row["enrolled"]) == (
        "win", "win", True, True, 2, 2, "C", "override", False)
    assert {r["name"] for r in admin_client.get("/api/accounts/", {"market_segment": "C"}).json()["results"]} == {"win"}
    assert admin_client.get("/api/accounts/", {"enrolled": "true"}).json()["results"] == []
    response = admin_client.post(reverse("admin:accounts_account_changelist"), {
        "action": "export_market_coverage", "_selected_action": [win.pk, book["expand"][0].pk]})
    lines = response.content.decode().splitlines()
    assert lines[0].startswith("name,domain,owner,market_segment,market_segment_source,override_reason,enrolled,icp_quadrant,"
                               "coverage_quadrant")
    assert lines[1].startswith(f"win,{win.domain},Sam Seller,C,override,Probe later,no,,win,yes,yes,2,2,")
    assert lines[2].startswith(f"expand,{book['expand'][0].domain},Sam Seller,,,,no,,expand_reach,no,yes,1,3,")


def test_account_details_from_the_kept_statement_equal_the_querysets(book, monkeypatch):
    """account_coverage runs SQL compiled once per configuration version (sdrops.kept_sql):
    every account, at several instants and after a settings change, reads as the ORM builds it."""
    from sdrops import kept_sql

    def details(now):
        return {name: account_coverage(account=account, now=now) for name, (account, _contacts) in book.items()}

    def compare():
        for now in (NOW, NOW - dt.timedelta(days=4), NOW + dt.timedelta(days=8)):
            config_cache.clear()
            with config_cache.checked(config_cache.version_read()):
                kept = details(now)
                assert config_cache._entries[("kept_sql", "markets.account_coverage")][1] is not kept_sql._NOT_KEPT
                assert config_cache._entries[("kept_sql", "markets.account_coverage_contacts")][1] is not kept_sql._NOT_KEPT
            with monkeypatch.context() as patched:
                patched.setattr(kept_sql, "_keep", lambda build, values: None)
                config_cache.clear()
                assert kept == details(now), now

    compare()
    assert account_coverage(account=book["engage"][0], now=NOW).quadrant == "engage"
    # A settings change is a new configuration version: the statement is built again.
    CoverageSettings.objects.filter(pk=1).update(min_contacts=3, engagement_window_days=40, engaged_min_touches=1, recency_days=25)
    compare()
    assert account_coverage(account=book["engage"][0], now=NOW).quadrant == "win"
