"""lead.assigned, lead.sla_breached and return.decided: written to the outbox by the owning
services' in-transaction hooks (people, routing), delivered like owner changes."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import OwnershipReason
from apps.accounts.services import account_set_owner
from apps.accounts.tests.factories import AccountFactory
from apps.integrations.models import EventType, OutboxEvent, WebhookEndpoint
from apps.integrations.outbox import sign
from apps.leads.services import lead_cycle_open, lead_cycle_sla_enforce
from apps.people.models import Rep
from apps.people.tests.factories import ContactFactory, RepFactory
from apps.routing.services import return_approve, return_file, return_reject

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
LEAD_AND_RETURN_EVENTS = [EventType.LEAD_ASSIGNED, EventType.SLA_BREACHED, EventType.RETURN_DECIDED]


@pytest.fixture(autouse=True)
def fast_webhooks(settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 2


@pytest.fixture
def endpoint(receiver):
    return WebhookEndpoint.objects.create(
        name="Engagement tool", url=receiver.url, event_types=LEAD_AND_RETURN_EVENTS, allow_private_network=True,
    )


def payloads(event_type):
    return [e.payload for e in OutboxEvent.objects.filter(type=event_type).order_by("pk")]


def test_lead_routed_through_the_api_is_announced_signed(
    endpoint, receiver, make_client, ops, sdr, django_capture_on_commit_callbacks
):
    account = AccountFactory(domain="acme.com", name="Acme")
    account_set_owner(account=account, to_rep=sdr, reason=OwnershipReason.MANUAL)
    client, _ = make_client(ops)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/leads/", {"email": "jo@acme.com", "first_name": "Jo"}, format="json")
    assert response.status_code == 201
    event = OutboxEvent.objects.get(type="lead.assigned")
    assert event.status == OutboxEvent.Status.DELIVERED
    [request] = receiver.requests
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["x-sdrops-event"] == "lead.assigned" and headers["x-sdrops-event-id"] == str(event.event_id)
    assert headers["x-sdrops-signature"] == sign(endpoint.secret, request["body"])
    data = json.loads(request["body"])["data"]
    assert data["contact"]["email"] == "jo@acme.com" and data["account"]["domain"] == "acme.com"
    assert data["rep"]["owner_name"] == "Sam Seller" and data["from_rep"] is None and data["reason"] == "assigned"
    assert data["lead_cycle"]["id"] == response.json()["lead_cycle"]["id"]


def test_lead_event_shares_the_fate_of_the_assignment(endpoint, sdr):
    contact = ContactFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        lead_cycle_open(contact=contact, rep=sdr)
        assert OutboxEvent.objects.filter(type="lead.assigned").count() == 1
        raise RuntimeError("the request fails after the lead was assigned")
    assert not OutboxEvent.objects.exists()


def test_nobody_subscribed_costs_one_query_and_writes_nothing(receiver, sdr):
    WebhookEndpoint.objects.create(name="owners only", url=receiver.url, event_types=[EventType.ACCOUNT_ASSIGNED])
    contact = ContactFactory()
    with CaptureQueriesContext(connection) as queries:
        lead_cycle_open(contact=contact, rep=sdr)
    outbox_queries = [q for q in queries.captured_queries if "integrations_webhookendpoint" in q["sql"]]
    assert len(outbox_queries) == 1
    assert not OutboxEvent.objects.exists()


def test_sla_breaches_and_the_reassignment_are_announced(endpoint, sdr, team):
    free = RepFactory(role=Rep.Role.SDR, team=team, owner_name="Free Fred")
    contact = ContactFactory()
    account_set_owner(account=contact.account, to_rep=sdr, reason=OwnershipReason.DISTRIBUTION)
    with time_machine.travel(T0, tick=False):
        cycle = lead_cycle_open(contact=contact, rep=sdr)
    with time_machine.travel(T0 + dt.timedelta(hours=2), tick=False):
        assert lead_cycle_sla_enforce(cycle_id=cycle.pk) == "reminded"
    [target] = payloads("lead.sla_breached")
    assert target["data"]["breach"]["kind"] == "target"
    assert target["data"]["breach"]["breached_rep"]["owner_name"] == "Sam Seller"
    assert target["data"]["breach"]["reassigned_to"] is None
    at = T0 + dt.timedelta(hours=24)
    with time_machine.travel(at, tick=False):
        assert lead_cycle_sla_enforce(cycle_id=cycle.pk) == "reassigned"
        # Running again adds nothing: the breach is recorded once.
        assert lead_cycle_sla_enforce(cycle_id=cycle.pk) == "skipped"
    maximum = payloads("lead.sla_breached")[1]
    assert maximum["data"]["breach"]["kind"] == "maximum"
    assert maximum["data"]["breach"]["reassigned_to"]["owner_name"] == "Free Fred"
    assert maximum["occurred_at"] == at.isoformat()
    assigned = payloads("lead.assigned")
    assert [p["data"]["reason"] for p in assigned] == ["assigned", "sla_reassignment"]
    assert assigned[1]["data"]["from_rep"]["owner_name"] == "Sam Seller"
    assert assigned[1]["data"]["rep"]["id"] == free.pk
    assert assigned[1]["data"]["lead_cycle"]["reassignment_count"] == 1
    assert OutboxEvent.objects.count() == 4


def test_return_decisions_are_announced(endpoint, sdr, ops):
    first, second = AccountFactory(domain="one.io"), AccountFactory(domain="two.io")
    for account in (first, second):
        account_set_owner(account=account, to_rep=sdr, reason=OwnershipReason.DISTRIBUTION)
    filed = return_file(account=first, rep=sdr, reason="not_interested", note="No budget")
    assert not OutboxEvent.objects.exists()  # filing is not a decision
    return_approve(return_request=filed, actor=ops.user, outcome="rest", rest_days=10)
    return_reject(return_request=return_file(account=second, rep=sdr, reason="bad_data"), actor=ops.user,
                  note="The data is fine")
    approved, rejected = payloads("return.decided")
    assert approved["data"]["return"]["status"] == "approved" and approved["data"]["return"]["outcome"] == "rest"
    assert approved["data"]["return"]["rest_days"] == 10 and approved["data"]["account"]["id"] == first.pk
    assert approved["data"]["rep"]["owner_name"] == "Sam Seller"
    assert approved["data"]["return"]["reviewed_by"] == ops.user.username
    assert rejected["data"]["return"]["status"] == "rejected"
    assert rejected["data"]["return"]["review_note"] == "The data is fine"
