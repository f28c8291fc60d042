"""The admin's main path in a real browser: ops finds an account by domain; an SDR sees only their book."""

import pytest

from apps.accounts.services import account_set_owner
from apps.accounts.tests.factories import AccountFactory, DomainAliasFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_ops_searches_by_domain_and_opens_account(page, login, ops, sdr):
    account = AccountFactory(name="Contoso Robotics", domain="contoso-robotics.com")
    DomainAliasFactory(account=account, domain="contoso.io")
    account_set_owner(account=account, to_rep=sdr, reason="manual")
    AccountFactory.create_batch(5)
    login("opal")
    page.goto("/admin/accounts/account/")
    page.fill("#searchbar", "contoso.io")
    page.press("#searchbar", "Enter")
    page.wait_for_url("**/admin/accounts/account/?q=contoso.io")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    page.click("#result_list tbody tr th a")
    page.wait_for_selector("h2:has-text('Ownership history')")
    assert page.input_value("#id_domain") == "contoso-robotics.com"
    assert "contoso.io" in page.content()
    history = page.locator("fieldset:has(h2:has-text('Ownership history')) table")
    assert "Sam Seller" in history.inner_text() and "Manual" in history.inner_text()


def test_sdr_sees_only_own_accounts(page, login, sdr, other_sdr):
    for i in range(3):
        account_set_owner(account=AccountFactory(name=f"Mine {i}"), to_rep=sdr, reason="manual")
    account_set_owner(account=AccountFactory(name="Not Mine"), to_rep=other_sdr, reason="manual")
    AccountFactory(name="Pool Account")
    login("sam")
    page.goto("/admin/accounts/account/")
    names = sorted(page.locator("#result_list tbody th a").all_inner_texts())
    assert names == ["Mine 0", "Mine 1", "Mine 2"]
    assert "Not Mine" not in page.content()
