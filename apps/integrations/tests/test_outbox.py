from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from apps.accounts.models import OwnershipReason
from apps.accounts.services import account_owners_set, account_set_owner
from apps.accounts.tests.factories import AccountFactory
from apps.integrations.models import DeliveryAttempt, EventType, OutboxEvent, WebhookEndpoint
from apps.integrations.outbox import sign
from apps.integrations.tasks import SWEEP_SCHEDULE_NAME, outbox_schedule_ensure, sweep_outbox

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(receiver):
    return WebhookEndpoint.objects.create(
        name="CRM", url=receiver.url, event_types=[EventType.ACCOUNT_ASSIGNED, EventType.ACCOUNT_RETRIEVED],
        allow_private_network=True,
    )


@pytest.fixture(autouse=True)
def fast_webhooks(settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 2
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    settings.WEBHOOK_BACKOFF_BASE_SECONDS = 30


def assign(account, rep, capture, reason=OwnershipReason.MANUAL):
    with capture(execute=True):
        return account_set_owner(account=account, to_rep=rep, reason=reason)


def test_assignment_is_delivered_signed_with_stable_event_id(
    endpoint, receiver, sdr, django_capture_on_commit_callbacks
):
    account = AccountFactory(name="Acme", domain="acme.com")
    assign(account, sdr, django_capture_on_commit_callbacks)
    event = OutboxEvent.objects.get()
    assert event.status == OutboxEvent.Status.DELIVERED and event.attempts == 1
    [request] = receiver.requests
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["x-sdrops-event-id"] == str(event.event_id)
    assert headers["x-sdrops-event"] == "account.assigned"
    assert headers["x-sdrops-signature"] == sign(endpoint.secret, request["body"])
    body = json.loads(request["body"])
    assert body["event_id"] == str(event.event_id)
    assert body["data"]["account"]["domain"] == "acme.com"
    assert body["data"]["to_rep"]["owner_name"] == "Sam Seller" and body["data"]["from_rep"] is None
    assert DeliveryAttempt.objects.get(event=event).status_code == 200


def test_outbox_rows_share_the_fate_of_the_change(endpoint, sdr):
    account = AccountFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        account_set_owner(account=account, to_rep=sdr, reason=OwnershipReason.MANUAL)
        assert OutboxEvent.objects.count() == 1
        raise RuntimeError("the change fails after the owner was set")
    assert not OutboxEvent.objects.exists()


def test_only_subscribed_active_endpoints_get_events(receiver, sdr):
    WebhookEndpoint.objects.create(name="a", url=receiver.url, event_types=[EventType.LEAD_ASSIGNED])
    WebhookEndpoint.objects.create(name="b", url=receiver.url, event_types=[EventType.ACCOUNT_ASSIGNED], active=False)
    account_set_owner(account=AccountFactory(), to_rep=sdr, reason=OwnershipReason.MANUAL)
    assert not OutboxEvent.objects.exists()


def test_retrieval_and_other_pool_moves_have_their_own_types(endpoint, sdr):
    endpoint.event_types = [t.value for t in EventType]
    endpoint.save()
    first, second = AccountFactory(), AccountFactory()
    account_owners_set(changes=[(first.pk, sdr.pk), (second.pk, sdr.pk)], reason=OwnershipReason.DISTRIBUTION)
    account_set_owner(account=first, to_rep=None, reason=OwnershipReason.RETRIEVAL)
    account_set_owner(account=second, to_rep=None, reason=OwnershipReason.RETURN)
    types = sorted(OutboxEvent.objects.values_list("type", flat=True))
    assert types == ["account.assigned", "account.assigned", "account.retrieved", "account.unassigned"]


def test_failing_then_recovering_receiver(endpoint, receiver, sdr, django_capture_on_commit_callbacks):
    receiver.script = ["fail", "ok"]
    start = timezone.now()
    with time_machine.travel(start, tick=True) as traveller:
        assign(AccountFactory(), sdr, django_capture_on_commit_callbacks)
        event = OutboxEvent.objects.get()
        assert (event.status, event.attempts, event.last_error) == ("pending", 1, "HTTP 500")
        assert event.next_attempt_at >= start + dt.timedelta(seconds=30)
        assert sweep_outbox() == 0  # not due yet: back-off
        traveller.shift(dt.timedelta(seconds=31))
        assert sweep_outbox() == 1
    event.refresh_from_db()
    assert (event.status, event.attempts) == ("delivered", 2)
    ids = {r["headers"]["X-Sdrops-Event-Id"] for r in receiver.requests}
    assert ids == {str(event.event_id)} and len(receiver.requests) == 2
    assert [a.status_code for a in event.delivery_attempts.order_by("attempted_at")] == [500, 200]


def test_dead_letter_after_max_attempts_and_redelivery_from_admin(
    endpoint, receiver, sdr, ops, client, django_capture_on_commit_callbacks
):
    receiver.script = ["fail"]
    with time_machine.travel(timezone.now(), tick=True) as traveller:
        assign(AccountFactory(), sdr, django_capture_on_commit_callbacks)
        event = OutboxEvent.objects.get()
        for wait in (31, 61):  # back-off doubles
            traveller.shift(dt.timedelta(seconds=wait))
            assert sweep_outbox() == 1
        event.refresh_from_db()
        assert (event.status, event.attempts) == ("dead", 3)
        traveller.shift(dt.timedelta(hours=1))
        assert sweep_outbox() == 0  # dead letters are left alone
    assert len(receiver.requests) == 3

    receiver.script = ["ok"]
    receiver.requests.clear()
    client.force_login(ops.user)
    changelist = reverse("admin:integrations_outboxevent_changelist")
    assert b"Dead letter" in client.get(changelist, {"status__exact": "dead"}).content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(changelist, {"action": "redeliver", "_selected_action": [event.pk]})
    assert response.status_code == 302
    event.refresh_from_db()
    assert (event.status, event.attempts) == ("delivered", 1)
    assert receiver.requests[0]["headers"]["X-Sdrops-Event-Id"] == str(event.event_id)


def test_hanging_receiver_times_out_and_is_retried_later(
    endpoint, receiver, sdr, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    receiver.script = ["hang"]
    assign(AccountFactory(), sdr, django_capture_on_commit_callbacks)
    event = OutboxEvent.objects.get()
    assert event.status == "pending" and "timed out" in event.last_error
    attempt = event.delivery_attempts.get()
    assert attempt.status_code is None and attempt.duration_ms < 5000


def test_private_addresses_are_refused_unless_ops_allows_them(
    endpoint, receiver, sdr, django_capture_on_commit_callbacks
):
    endpoint.allow_private_network = False
    endpoint.save()
    assign(AccountFactory(), sdr, django_capture_on_commit_callbacks)
    event = OutboxEvent.objects.get()
    assert "private" in event.last_error and receiver.requests == []
    endpoint.url = receiver.url.replace("127.0.0.1", "localhost")
    endpoint.save()
    from apps.integrations.outbox import outbox_event_deliver

    OutboxEvent.objects.filter(pk=event.pk).update(next_attempt_at=timezone.now())
    assert "private" in outbox_event_deliver(event_pk=event.pk).last_error
    assert receiver.requests == []


def test_admin_form_refuses_private_urls_without_the_flag(ops, client):
    client.force_login(ops.user)
    response = client.post(
        reverse("admin:integrations_webhookendpoint_add"),
        {"name": "x", "url": "http://10.0.0.5/hook", "event_types": ["account.assigned"], "active": "on",
         "secret": "s"},
    )
    assert response.status_code == 200 and b"private" in response.content
    assert not WebhookEndpoint.objects.exists()


def test_sweep_schedule_is_declared_once(db):
    outbox_schedule_ensure()
    outbox_schedule_ensure()
    schedule = Schedule.objects.get(name=SWEEP_SCHEDULE_NAME)
    assert schedule.func == "apps.integrations.tasks.sweep_outbox" and schedule.schedule_type == Schedule.MINUTES


def test_many_events_in_one_commit_queue_one_sweep(endpoint, receiver, sdr, django_capture_on_commit_callbacks):
    accounts = AccountFactory.create_batch(60)
    with django_capture_on_commit_callbacks(execute=True):
        account_owners_set(changes=[(a.pk, sdr.pk) for a in accounts], reason=OwnershipReason.DISTRIBUTION)
    assert OutboxEvent.objects.filter(status="delivered").count() == 60
    assert len(receiver.requests) == 60


def test_admin_registers_an_endpoint_for_event_types(ops, client):
    client.force_login(ops.user)
    response = client.post(
        reverse("admin:integrations_webhookendpoint_add"),
        {"name": "Slack relay", "url": "https://hooks.example.com/sdrops",
         "event_types": ["account.assigned", "account.retrieved"], "active": "on", "secret": "s3cret"},
    )
    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.event_types == ["account.assigned", "account.retrieved"] and not endpoint.allow_private_network


def test_accounts_imported_with_an_owner_are_announced_like_any_assignment(endpoint, sdr, ops):
    """New accounts get their owner in the import's insert (not by a later move): the
    subscriber still hears of each, with the same payload as any other assignment."""
    from apps.accounts.imports.services import import_run

    csv = "name,website,company_owner\nAcme,acme.com,Sam Seller\nPooled,pooled.com,\n"
    outcome = import_run(kind="accounts", data=csv.encode(), actor=ops.user)
    assert (outcome.refused, outcome.new) == (False, 2)
    [event] = OutboxEvent.objects.all()
    data = event.payload["data"]
    assert event.type == EventType.ACCOUNT_ASSIGNED and event.endpoint == endpoint
    assert (data["account"]["domain"], data["from_rep"], data["to_rep"]["id"], data["reason"]) == (
        "acme.com", None, sdr.pk, "import"
    )
