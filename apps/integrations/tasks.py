"""django-q2 tasks: take ids, re-read, call the outbox service; safe to run twice."""

from __future__ import annotations

from dataclasses import asdict

from apps.integrations.outbox import outbox_event_deliver, outbox_sweep
from apps.integrations.services import integrations_history_prune

SWEEP_SCHEDULE_NAME = "integrations: deliver webhook outbox"
PRUNE_SCHEDULE_NAME = "integrations: clean up old webhook history"


def deliver_outbox_event(event_pk: int) -> str:
    event = outbox_event_deliver(event_pk=event_pk)
    return "nothing to do" if event is None else event.status


def sweep_outbox() -> int:
    return outbox_sweep()


def prune_integrations_history() -> dict:
    return asdict(integrations_history_prune())


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


def prune_schedule_ensure() -> None:
    """Declare the nightly clean-up once, by name; an edit ops made in the admin (its time,
    say) is kept."""
    import datetime as dt

    from django.utils import timezone
    from django_q.models import Schedule

    tomorrow = timezone.now().astimezone(dt.UTC).date() + dt.timedelta(days=1)
    Schedule.objects.get_or_create(
        name=PRUNE_SCHEDULE_NAME,
        defaults={
            "func": "apps.integrations.tasks.prune_integrations_history",
            "schedule_type": Schedule.DAILY,
            "repeats": -1,
            # A quiet hour for the portal's users (UTC).
            "next_run": dt.datetime.combine(tomorrow, dt.time(3, 40), tzinfo=dt.UTC),
        },
    )
