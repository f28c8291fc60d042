"""django-q2 tasks: take ids, re-read, call the outbox service; safe to run twice."""

from __future__ import annotations

from apps.integrations.outbox import outbox_event_deliver, outbox_sweep

SWEEP_SCHEDULE_NAME = "integrations: deliver webhook outbox"


def deliver_outbox_event(event_pk: int) -> str:
    event = outbox_event_deliver(event_pk=event_pk)
    return "nothing to do" if event is None else event.status


def sweep_outbox() -> int:
    return outbox_sweep()


def outbox_schedule_ensure(schedule_model=None) -> None:
    """Upsert the every-minute sweep by name (from a migration, or by hand); idempotent."""
    if schedule_model is None:
        from django_q.models import Schedule as schedule_model
    schedule_model.objects.update_or_create(
        name=SWEEP_SCHEDULE_NAME,
        defaults={
            "func": "apps.integrations.tasks.sweep_outbox",
            "schedule_type": "I",
            "minutes": 1,
            "repeats": -1,
        },
    )
