"""The SDR → AE hand-off in a real browser: Sam books a meeting from the contact for his
partner AE; after the meeting Abe finds it on the admin index and dispositions it."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from apps.accounts.services import account_set_owner
from apps.accounts.tests.factories import AccountFactory
from apps.leads.models import LeadCycle
from apps.meetings.defaults import meetings_defaults_ensure
from apps.meetings.models import Meeting, Opportunity
from apps.people.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_sdr_books_a_meeting_and_the_ae_dispositions_it(page, login, sdr, ae, manager):
    meetings_defaults_ensure()  # the flushed database lost the data migration's stages
    sdr.ae_partners.add(ae)
    account = AccountFactory(name="Initech", domain="initech.com")
    account_set_owner(account=account, to_rep=sdr, reason="manual")
    contact = ContactFactory(account=account, first_name="Peter", last_name="Gibbons", email="peter@initech.com")
    start = (timezone.localtime() + dt.timedelta(hours=2)).replace(second=0, microsecond=0)

    login("sam")
    page.goto(f"/admin/people/contact/{contact.pk}/change/")
    page.click("#book-meeting")
    page.wait_for_url(f"**/admin/meetings/meeting/book/{contact.pk}/")
    assert page.input_value("#id_ae") == str(ae.pk)  # the partner AE is the default
    page.fill("#id_scheduled_at", start.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#id_notes", "Evaluating three vendors; budget approved.")
    page.click("input[name=_book]")
    page.wait_for_selector(".messagelist .success")
    assert "Booked: Initial qualifying meeting with Peter Gibbons" in page.inner_text(".messagelist")
    meeting = Meeting.objects.get()
    assert meeting.sdr == sdr and meeting.ae == ae and meeting.scheduled_at == start

    with time_machine.travel(start + dt.timedelta(minutes=40), tick=True):
        login("abe")
        panel = page.locator("#meetings-panel")
        assert "My meetings to disposition" in panel.text_content()
        panel.locator("tr", has_text="Peter Gibbons").locator("a.meeting-disposition").click()
        page.fill("#id_notes", "Strong fit, moving to discovery.")
        page.click("#outcome-completed_qualified")
        page.wait_for_selector(".messagelist .success")
        assert "Completed – Qualified" in page.inner_text(".messagelist")
        assert "Nothing to disposition." in page.text_content("#meetings-panel")

    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.COMPLETED_QUALIFIED and meeting.disposition_late is False
    assert LeadCycle.objects.get(contact=contact).disposition == LeadCycle.Disposition.QUALIFIED
    opportunity = Opportunity.objects.get()
    assert opportunity.sourcing_sdr == sdr and opportunity.owner == ae
