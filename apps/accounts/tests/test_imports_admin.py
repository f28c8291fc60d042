from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.accounts.imports import admin as imports_admin
from apps.accounts.imports import services as import_services
from apps.accounts.models import Account, ImportRecord, OwnershipEvent
from apps.accounts.services import account_set_owner
from apps.accounts.tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    """Uploaded files and rejects go to a throw-away MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"

HEADER = "name,website,segment,company_owner\n"


def upload(client, text: str, *, skip=False, name="accounts.csv", url_name="admin:accounts_account_import"):
    data = {"file": SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv"), "encoding": "utf-8"}
    if skip:
        data["skip_bad_rows"] = "on"
    response = client.post(reverse(url_name), data)
    assert response.status_code == 302, response.content[:2000]
    return ImportRecord.objects.latest("id"), response["Location"]


def test_upload_preview_errors_then_fixed_file_imports(client, ops, sdr):
    client.force_login(ops.user)
    assert client.get(reverse("admin:accounts_account_import")).status_code == 200
    bad = HEADER + "Acme,acme.com,SMB,Sam Seller\nBad,gmail.com,SMB,\nWorse,worse.com,Huge,\n"
    record, location = upload(client, bad)
    assert record.status == "previewed" and record.error_count == 2 and record.new_count == 1
    page = client.get(location).content.decode()
    assert "Preview — nothing has been written yet" in page
    assert "<td>3</td><td>website</td><td>gmail.com</td>" in page
    assert "<td>4</td><td>segment</td><td>Huge</td>" in page
    assert not Account.objects.exists()
    # Confirming an all-or-nothing import with bad rows is refused.
    client.post(reverse("admin:accounts_account_import_confirm", args=[record.pk]))
    record.refresh_from_db()
    assert record.status == "previewed" and not Account.objects.exists()

    fixed, location = upload(client, bad.replace("gmail.com", "bad.com").replace("Huge", "Enterprise"))
    assert fixed.error_count == 0 and fixed.new_count == 3
    response = client.post(reverse("admin:accounts_account_import_confirm", args=[fixed.pk]))
    assert response.status_code == 302
    fixed.refresh_from_db()
    assert (fixed.status, fixed.new_count, fixed.created_by) == ("done", 3, ops.user)
    assert Account.objects.count() == 3
    assert OwnershipEvent.objects.get().actor == ops.user
    assert "Imported" in client.get(location).content.decode()
    listing = client.get(reverse("admin:accounts_importrecord_changelist")).content.decode()
    assert "accounts.csv" in listing


def test_skip_bad_rows_from_preview_and_rejects_download(client, ops):
    client.force_login(ops.user)
    record, _ = upload(client, HEADER + "Acme,acme.com,,\nBad,gmail.com,,\n")
    client.post(reverse("admin:accounts_account_import_confirm", args=[record.pk]), {"skip_bad_rows": "1"})
    record.refresh_from_db()
    assert (record.status, record.new_count, record.rejected_count, record.skip_bad_rows) == ("done", 1, 1, True)
    response = client.get(reverse("admin:accounts_account_import_rejects", args=[record.pk]))
    body = b"".join(response.streaming_content).decode()
    assert body.splitlines() == ["name,website,segment,company_owner,error",
                                 "Bad,gmail.com,,,website: gmail.com is a webmail domain; expected the company's own domain"]


def test_big_files_are_checked_and_imported_as_jobs_with_progress(client, ops, monkeypatch):
    monkeypatch.setattr(imports_admin, "ASYNC_ROW_THRESHOLD", 2)
    monkeypatch.setattr(import_services, "ASYNC_ROW_THRESHOLD", 2)
    client.force_login(ops.user)
    rows = "".join(f"Company {i},company{i}.com,,\n" for i in range(5))
    record, _ = upload(client, HEADER + rows)
    # Tests run django-q2 synchronously: the preview job has run by now.
    assert record.status == "previewed" and record.new_count == 5
    status = client.get(reverse("admin:accounts_account_import_status", args=[record.pk])).json()
    assert status["finished"] and status["total"] == 5
    client.post(reverse("admin:accounts_account_import_confirm", args=[record.pk]))
    record.refresh_from_db()
    assert (record.status, record.new_count, record.processed_rows) == ("done", 5, 5)
    assert client.get(reverse("admin:accounts_account_import_status", args=[record.pk])).json()["percent"] == 100
    # Running the job again (at-least-once delivery) changes nothing.
    import_services.import_record_run(record_id=record.pk)
    assert Account.objects.count() == 5


def test_export_follows_changelist_filters_and_neutralises(client, ops, sdr):
    AccountFactory(name="=Evil", domain="evil.com", status="customer")
    AccountFactory(name="Plain", domain="plain.com", status="prospect")
    client.force_login(ops.user)
    response = client.get(reverse("admin:accounts_account_export") + "?status__exact=customer")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("name,website,domain,industry")
    assert len(lines) == 2 and lines[1].startswith("'=Evil,,evil.com,")


def test_sdr_cannot_import_and_exports_only_their_book(client, sdr):
    mine = AccountFactory(name="Mine", domain="mine.com")
    account_set_owner(account=mine, to_rep=sdr, reason="manual")
    AccountFactory(name="Theirs", domain="theirs.com")
    client.force_login(sdr.user)
    assert client.get(reverse("admin:accounts_account_import")).status_code == 403
    response = client.get(reverse("admin:accounts_account_export"))
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == ["Mine"]


def test_contact_and_rep_screens(client, ops):
    client.force_login(ops.user)
    AccountFactory(domain="acme.com")
    record, _ = upload(client, "email,first_name\nann@acme.com,Ann\n", url_name="admin:people_contact_import")
    client.post(reverse("admin:people_contact_import_confirm", args=[record.pk]))
    record.refresh_from_db()
    assert (record.kind, record.status, record.new_count) == ("contacts", "done", 1)
    record, _ = upload(client, "owner_name,role\nNew Rep,AE\n", url_name="admin:people_rep_import")
    client.post(reverse("admin:people_rep_import_confirm", args=[record.pk]))
    record.refresh_from_db()
    assert (record.kind, record.status, record.new_count) == ("reps", "done", 1)
    export = client.get(reverse("admin:people_rep_export"))
    assert b"New Rep" in b"".join(export.streaming_content)
    # The import record pages check the kind: a contacts record is not a reps record.
    assert client.get(reverse("admin:people_contact_import_record", args=[record.pk])).status_code == 404


def test_the_row_count_is_known_before_checking_and_the_confirmation_says_what_happens(client, ops):
    # Issue 17: the bar read "0% · (0 of about 0 rows)" while checking, and a red "Nothing
    # will be imported" box sat above an "Import the good rows" button.
    data = (HEADER + 'Acme,acme.com,SMB,\n"Quoted, Inc",quoted.com,SMB,\n\nBad,gmail.com,SMB,\n').encode()
    assert import_services.data_rows(data) == 3
    record = import_services.import_record_create(kind="accounts", file_name="a.csv", data=data, actor=ops.user)
    assert record.total_rows == 3
    client.force_login(ops.user)
    page = client.get(reverse("admin:accounts_account_import_record", args=[record.pk])).content.decode()
    assert '<span id="import-processed">0</span> of <span id="import-total">3</span> rows' in page
    assert "checked" in page[page.index('id="import-verb"'):][:40] and "about" not in page

    import_services.import_record_preview(record=record)
    page = client.get(reverse("admin:accounts_account_import_record", args=[record.pk])).content.decode()
    start = page.index('id="import-plan"')
    plan = " ".join(page[start:page.index("</form>", start)].split())
    assert "1 of the 3 rows have problems" in plan and "Nothing is written until you choose" in plan
    assert 'value="Import the 2 good rows, reject 1"' in plan and "errornote" not in plan

    good = import_services.import_record_create(kind="accounts", file_name="b.csv", data=(HEADER + "Acme,acme.com,SMB,\n").encode(),
                                                actor=ops.user)
    import_services.import_record_preview(record=good)
    page = " ".join(client.get(reverse("admin:accounts_account_import_record", args=[good.pk])).content.decode().split())
    assert "Importing writes 1 new and 0 updated accounts." in page and 'value="Import 1 row"' in page
