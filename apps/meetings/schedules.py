"""The meeting flow's scheduled jobs, for the schedule registry (sdrops/schedules.py: one
sync rule that keeps the timing ops edited)."""

from __future__ import annotations

from sdrops.schedules import Job, schedules_sync

SCHEDULES = [
    Job("meetings.remind_ended_meetings", "apps.meetings.tasks.remind_ended_meetings", "I", minutes=5),
    Job("meetings.escalate_overdue_meetings", "apps.meetings.tasks.escalate_overdue_meetings", "I", minutes=15),
    Job("meetings.expire_reschedule_attempts", "apps.meetings.tasks.expire_reschedule_attempts", "I", minutes=60),
]


def schedules_ensure(apps=None) -> list:
    """This app's jobs only (migration 0002 imports this name and passes its app registry)."""
    return schedules_sync(jobs=SCHEDULES, Schedule=apps.get_model("django_q", "Schedule") if apps else None)
