"""CSV import in a real browser: upload a file with bad rows, read the errors, fix, import."""

import pytest

from apps.accounts.models import Account, ImportRecord

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    """Uploaded files and rejects go to a throw-away MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"

BAD = (
    "name,website,employees,segment,company_owner\n"
    "Contoso Robotics,https://www.contoso-robotics.com,120,Mid-Market,Sam Seller\n"
    "Fabrikam,gmail.com,40,SMB,\n"
    "Northwind,northwind.io,many,SMB,\n"
)


def upload(page, text: str):
    page.goto("/admin/accounts/account/import/")
    page.set_input_files("#id_file", files=[{"name": "accounts.csv", "mimeType": "text/csv", "buffer": text.encode()}])
    page.click("#import-upload input[type=submit]")
    page.wait_for_selector("#import-status")


def test_upload_bad_rows_fix_and_import(page, login, ops, sdr):
    login("opal")
    page.goto("/admin/accounts/account/")
    page.click("a.import_link")
    page.wait_for_url("**/admin/accounts/account/import/")
    upload(page, BAD)
    errors = page.locator("#import-errors tbody tr")
    assert errors.count() == 2
    first, second = errors.nth(0).inner_text(), errors.nth(1).inner_text()
    assert first.startswith("3\twebsite\tgmail.com") and "webmail" in first
    assert second.startswith("4\temployees\tmany") and "non-negative whole number" in second
    assert "1 of the 3 rows have problems" not in page.content()  # two bad rows, one good
    assert "2 of the 3 rows have problems" in page.inner_text("#import-plan")
    assert page.input_value("#import-confirm input[type=submit]") == "Import the 1 good row, reject 2"
    assert not Account.objects.exists()

    upload(page, BAD.replace("gmail.com", "fabrikam.com").replace("many", '"1,500"'))
    assert page.locator("#import-errors").count() == 0
    assert page.locator("#import-totals tbody td").nth(1).inner_text() == "3"  # new
    page.click("#import-confirm input[type=submit]")
    page.wait_for_selector("#import-status:has-text('Imported')")
    page.click("text=Go to accounts")
    page.wait_for_url("**/admin/accounts/account/")
    names = sorted(page.locator("#result_list tbody th a").all_inner_texts())
    assert names == ["Contoso Robotics", "Fabrikam", "Northwind"]
    assert Account.objects.get(domain="northwind.io").employees == 1500
    assert Account.objects.get(domain="contoso-robotics.com").owner == sdr


def test_progress_bar_follows_a_background_import(page, login, ops):
    record = ImportRecord.objects.create(
        kind="accounts", file_name="big.csv", status=ImportRecord.Status.RUNNING, total_rows=100_000,
        processed_rows=0, stage="Checking rows", created_by=ops.user,
    )
    login("opal")
    page.goto(f"/admin/accounts/account/import/{record.pk}/")
    page.wait_for_selector("#import-progress")
    ImportRecord.objects.filter(pk=record.pk).update(processed_rows=50_000)
    page.wait_for_selector("#import-percent:has-text('50')")
    assert page.eval_on_selector("#import-progress", "bar => bar.value") == 50
    ImportRecord.objects.filter(pk=record.pk).update(status=ImportRecord.Status.DONE, new_count=100_000,
                                                     processed_rows=100_000)
    page.wait_for_selector("#import-status:has-text('Imported')")
    assert page.locator("#import-totals tbody td").nth(1).inner_text() == "100000"
