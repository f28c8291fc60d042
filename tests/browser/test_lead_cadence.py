"""An SDR works a lead in a cadence in a real browser: a logged call moves the lead to
working, ends the current step with no response, and the next step comes due."""

import datetime as dt

import pytest
from django.utils import timezone

from apps.accounts.services import account_set_owner
from apps.cadences.services import enrolment_create
from apps.cadences.tests.factories import cadence_with_steps
from apps.leads.models import LeadCycle
from apps.people.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_sdr_logs_a_call_and_the_next_step_comes_due(page, login, sdr):
    contact = ContactFactory(first_name="Lena", last_name="Lead", email="lena@initech.com")
    account_set_owner(account=contact.account, to_rep=sdr, reason="manual")
    cadence = cadence_with_steps(name="Outbound sprint", steps=((0, "call"), (1, "email"), (3, "call")))
    enrolment_create(contact=contact, cadence=cadence, rep=sdr, at=timezone.now() - dt.timedelta(hours=25))

    login("sam")
    page.goto(f"/admin/people/contact/{contact.pk}/change/")
    panel = page.locator("#contact-lead-panel")
    assert "Assigned" in panel.inner_text() and "Outbound sprint" in panel.inner_text()
    page.click("text=Work this lead")
    page.wait_for_selector("#lead-page")
    assert page.inner_text("#lead-stage") == "Assigned"
    assert "Due next" in page.inner_text("tr.step[data-position='1']")

    page.select_option("#id_log-type", "call")
    page.select_option("#id_log-outcome", "no_response")
    page.fill("#id_log-subject", "Left a voicemail")
    page.click("#log-form input[type=submit]")
    page.wait_for_selector("text=Call logged.")

    assert page.inner_text("#lead-stage") == "Working"
    assert "No response" in page.inner_text("tr.step[data-position='1']")
    assert "Due next" in page.inner_text("tr.step[data-position='2']")
    assert LeadCycle.objects.get(contact=contact).state == "working"

    page.goto("/admin/cadences/enrolment/today/")
    row = page.locator("#today-steps tbody tr", has_text="Lena Lead")
    assert row.count() == 1
    cells = row.locator("td").all_inner_texts()
    assert cells[1:4] == ["Outbound sprint", "2", "Email"]
