"""A webhook event's one map of allowed moves (OutboxEvent.TRANSITIONS) and its one transition
function (outbox_event_transition): legal moves change the event; an illegal one is refused
with a clear message and changes nothing."""

import pytest
from django.utils import timezone

from apps.integrations.models import OutboxEvent, WebhookEndpoint
from apps.integrations.outbox import outbox_event_transition, outbox_redeliver
from sdrops.state_machines import IllegalTransition

pytestmark = pytest.mark.django_db
Status = OutboxEvent.Status


@pytest.fixture
def event(db):
    endpoint = WebhookEndpoint.objects.create(name="CRM", url="https://crm.example.com/hook",
                                              event_types=["account.assigned"])
    return OutboxEvent.objects.create(endpoint=endpoint, type="account.assigned", payload={}, attempts=3)


def test_the_map():
    machine = OutboxEvent.TRANSITIONS
    assert machine.allowed(Status.PENDING) == {Status.PENDING, Status.DELIVERED, Status.DEAD}
    assert machine.allowed(Status.DELIVERED) == machine.allowed(Status.DEAD) == {Status.PENDING}


def test_delivered_then_redelivered_from_the_admin_path(event):
    now = timezone.now()
    outbox_event_transition(event=event, to_status=Status.DELIVERED, at=now)
    assert (event.status, event.delivered_at, event.last_error) == (Status.DELIVERED, now, "")
    event.save()
    assert outbox_redeliver(events=[event]) == 1
    event.refresh_from_db()
    assert (event.status, event.attempts, event.delivered_at) == (Status.PENDING, 0, None)


def test_an_illegal_move_is_refused_and_changes_nothing(event):
    outbox_event_transition(event=event, to_status=Status.DEAD, at=timezone.now(), error="HTTP 500")
    event.save()
    before = OutboxEvent.objects.filter(pk=event.pk).values().get()
    with pytest.raises(IllegalTransition) as refused:
        outbox_event_transition(event=event, to_status=Status.DELIVERED, at=timezone.now())
    assert refused.value.messages == [
        "A webhook event cannot move from “dead” to “delivered”: from “dead” it can only move to “pending”."]
    assert (event.status, event.last_error) == (Status.DEAD, "HTTP 500")
    assert OutboxEvent.objects.filter(pk=event.pk).values().get() == before
