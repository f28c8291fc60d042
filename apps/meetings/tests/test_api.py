"""Meetings through the API: booking and disposition call apps.meetings.services, with the
admin's rules on who may book for whom and who may disposition; meeting.dispositioned is
written to the webhook outbox in the disposition's transaction."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from rest_framework.test import APIClient

from apps.integrations.models import EventType, OutboxEvent, WebhookEndpoint
from apps.integrations.services import integration_create
from apps.leads.models import LeadCycle
from apps.meetings.models import Meeting

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    made = []

    def make(rep, scopes=("read", "write_leads_activities")):
        made.append(rep)
        _, token = integration_create(name=f"tool-{rep.user.username}-{len(made)}", user=rep.user, scopes=list(scopes))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client

    return make


def test_sdr_books_for_their_partner_ae_and_the_ae_dispositions(api, pod, contact, start, other_sdr):
    WebhookEndpoint.objects.create(name="CRM", url="https://crm.example.com/hook",
                                   event_types=[EventType.MEETING_DISPOSITIONED])
    sdr, ae = pod["sdr"], pod["ae"]
    booked = api(sdr).post("/api/meetings/", {"contact_email": "PETER@initech.com", "scheduled_at": start.isoformat()},
                           format="json")
    assert booked.status_code == 201, booked.json()
    body = booked.json()
    # Defaults as in the admin: the caller as SDR, the partner AE of the account's segment.
    assert (body["sdr"], body["ae"], body["status"], body["kind"]) == (sdr.pk, ae.pk, "scheduled", "iqm")
    meeting_id = body["id"]
    # The SDR may not disposition (their role has no right to); another SDR does not see it.
    assert api(sdr).post(f"/api/meetings/{meeting_id}/disposition/", {"outcome": "no_show"},
                         format="json").status_code == 403
    assert api(other_sdr).get(f"/api/meetings/{meeting_id}/").status_code == 404
    after = time_machine.travel(start + dt.timedelta(hours=1), tick=False)
    after.start()
    bad = api(ae).post(f"/api/meetings/{meeting_id}/disposition/", {"outcome": "rescheduled"}, format="json")
    assert bad.status_code == 400 and "outcome" in bad.json()["errors"]
    done = api(ae).post(f"/api/meetings/{meeting_id}/disposition/",
                        {"outcome": "completed_qualified", "notes": "Budget and timing confirmed"}, format="json")
    assert done.status_code == 200, done.json()
    assert done.json()["status"] == "completed_qualified" and done.json()["opportunity"] is not None
    assert LeadCycle.objects.filter(contact=contact, disposition="qualified").exists()
    [event] = OutboxEvent.objects.filter(type="meeting.dispositioned")
    assert event.payload["data"]["meeting"]["status"] == "completed_qualified"
    assert event.payload["data"]["ae"]["id"] == ae.pk and event.payload["data"]["sdr"]["id"] == sdr.pk
    again = api(ae).post(f"/api/meetings/{meeting_id}/disposition/", {"outcome": "no_show"}, format="json")
    assert again.status_code == 400
    after.stop()


def test_booking_validation_and_scope(api, pod, contact, start, other_sdr):
    sdr = pod["sdr"]
    client = api(sdr)
    missing = client.post("/api/meetings/", {"scheduled_at": start.isoformat()}, format="json")
    assert missing.status_code == 400 and "contact" in missing.json()["errors"]
    bad_time = client.post("/api/meetings/", {"contact": contact.pk, "scheduled_at": "soon"}, format="json")
    assert bad_time.status_code == 400 and "scheduled_at" in bad_time.json()["errors"]
    past = client.post("/api/meetings/", {"contact": contact.pk,
                                          "scheduled_at": (start - dt.timedelta(days=30)).isoformat()}, format="json")
    assert past.status_code == 400
    # Another SDR cannot book with a contact outside their book, nor for Sam.
    outsider = api(other_sdr)
    assert outsider.post("/api/meetings/", {"contact": contact.pk, "scheduled_at": start.isoformat()},
                         format="json").status_code == 400
    assert not Meeting.objects.exists()
    no_scope = api(sdr, scopes=("read",))
    assert no_scope.post("/api/meetings/", {"contact": contact.pk, "scheduled_at": start.isoformat()},
                         format="json").status_code == 403
