"""Routing's scheduled jobs, declared in code. `schedules_ensure` upserts them by name: the
data migration calls it, and so can any deploy step; running it again changes nothing and
keeps the timing ops edited in the admin (only the code path is ours to move)."""

from __future__ import annotations

SCHEDULES = [
    {
        "name": "routing.weekly_distribution",
        "func": "apps.routing.tasks.distribution_run_task",
        "cron": "0 6 * * 1",  # Mondays 06:00: books are full when the week starts.
    },
    {
        "name": "routing.daily_retrieval",
        "func": "apps.routing.tasks.retrieval_run_task",
        "cron": "30 5 * * *",  # Before the distribution, so retrieved accounts rest first.
    },
]


def schedules_ensure(Schedule=None) -> list:
    if Schedule is None:
        from django_q.models import Schedule
    rows = []
    for spec in SCHEDULES:
        schedule, created = Schedule.objects.get_or_create(
            name=spec["name"], defaults={"func": spec["func"], "schedule_type": "C", "cron": spec["cron"], "repeats": -1}
        )
        if not created and schedule.func != spec["func"]:
            schedule.func = spec["func"]
            schedule.save(update_fields=["func"])
        rows.append(schedule)
    return rows
