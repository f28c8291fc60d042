"""Market segments and coverage × engagement in a real browser: ops classify the accounts from
the rules page, read the segment view, and an SDR reads the coverage quadrant on the account page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from apps.accounts.models import ActivityType
from apps.accounts.services import account_set_owner
from apps.accounts.tests.factories import AccountFactory, ActivityFactory
from apps.icps.models import ICP
from apps.people.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_ops_classify_and_read_the_segment_view_and_the_sdr_sees_the_coverage_quadrant(page, login, ops, sdr):
    icp = ICP.objects.create(name="Core")
    # The starter rules: an ICP fit (30 ≥ 24) is B; a weak fit (10) is C.
    fit = AccountFactory(name="Fitting Co", matched_icp=icp, fit_score=30)
    AccountFactory(name="Weak Co", matched_icp=icp, fit_score=10)
    account_set_owner(account=fit, to_rep=sdr, reason="manual")
    # Coverage defaults: 3 contacts covering decision maker, champion and influencer; engaged:
    # 3 touches in 30 days, the latest within 14. Three contacts, three calls: Win.
    contacts = [ContactFactory(account=fit, buying_role=role) for role in ("decision_maker", "champion", "influencer")]
    for days, contact in zip((1, 3, 6), contacts, strict=True):
        ActivityFactory(account=fit, contact=contact, rep=sdr, type=ActivityType.CALL,
                        occurred_at=timezone.now() - dt.timedelta(days=days))

    login("opal")
    page.goto("/admin/markets/marketsegmentrule/")
    page.click("#classify-now")
    page.wait_for_selector(".messagelist .success")
    assert "2 account(s) changed segment" in page.inner_text(".messagelist")
    page.goto("/admin/reports/market-segments/")
    summary = page.inner_text("#content")
    assert "Enrolled (B)" in summary and "Moves into each segment per week" in summary
    cells = page.locator("tr", has_text="B · accounts you should be working").first.locator("td").all_inner_texts()
    assert cells[:5] == ["B", "B · accounts you should be working", "SOM", "yes", "1"]

    login("sam")
    page.goto(f"/admin/accounts/account/{fit.pk}/record/")
    assert page.inner_text("#record-coverage-quadrant strong") == "Win"
    assert page.inner_text("#record-market-segment strong") == "B"
    assert "ICP quadrant (fit × timing)" in page.inner_text("#record-header")
    assert "Good engagement across the account" in page.inner_text("#record-coverage")
