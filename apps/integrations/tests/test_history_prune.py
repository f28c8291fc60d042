"""The nightly clean-up of webhook history and CRM idempotency records."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import Schedule

from apps.integrations import services
from apps.integrations.models import DeliveryAttempt, InboundDelivery, OutboxEvent, WebhookEndpoint
from apps.integrations.services import integration_create, integrations_history_prune
from apps.integrations.tasks import PRUNE_SCHEDULE_NAME, prune_schedule_ensure

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def endpoint(db):
    return WebhookEndpoint.objects.create(name="CRM", url="https://crm.example.com/hook", event_types=["account.assigned"])


def outbox_event(endpoint, *, status, age_days, attempts=1):
    at = NOW - dt.timedelta(days=age_days)
    event = OutboxEvent.objects.create(
        endpoint=endpoint, type="account.assigned", payload={}, status=status, attempts=attempts,
        created_at=at, next_attempt_at=at, delivered_at=at if status == OutboxEvent.Status.DELIVERED else None,
    )
    for _ in range(attempts):
        DeliveryAttempt.objects.create(event=event, attempted_at=at, status_code=200)
    return event


def inbound_delivery(integration, *, key, age_days):
    return InboundDelivery.objects.create(
        integration=integration, idempotency_key=key, body_sha256="0" * 64, response_status=200,
        received_at=NOW - dt.timedelta(days=age_days),
    )


def test_old_delivered_events_and_old_deliveries_go_pending_and_dead_letters_stay(endpoint, ops, settings):
    settings.WEBHOOK_HISTORY_DAYS = 30
    settings.INBOUND_DELIVERY_HISTORY_DAYS = 30
    old_delivered = outbox_event(endpoint, status="delivered", age_days=31, attempts=3)
    recent_delivered = outbox_event(endpoint, status="delivered", age_days=29)
    old_pending = outbox_event(endpoint, status="pending", age_days=90)
    old_dead = outbox_event(endpoint, status="dead", age_days=90, attempts=8)
    integration, _token = integration_create(name="crm", user=ops.user, scopes=["read"])
    inbound_delivery(integration, key="old", age_days=31)
    recent = inbound_delivery(integration, key="recent", age_days=29)

    result = integrations_history_prune(now=NOW)

    assert (result.outbox_events, result.delivery_attempts, result.inbound_deliveries) == (1, 3, 1)
    assert set(OutboxEvent.objects.values_list("pk", flat=True)) == {recent_delivered.pk, old_pending.pk, old_dead.pk}
    assert not DeliveryAttempt.objects.filter(event_id=old_delivered.pk).exists()
    assert DeliveryAttempt.objects.filter(event=old_dead).count() == 8
    assert list(InboundDelivery.objects.values_list("pk", flat=True)) == [recent.pk]
    # Running it again changes nothing.
    assert integrations_history_prune(now=NOW) == services.PruneResult(0, 0, 0)


def test_retention_is_a_setting(endpoint, settings):
    settings.WEBHOOK_HISTORY_DAYS = 7
    outbox_event(endpoint, status="delivered", age_days=8)
    outbox_event(endpoint, status="delivered", age_days=6)
    assert integrations_history_prune(now=NOW).outbox_events == 1


def test_a_backlog_is_deleted_in_batches(endpoint, ops, monkeypatch):
    monkeypatch.setattr(services, "PRUNE_BATCH", 2)
    for _ in range(5):
        outbox_event(endpoint, status="delivered", age_days=60)
    integration, _token = integration_create(name="crm", user=ops.user, scopes=["read"])
    for n in range(5):
        inbound_delivery(integration, key=f"k{n}", age_days=60)
    result = integrations_history_prune(now=NOW)
    assert (result.outbox_events, result.delivery_attempts, result.inbound_deliveries) == (5, 5, 5)
    assert not OutboxEvent.objects.exists() and not InboundDelivery.objects.exists()


def test_the_nightly_schedule_is_declared_once_and_runs_through_django_q(endpoint, django_capture_on_commit_callbacks):
    from django_q.scheduler import scheduler

    prune_schedule_ensure()
    schedule = Schedule.objects.get(name=PRUNE_SCHEDULE_NAME)
    schedule.next_run = NOW + dt.timedelta(hours=1)
    schedule.save()
    prune_schedule_ensure()  # an edit ops made (here: the time) is kept
    schedule = Schedule.objects.get(name=PRUNE_SCHEDULE_NAME)
    assert schedule.func == "apps.integrations.tasks.prune_integrations_history"
    assert schedule.schedule_type == Schedule.DAILY and schedule.next_run == NOW + dt.timedelta(hours=1)
    outbox_event(endpoint, status="delivered", age_days=45)
    kept = outbox_event(endpoint, status="delivered", age_days=1)
    with time_machine.travel(NOW + dt.timedelta(hours=1, minutes=1), tick=False), django_capture_on_commit_callbacks(
        execute=True
    ):
        scheduler(broker=get_broker())
    assert list(OutboxEvent.objects.values_list("pk", flat=True)) == [kept.pk]
    schedule.refresh_from_db()
    assert schedule.next_run > NOW + dt.timedelta(days=1) - dt.timedelta(minutes=5)
    assert timezone.is_aware(schedule.next_run)
