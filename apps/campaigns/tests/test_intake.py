"""Leads arrive with a campaign through every lead-intake entry: POST /api/leads/, the
route_leads CSV column and the contact admin — each through apps.routing.intake.lead_intake."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from apps.accounts.models import OwnershipReason
from apps.accounts.services import account_set_owner
from apps.accounts.tests.factories import AccountFactory
from apps.cadences.models import Enrolment
from apps.cadences.tests.factories import cadence_with_steps
from apps.campaigns.models import CampaignInteraction
from apps.campaigns.tests.factories import CampaignFactory
from apps.leads.models import LeadCycle

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(sdr):
    account = AccountFactory(domain="acme.com", name="Acme")
    account_set_owner(account=account, to_rep=sdr, reason=OwnershipReason.MANUAL)
    return account


def test_api_lead_arrives_with_a_campaign_and_is_enrolled_in_its_cadence(make_client, ops, sdr, acme):
    cadence = cadence_with_steps(lead_type="inbound", name="Demo request follow-up")
    campaign = CampaignFactory(name="Demo page", offer="demo_request", cadence=cadence)
    client, _ = make_client(ops)
    response = client.post("/api/leads/", {"email": "bo@acme.com", "campaign": "demo page"}, format="json")
    assert response.status_code == 201, response.json()
    cycle = LeadCycle.objects.get(contact__email="bo@acme.com")
    assert cycle.campaign == "Demo page"
    interaction = CampaignInteraction.objects.get(lead_cycle=cycle)
    assert (interaction.campaign, interaction.via, interaction.actor) == (campaign, "api", ops.user)
    assert Enrolment.objects.get(contact=cycle.contact).cadence == cadence

    # The same contact comes back through another campaign while its cycle is open: an
    # interaction, no second cycle, the cycle keeps its campaign.
    other = CampaignFactory(name="Pricing webinar")
    again = client.post("/api/leads/", {"email": "bo@acme.com", "campaign": other.pk}, format="json")
    assert again.status_code == 200 and not again.json()["routed"]
    assert LeadCycle.objects.filter(contact__email="bo@acme.com").count() == 1
    assert list(CampaignInteraction.objects.filter(contact=cycle.contact).order_by("id").values_list(
        "campaign__name", "lead_cycle_id")) == [("Demo page", cycle.pk), ("Pricing webinar", None)]


def test_api_unknown_campaign_is_a_400_and_nothing_is_written(make_client, ops, acme):
    client, _ = make_client(ops)
    response = client.post("/api/leads/", {"email": "bo@acme.com", "campaign": "Nope"}, format="json")
    assert response.status_code == 400
    assert "No campaign “Nope”" in str(response.json())
    assert not LeadCycle.objects.exists() and not CampaignInteraction.objects.exists()


def test_api_schema_documents_the_campaign_field(client, ops):
    client.force_login(ops.user)
    schema = client.get("/api/schema/", {"format": "json"}).json()
    lead_in = schema["components"]["schemas"]["LeadInRequest"]["properties"]["campaign"]
    assert "campaign the lead arrived with" in lead_in["description"]
    assert "/api/campaigns/" in schema["paths"]


def test_route_leads_campaign_column(tmp_path, sdr, acme):
    CampaignFactory(name="Tradeshow 2026", offer="event")
    csv = tmp_path / "leads.csv"
    csv.write_text("email,campaign\nana@acme.com,Tradeshow 2026\nbo@acme.com,\n")
    call_command("route_leads", str(csv), stdout=StringIO())
    ana = CampaignInteraction.objects.get(contact__email="ana@acme.com")
    assert (ana.campaign.name, ana.via, ana.lead_cycle.contact.email) == ("Tradeshow 2026", "csv", "ana@acme.com")
    assert not CampaignInteraction.objects.filter(contact__email="bo@acme.com").exists()


def test_route_leads_unknown_campaign_stops_the_file_with_its_line(tmp_path, sdr, acme):
    csv = tmp_path / "leads.csv"
    csv.write_text("email,campaign\nana@acme.com,Tradeshow 2026\nbo@acme.com,Nope\n")
    with pytest.raises(CommandError) as error:
        call_command("route_leads", str(csv), stdout=StringIO())
    assert "line 2, campaign: No campaign “Tradeshow 2026”" in str(error.value)
    assert "line 3, campaign: No campaign “Nope”" in str(error.value)
    assert not LeadCycle.objects.exists()


def test_contact_admin_add_with_a_campaign(client, ops, sdr, acme):
    campaign = CampaignFactory(name="Spring webinar", offer="webinar")
    client.force_login(ops.user)
    response = client.post(reverse("admin:people_contact_add"), {
        "first_name": "Cy", "last_name": "", "email": "cy@acme.com", "title": "", "persona": "",
        "buying_role": "other", "source": "inbound", "account": acme.pk, "campaign": campaign.pk,
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    interaction = CampaignInteraction.objects.get(contact__email="cy@acme.com")
    assert (interaction.campaign, interaction.via) == (campaign, "admin")
    assert interaction.lead_cycle.rep == sdr
    # The change page does not offer the field (a campaign comes with a new lead).
    page = client.get(reverse("admin:people_contact_change", args=[interaction.contact_id])).content.decode()
    assert 'name="campaign"' not in page


def test_a_queued_lead_gets_its_campaign_when_a_rep_claims_it(make_client, ops, sdr):
    from apps.routing.models import Strategy
    from apps.routing.services import queue_claim_next
    from apps.routing.tests.factories import rule_with

    rule_with([sdr], strategy=Strategy.QUEUE, name="Inbound queue")
    cadence = cadence_with_steps(lead_type="inbound", name="Webinar follow-up")
    campaign = CampaignFactory(name="Spring webinar", offer="webinar", cadence=cadence)
    client, _ = make_client(ops)
    body = client.post("/api/leads/", {"email": "dee@newco.io", "campaign": "Spring webinar"}, format="json").json()
    assert body["decision"]["outcome"] == "queued" and body["lead_cycle"] is None
    waiting = CampaignInteraction.objects.get(contact__email="dee@newco.io")
    assert waiting.lead_cycle_id is None
    queue_claim_next(rep=sdr, actor=sdr.user)
    waiting.refresh_from_db()
    cycle = LeadCycle.objects.get(contact__email="dee@newco.io")
    assert (waiting.lead_cycle, cycle.campaign) == (cycle, "Spring webinar")
    assert Enrolment.objects.get(contact=cycle.contact).cadence == campaign.cadence
