import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from apps.accounts.tests.factories import ActivityFactory
from apps.leads.models import LeadCycle
from apps.leads.services import lead_cycle_open
from apps.people.models import Contact, PersonalDataRequest
from apps.people.privacy import email_digest
from apps.people.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_forget_contact_erases_personal_fields_and_text_but_keeps_counts(sdr):
    contact = ContactFactory(email="jane.doe@acme.com", first_name="Jane", last_name="Doe", title="CFO", persona="Finance")
    ActivityFactory(account=contact.account, contact=contact, rep=sdr, subject="Called Jane about her divorce")
    other = ActivityFactory(account=contact.account, rep=sdr, subject="Account research")
    lead_cycle_open(contact=contact, rep=sdr)
    call_command("forget_contact", "Jane.Doe@acme.com", "--note", "ticket 42")
    contact.refresh_from_db()
    assert (contact.first_name, contact.last_name, contact.title, contact.persona) == ("", "", "", "")
    assert contact.email == f"forgotten-{contact.pk}@forgotten.invalid"
    assert contact.activities.get().subject == ""
    other.refresh_from_db()
    assert other.subject == "Account research"
    assert LeadCycle.objects.filter(contact=contact).count() == 1
    request = PersonalDataRequest.objects.get()
    assert request.found and request.contact_id == contact.pk and request.note == "ticket 42"
    assert request.email_sha256 == email_digest("jane.doe@acme.com")
    assert "jane" not in str(request.__dict__).lower()


def test_forget_unknown_address_is_logged_and_refused():
    with pytest.raises(CommandError, match="No contact"):
        call_command("forget_contact", "nobody@nowhere.com")
    assert PersonalDataRequest.objects.get().found is False


def test_admin_action_needs_permission_and_confirmation(client, ops, sdr):
    from apps.accounts.services import account_set_owner

    contact = ContactFactory(email="x@acme.com", first_name="Xavier")
    account_set_owner(account=contact.account, to_rep=sdr, reason="manual")
    url = reverse("admin:people_contact_changelist")
    client.force_login(sdr.user)
    client.post(url, {"action": "forget_personal_data", "_selected_action": [contact.pk], "confirm": "yes"})
    assert Contact.objects.get(pk=contact.pk).first_name == "Xavier"
    client.force_login(ops.user)
    response = client.post(url, {"action": "forget_personal_data", "_selected_action": [contact.pk]})
    assert response.status_code == 200 and b"cannot be undone" in response.content
    assert Contact.objects.get(pk=contact.pk).first_name == "Xavier"
    response = client.post(url, {"action": "forget_personal_data", "_selected_action": [contact.pk], "confirm": "yes"})
    assert response.status_code == 302
    assert Contact.objects.get(pk=contact.pk).first_name == ""
    assert PersonalDataRequest.objects.get().requested_by == ops.user
