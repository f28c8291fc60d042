"""The lead page, today list and lifecycle admin screens, as an SDR, a manager and ops."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.accounts.services import account_set_owner
from apps.cadences.services import enrolment_create
from apps.cadences.tests.factories import cadence_with_steps
from apps.leads.models import DispositionReason, LeadCycle
from apps.leads.services import lead_cycle_open
from apps.people.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def my_lead(sdr):
    contact = ContactFactory(email="lead@acme.com")
    account_set_owner(account=contact.account, to_rep=sdr, reason="distribution")
    lead_cycle_open(contact=contact, rep=sdr, assigned_at=timezone.now() - dt.timedelta(minutes=30))
    return contact


def lead_url(contact):
    return reverse("admin:cadences_lead_page", args=[contact.pk])


def test_sdr_logs_a_call_and_the_lead_moves_to_working(client, sdr, my_lead):
    client.force_login(sdr.user)
    page = client.get(lead_url(my_lead))
    assert page.status_code == 200 and "Due in 1 h 29 min" in page.content.decode()
    response = client.post(lead_url(my_lead), {"action": "log", "log-type": "call", "log-outcome": "no_response",
                                               "log-subject": "Intro call"})
    assert response.status_code == 302
    cycle = LeadCycle.objects.get(contact=my_lead)
    assert cycle.state == "working" and my_lead.activities.get().rep == sdr
    assert "on time" in client.get(lead_url(my_lead)).content.decode()


def test_disposition_form_requires_a_matching_reason_and_changes_nothing_otherwise(client, sdr, my_lead):
    client.force_login(sdr.user)
    response = client.post(lead_url(my_lead), {"action": "disposition", "disposition-disposition": "nurture"})
    assert response.status_code == 200 and "needs a reason from the list" in response.content.decode()
    duplicate = DispositionReason.objects.get(label="Duplicate")
    response = client.post(lead_url(my_lead), {"action": "disposition", "disposition-disposition": "nurture",
                                               "disposition-reason": duplicate.pk})
    assert "is a unqualified reason" in response.content.decode()
    response = client.post(lead_url(my_lead), {"action": "disposition", "disposition-disposition": "qualified"})
    assert "needs a meeting or an opportunity" in response.content.decode()
    assert LeadCycle.objects.get(contact=my_lead).state == "assigned"
    response = client.post(lead_url(my_lead), {"action": "disposition", "disposition-disposition": "unqualified",
                                               "disposition-reason": duplicate.pk})
    assert response.status_code == 302
    cycle = LeadCycle.objects.get(contact=my_lead)
    assert (cycle.disposition, cycle.bypassed_working) == ("unqualified", True)


def test_another_reps_lead_is_not_found(client, other_sdr, my_lead):
    client.force_login(other_sdr.user)
    assert client.get(lead_url(my_lead)).status_code == 404
    assert client.post(lead_url(my_lead), {"action": "log", "log-type": "call"}).status_code == 404


def test_manager_sees_the_lead_and_can_override(client, manager, my_lead):
    client.force_login(manager.user)
    page = client.get(lead_url(my_lead)).content.decode()
    assert "Manager override" in page
    response = client.post(lead_url(my_lead), {"action": "disposition", "disposition-disposition": "qualified",
                                               "disposition-override": "on"})
    assert response.status_code == 302
    assert LeadCycle.objects.get(contact=my_lead).qualified_override_by == manager.user


def test_enrol_skip_and_today_list(client, sdr, my_lead):
    cadence = cadence_with_steps(name="Quick three")
    client.force_login(sdr.user)
    assert client.post(lead_url(my_lead), {"action": "enrol", "enrol-cadence": cadence.pk}).status_code == 302
    enrolment = my_lead.enrolments.get()
    today = client.get(reverse("admin:cadences_today")).content.decode()
    assert "Quick three" in today and lead_url(my_lead) in today
    first = enrolment.steps.get(position=1)
    assert client.post(lead_url(my_lead), {"action": "skip", "step": first.pk}).status_code == 302
    first.refresh_from_db()
    assert first.outcome == "not_completed"
    response = client.post(lead_url(my_lead), {"action": "enrol", "enrol-cadence": cadence.pk}, follow=True)
    assert "already enrolled" in response.content.decode()


def test_contact_page_shows_cycles_cadence_and_sla(client, sdr, my_lead):
    with_cadence = cadence_with_steps(name="Panel cadence")
    enrolment_create(contact=my_lead, cadence=with_cadence, rep=sdr)
    client.force_login(sdr.user)
    page = client.get(reverse("admin:people_contact_change", args=[my_lead.pk])).content.decode()
    assert 'id="contact-lead-panel"' in page and "Panel cadence" in page and "Due in" in page
    assert lead_url(my_lead) in page


@pytest.mark.parametrize(
    "name",
    ["cadences_cadence_changelist", "cadences_enrolment_changelist", "leads_slapolicy_changelist",
     "leads_dispositionreason_changelist", "leads_slabreach_changelist",
     "leads_teampullrange_changelist", "leads_leadcycle_changelist", "cadences_today"],
)
def test_ops_screens_load(client, ops, name, my_lead):
    client.force_login(ops.user)
    assert client.get(reverse(f"admin:{name}")).status_code == 200


def test_vague_reason_refused_in_the_admin(client, ops):
    client.force_login(ops.user)
    response = client.post(reverse("admin:leads_dispositionreason_add"),
                           {"disposition": "unqualified", "label": "Not a fit", "active": "on", "position": 0})
    assert response.status_code == 200 and "too vague" in response.content.decode()
    assert not DispositionReason.objects.filter(label="Not a fit").exists()


def test_pages_run_a_bounded_number_of_queries(client, sdr, django_assert_max_num_queries):
    cadence = cadence_with_steps(name="Bulk")
    contacts = []
    for n in range(12):
        contact = ContactFactory(email=f"bulk{n}@acme.com")
        account_set_owner(account=contact.account, to_rep=sdr, reason="distribution")
        enrolment_create(contact=contact, cadence=cadence, rep=sdr, at=timezone.now() - dt.timedelta(days=1))
        contacts.append(contact)
    for n in range(8):
        lead_cycle_open(contact=ContactFactory(email=f"new{n}@acme.com"), rep=sdr)
    client.force_login(sdr.user)
    with django_assert_max_num_queries(20):
        page = client.get(reverse("admin:cadences_today"))
    assert page.content.decode().count("Bulk") == 12
    with django_assert_max_num_queries(25):
        assert client.get(lead_url(contacts[0])).status_code == 200
