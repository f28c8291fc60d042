"""An ops admin edits an ICP rule, sees the impact preview, confirms, and the account's tier
changes with an explanation that names the edited rule."""

from __future__ import annotations

import pytest

from apps.accounts.tests.factories import AccountFactory
from apps.icps.models import Rule
from apps.icps.services import accounts_rescore
from apps.icps.tests.factories import ICPFactory, RuleFactory


@pytest.mark.django_db(transaction=True)
def test_editing_a_rule_changes_the_account_tier_with_its_explanation(page, login, ops):
    icp = ICPFactory(name="Software companies")
    RuleFactory(icp=icp, category=Rule.Category.FIT, condition=Rule.Condition.INDUSTRY_IN, values=["Software"], points=30)
    account = AccountFactory(name="Acme Analytics", industry="Software")
    AccountFactory(name="Corner Shop", industry="Retail")
    accounts_rescore()

    login("opal")
    page.goto(f"/admin/icps/icp/account/{account.pk}/score/")
    assert page.inner_text("#stored-tier") == "C"
    assert "+30" in page.inner_text(".score-breakdown")

    page.goto(f"/admin/icps/icp/{icp.pk}/change/")
    page.fill("#id_rules-0-points", "45")
    page.click("input[name=_save]")

    # Nothing is saved yet: the preview shows the tier counts moving.
    page.wait_for_selector("#impact-preview")
    assert "1 account would change tier." in page.inner_text("#impact-preview")
    tier_b = page.locator("#tier-counts tr", has_text="Tier B")
    assert tier_b.locator(".current").inner_text() == "0"
    assert tier_b.locator(".proposed").inner_text() == "1"
    assert page.inner_text("#tier-moves") == "Tier C → Tier B: 1"
    page.click("#confirm-impact")
    page.wait_for_selector(".messagelist")
    assert "All accounts are being rescored" in page.inner_text(".messagelist")

    page.goto(f"/admin/icps/icp/account/{account.pk}/score/")
    assert page.inner_text("#stored-tier") == "B"
    assert page.inner_text("#stored-total") == "40"
    breakdown = page.inner_text(".score-explanation")
    assert "Industry is one of Software" in breakdown and "+45" in breakdown
    assert "cap of 40 reached" in breakdown and "−5" in breakdown
    assert "Tier C → Tier B" not in breakdown
    history = page.inner_text("#account-score")
    assert "C → B" in history

    page.goto("/admin/icps/icpchange/")
    assert "Industry is one of Software (+30) → Industry is one of Software (+45)" in page.inner_text("#result_list")
