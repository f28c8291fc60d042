"""Cadences' scheduled jobs, declared in code. `schedules_sync` upserts them by name: it
creates missing ones and fixes the function a schedule calls, but leaves the timing ops may
have edited in the admin (Django Q → Scheduled tasks) alone. apps.leads.schedules declares
the lead lifecycle's jobs the same way."""

from __future__ import annotations

SCHEDULES = [
    # name, func, schedule_type, minutes, cron
    ("Cadence overdue steps", "apps.cadences.tasks.cadence_overdue_steps", "H", None, None),
]


def schedules_upsert(schedules, apps=None) -> None:
    from django.apps import apps as global_apps

    Schedule = (apps or global_apps).get_model("django_q", "Schedule")
    for name, func, schedule_type, minutes, cron in schedules:
        schedule = Schedule.objects.filter(name=name).order_by("pk").first()
        if schedule is None:
            Schedule.objects.create(
                name=name, func=func, schedule_type=schedule_type, minutes=minutes, cron=cron, repeats=-1
            )
        elif schedule.func != func:
            schedule.func = func
            schedule.save(update_fields=["func"])


def schedules_sync(apps=None) -> None:
    schedules_upsert(SCHEDULES, apps)
