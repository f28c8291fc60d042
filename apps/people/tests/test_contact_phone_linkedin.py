"""Phone numbers and LinkedIn addresses on contacts: validated and normalised the same way in
the admin form, the CSV import and export, and the API; shown with tel:/mailto: links."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError

from apps.people.contact_fields import normalize_linkedin_url, normalize_phone, phone_display
from apps.people.models import Contact
from apps.people.tests.factories import ContactFactory


@pytest.mark.parametrize("raw, expected", [
    ("(415) 555-0123", "+14155550123"),  # no country code: the default region (US)
    ("+44 20 7946 0958", "+442079460958"),
    ("+1.415.555.0123", "+14155550123"),
    ("", ""),
])
def test_phone_numbers_are_stored_as_e164(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", ["12", "call me", "+1 999 000"])
def test_impossible_phone_numbers_say_what_is_expected(raw):
    with pytest.raises(ValidationError, match="with its country code, like \\+1 415 555 0123"):
        normalize_phone(raw)


@pytest.mark.parametrize("raw, expected", [
    ("linkedin.com/in/jane-doe", "https://www.linkedin.com/in/jane-doe"),
    ("https://uk.linkedin.com/in/Jane-Doe/?trk=x", "https://www.linkedin.com/in/Jane-Doe"),
    ("http://www.linkedin.com/company/initech/", "https://www.linkedin.com/company/initech"),
])
def test_linkedin_addresses_are_canonical(raw, expected):
    assert normalize_linkedin_url(raw) == expected


@pytest.mark.parametrize("raw", ["https://example.com/in/jane", "https://www.linkedin.com/feed/", "https://evil-linkedin.com/in/x"])
def test_other_addresses_are_not_linkedin_profiles(raw):
    with pytest.raises(ValidationError, match="not a LinkedIn profile address"):
        normalize_linkedin_url(raw)


def test_phone_reads_with_spaces():
    assert phone_display("+14155550123") == "+1 415-555-0123"


@pytest.mark.django_db
def test_admin_form_validates_and_normalises(admin_client):
    contact = ContactFactory(email="peter@initech.com")
    url = f"/admin/people/contact/{contact.pk}/change/"
    form = {"first_name": "Peter", "last_name": "Gibbons", "email": "peter@initech.com", "title": "", "persona": "",
            "buying_role": "other", "source": "outbound", "phone": "415 555 0123",
            "linkedin_url": "linkedin.com/in/peter-gibbons/"}
    response = admin_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    contact.refresh_from_db()
    assert str(contact.phone) == "+14155550123"
    assert contact.linkedin_url == "https://www.linkedin.com/in/peter-gibbons"
    response = admin_client.post(url, {**form, "phone": "not a number", "linkedin_url": "https://example.com/x"})
    page = response.content.decode()
    assert response.status_code == 200 and "not a LinkedIn profile address" in page
    assert "phone number" in page.lower()


@pytest.mark.django_db
def test_csv_import_and_export_carry_phone_and_linkedin(settings, tmp_path):
    from apps.accounts.csv_safety import csv_writer
    from apps.accounts.imports.exports import contact_export_rows
    from apps.accounts.imports.services import import_run
    from apps.accounts.tests.factories import AccountFactory

    settings.MEDIA_ROOT = tmp_path / "media"
    AccountFactory(name="Initech", domain="initech.com")
    header = "first_name,last_name,email,phone,linkedin_url\n"
    bad = import_run(kind="contacts", data=(header + "Bill,Lumbergh,bill@initech.com,nope,linkedin.com/in/bill\n").encode())
    assert bad.refused and [(e.line, e.column) for e in bad.errors] == [(2, "phone")]
    assert "with its country code" in bad.errors[0].message
    good = import_run(kind="contacts", data=(header + "Peter,Gibbons,peter@initech.com,(415) 555-0123,linkedin.com/in/peter\n").encode())
    assert good.new == 1
    peter = Contact.objects.get(email="peter@initech.com")
    assert (str(peter.phone), peter.linkedin_url) == ("+14155550123", "https://www.linkedin.com/in/peter")

    out = io.StringIO()
    writer = csv_writer(out)
    for row in contact_export_rows(Contact.objects.all()):
        writer.writerow(row)
    exported = out.getvalue()
    assert exported.splitlines()[0].endswith(",phone,linkedin_url")
    assert "+14155550123" in exported and "https://www.linkedin.com/in/peter" in exported
    back = import_run(kind="contacts", data=exported.encode())  # export → import changes nothing
    assert (back.new, back.updated, back.unchanged, back.rejected) == (0, 0, 1, 0)
    blank = import_run(kind="contacts", data=(header + "Peter,Gibbons,peter@initech.com,,\n").encode())
    assert blank.unchanged == 1  # an empty cell keeps the number on file
    peter.refresh_from_db()
    assert str(peter.phone) == "+14155550123"


@pytest.mark.django_db
def test_api_shows_phone_and_linkedin(client, ops):
    ContactFactory(email="milton@initech.com", phone="+14155550199", linkedin_url="https://www.linkedin.com/in/milton")
    client.force_login(ops.user)
    body = client.get("/api/contacts/", {"email": "milton@initech.com"}).json()
    [row] = body.get("results", body)
    assert row["phone"] == "+14155550199" and row["linkedin_url"] == "https://www.linkedin.com/in/milton"
