"""The meeting flow's django-q2 schedules, declared in code and upserted by name (from a
data migration, and callable again at any time: it is idempotent)."""

from __future__ import annotations

SCHEDULES = [
    {
        "name": "meetings: remind AEs when a meeting ends",
        "func": "apps.meetings.tasks.remind_ended_meetings",
        "minutes": 5,
    },
    {
        "name": "meetings: escalate overdue dispositions to sales managers",
        "func": "apps.meetings.tasks.escalate_overdue_meetings",
        "minutes": 15,
    },
    {
        "name": "meetings: close expired reschedule tasks",
        "func": "apps.meetings.tasks.expire_reschedule_attempts",
        "minutes": 60,
    },
]


def schedules_ensure(apps=None) -> None:
    from django.apps import apps as global_apps

    Schedule = (apps or global_apps).get_model("django_q", "Schedule")
    for spec in SCHEDULES:
        Schedule.objects.update_or_create(
            name=spec["name"],
            defaults={"func": spec["func"], "schedule_type": "I", "minutes": spec["minutes"], "repeats": -1},
        )
