"""django-q2 tasks: take ids, re-read, call the outbox service; safe to run twice."""

from __future__ import annotations

from dataclasses import asdict

from apps.integrations.outbox import outbox_event_deliver, outbox_sweep
from apps.integrations.schedules import PRUNE_SCHEDULE_NAME, SCHEDULES, SWEEP_SCHEDULE_NAME
from apps.integrations.services import integrations_history_prune
from sdrops.schedules import schedules_sync

__all__ = ["PRUNE_SCHEDULE_NAME", "SWEEP_SCHEDULE_NAME"]  # the first migrations import them from here


def deliver_outbox_event(event_pk: int) -> str:
    event = outbox_event_deliver(event_pk=event_pk)
    return "nothing to do" if event is None else event.status


def sweep_outbox() -> int:
    return outbox_sweep()


def prune_integrations_history() -> dict:
    return asdict(integrations_history_prune())


def outbox_schedule_ensure(schedule_model=None) -> list:
    """The sweep only (migration 0002 imports this name and passes its historical model)."""
    return schedules_sync(jobs=[job for job in SCHEDULES if job.name == SWEEP_SCHEDULE_NAME], Schedule=schedule_model)


def prune_schedule_ensure() -> list:
    return schedules_sync(jobs=[job for job in SCHEDULES if job.name == PRUNE_SCHEDULE_NAME])
