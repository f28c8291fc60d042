"""django-q2 task functions for cadences (declared in apps.cadences.schedules). The scan hands
each id to an idempotent service that re-reads and locks the row (SKIP LOCKED)."""

from __future__ import annotations

from apps.cadences import follow_ups
from apps.cadences import services as cadence_services


def cadence_overdue_steps() -> int:
    return sum(
        cadence_services.enrolment_overdue_close(enrolment_id=pk) for pk in cadence_services.enrolment_steps_overdue()
    )


def follow_up_reminders() -> int:
    return sum(follow_ups.follow_up_remind(task_id=pk) for pk in follow_ups.follow_ups_to_remind())
