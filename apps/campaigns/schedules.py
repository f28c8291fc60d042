"""Campaigns' scheduled jobs, declared in code (the shape of apps/routing/schedules.py):
`schedules_ensure` upserts them by name and keeps the timing ops edited."""

from __future__ import annotations

SCHEDULES = [
    {"name": "campaigns.nurture_run", "func": "apps.campaigns.tasks.nurture_run_task", "minutes": 15},
    {"name": "campaigns.alarms_raise", "func": "apps.campaigns.tasks.alarms_raise_task", "minutes": 15},
]


def schedules_ensure(Schedule=None) -> list:
    if Schedule is None:
        from django_q.models import Schedule
    rows = []
    for spec in SCHEDULES:
        schedule, created = Schedule.objects.get_or_create(
            name=spec["name"], defaults={"func": spec["func"], "schedule_type": "I", "minutes": spec["minutes"], "repeats": -1}
        )
        if not created and schedule.func != spec["func"]:
            schedule.func = spec["func"]
            schedule.save(update_fields=["func"])
        rows.append(schedule)
    return rows
