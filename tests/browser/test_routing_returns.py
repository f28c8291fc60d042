"""An SDR returns an account with a swap from the account page; ops approves it in the review queue."""

import pytest

from apps.accounts.models import Account
from apps.accounts.services import account_set_owner
from apps.routing.models import AccountRest, ReturnRequest
from apps.routing.tests.factories import ScoredAccountFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_sdr_files_return_with_swap_and_ops_approves(page, login, sdr, ops):
    returned = ScoredAccountFactory(name="Returnable Co", domain="returnable.com", total_score=55)
    account_set_owner(account=returned, to_rep=sdr, reason="distribution")
    replacement = ScoredAccountFactory(name="Replacement Co", domain="replacement.com", total_score=91)
    ScoredAccountFactory(name="Lesser Co", domain="lesser.com", total_score=20)

    login("sam")
    page.goto(f"/admin/accounts/account/{returned.pk}/change/")
    page.click("#return-account")
    page.wait_for_selector("#return-form")
    page.select_option("#id_reason", "not_interested")
    page.fill("#id_note", "Told me twice they are happy with their vendor.")
    page.check("#id_swap")
    page.click("#file-return")
    page.wait_for_url(f"**/admin/accounts/account/{replacement.pk}/change/")
    assert "Your replacement: Replacement Co" in page.locator(".messagelist").inner_text()

    login("opal")
    page.goto("/admin/routing/returnrequest/")
    row = page.locator("#result_list tbody tr", has_text="Returnable Co")
    assert "Replacement Co" in row.inner_text()
    row.locator("a:has-text('Review')").click()
    page.wait_for_selector("#review-form")
    assert page.input_value("#id_outcome") == "rest"
    page.click("#approve-return")
    page.wait_for_url("**/admin/routing/returnrequest/")
    assert "approved: Rest, then back to the pool" in page.locator(".messagelist").inner_text()

    request = ReturnRequest.objects.get()
    assert (request.status, request.outcome, request.rest_days, request.reviewed_by) == ("approved", "rest", 90, ops.user)
    assert Account.objects.get(pk=returned.pk).owner is None
    assert AccountRest.objects.filter(account=returned).exists()
    assert Account.objects.get(pk=replacement.pk).owner == sdr
