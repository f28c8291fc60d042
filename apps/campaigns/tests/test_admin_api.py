"""Ops keep campaigns in the admin; other roles read them; the API lists them."""

import pytest
from django.urls import reverse

from apps.campaigns.models import Campaign
from apps.campaigns.tests.factories import CampaignFactory


@pytest.mark.django_db
def test_ops_creates_a_campaign_in_the_admin(client, ops):
    client.force_login(ops.user)
    response = client.post(reverse("admin:campaigns_campaign_add"), {
        "name": "Tradeshow 2026", "source": "event", "channel": "tradeshow", "offer": "event", "goal": "leads",
        "starts_on": "2026-03-01", "ends_on": "2026-03-03", "cost": "350000", "description": "",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    campaign = Campaign.objects.get()
    assert (campaign.offer, str(campaign.cost)) == ("event", "350000.00")
    page = client.get(reverse("admin:campaigns_campaign_changelist"))
    assert "Tradeshow 2026" in page.content.decode()


@pytest.mark.django_db
def test_dates_must_be_ordered(client, ops):
    client.force_login(ops.user)
    response = client.post(reverse("admin:campaigns_campaign_add"), {
        "name": "Backwards", "source": "event", "offer": "event", "goal": "leads",
        "starts_on": "2026-03-05", "ends_on": "2026-03-01", "cost": "1",
    })
    assert response.status_code == 200
    assert not Campaign.objects.exists()


@pytest.mark.django_db
def test_sdr_reads_campaigns_but_cannot_add(client, sdr):
    CampaignFactory(name="Webinar")
    client.force_login(sdr.user)
    assert client.get(reverse("admin:campaigns_campaign_changelist")).status_code == 200
    assert client.get(reverse("admin:campaigns_campaign_add")).status_code == 403


@pytest.mark.django_db
def test_api_lists_campaigns(client, ops):
    CampaignFactory(name="Webinar", offer="webinar", cost=1200)
    client.force_login(ops.user)
    body = client.get("/api/campaigns/").json()
    rows = body["results"] if isinstance(body, dict) else body
    assert [(r["name"], r["offer"], r["cost"]) for r in rows] == [("Webinar", "webinar", "1200.00")]
