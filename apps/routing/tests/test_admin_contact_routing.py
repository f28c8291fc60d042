"""A new inbound contact saved in the admin is routed at once (same service as the API and CSV)."""

import pytest
from django.urls import reverse

from apps.accounts.services import account_set_owner
from apps.accounts.tests.factories import AccountFactory
from apps.leads.models import LeadCycle
from apps.people.models import Contact
from apps.routing.models import RoutingDecision

pytestmark = pytest.mark.django_db


def test_inbound_contact_added_in_admin_is_routed_to_the_account_owner(client, ops, sdr):
    account = AccountFactory(domain="routed-co.com")
    account_set_owner(account=account, to_rep=sdr, reason="manual")
    client.force_login(ops.user)
    response = client.post(
        reverse("admin:people_contact_add"),
        {"first_name": "Ina", "last_name": "Bound", "email": "ina@eu.routed-co.com", "buying_role": "champion",
         "source": "inbound", "account": ""},
        follow=True,
    )
    assert response.status_code == 200
    contact = Contact.objects.get(email="ina@eu.routed-co.com")
    decision = RoutingDecision.objects.get(contact=contact)
    assert decision.rep == sdr and decision.outcome == "current_owner"
    assert LeadCycle.objects.get(contact=contact).rep == sdr
    assert "Routed: Account" in response.content.decode()


def test_outbound_contact_is_not_routed(client, ops):
    client.force_login(ops.user)
    client.post(reverse("admin:people_contact_add"),
                {"email": "out@somewhere-new.com", "buying_role": "user", "source": "outbound", "account": ""})
    assert not RoutingDecision.objects.exists()
