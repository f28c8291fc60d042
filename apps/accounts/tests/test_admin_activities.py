"""Logging an activity in the admin's Activity screen is the same write as the lead page and
the API (apps.cadences.services.activity_create): a call moves the lead and ends the step."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Activity
from apps.accounts.services import account_set_owner
from apps.cadences.models import EnrolmentStep
from apps.cadences.services import enrolment_create
from apps.cadences.tests.factories import cadence_with_steps
from apps.leads.models import LeadCycle
from apps.leads.services import lead_cycle_open
from apps.people.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def enrolled_lead(sdr):
    contact = ContactFactory(email="lead@acme.com")
    account_set_owner(account=contact.account, to_rep=sdr, reason="distribution")
    assigned_at = timezone.now() - dt.timedelta(minutes=30)
    lead_cycle_open(contact=contact, rep=sdr, assigned_at=assigned_at)
    enrolment_create(contact=contact, cadence=cadence_with_steps(), rep=sdr, at=assigned_at)
    return contact


def _add_form(contact, rep, *, type="call", at=None, subject="Called from the activity screen"):
    at = timezone.localtime(at or timezone.now() - dt.timedelta(minutes=5))
    return {
        "type": type, "rep": rep.pk, "account": contact.account_id, "contact": contact.pk,
        "occurred_at_0": at.strftime("%Y-%m-%d"), "occurred_at_1": at.strftime("%H:%M:%S"), "subject": subject,
    }


def test_a_call_logged_in_the_activity_admin_moves_the_lead_and_ends_the_step(client, sdr, enrolled_lead):
    client.force_login(sdr.user)
    response = client.post(reverse("admin:accounts_activity_add"), _add_form(enrolled_lead, sdr))
    assert response.status_code == 302, response.content.decode()[:2000]
    activity = Activity.objects.get(contact=enrolled_lead)
    cycle = LeadCycle.objects.get(contact=enrolled_lead)
    assert cycle.state == "working"
    assert cycle.first_touch_at == activity.occurred_at
    assert cycle.response_time is not None and cycle.response_time > dt.timedelta(0)
    first_step = EnrolmentStep.objects.get(enrolment__contact=enrolled_lead, position=1)
    assert (first_step.outcome, first_step.activity_id) == ("no_response", activity.pk)


def test_the_activity_admin_refuses_what_the_service_refuses(client, sdr, enrolled_lead):
    client.force_login(sdr.user)
    future = timezone.now() + dt.timedelta(days=2)
    response = client.post(reverse("admin:accounts_activity_add"), _add_form(enrolled_lead, sdr, at=future))
    assert response.status_code == 200
    assert "An activity cannot be logged in the future." in response.content.decode()
    assert not Activity.objects.filter(contact=enrolled_lead).exists()
    assert LeadCycle.objects.get(contact=enrolled_lead).state == "assigned"
