"""The lead lifecycle's scheduled jobs, declared in code. `schedules_sync` upserts them by
name: it creates missing ones and fixes the function a schedule calls, but leaves the timing
ops may have edited in the admin (Django Q → Scheduled tasks) alone."""

from __future__ import annotations

SCHEDULES = [
    # name, func, schedule_type, minutes, cron
    ("Lead SLA check", "apps.cadences.tasks.lead_sla_check", "I", 5, None),
    ("Lead auto-abandon", "apps.cadences.tasks.lead_auto_abandon", "H", None, None),
    ("Cadence overdue steps", "apps.cadences.tasks.cadence_overdue_steps", "H", None, None),
    # Hourly: each manager gets the email in the hour the settings name, in their time zone.
    ("Morning clean-your-room emails", "apps.cadences.tasks.lead_morning_emails", "C", None, "0 * * * *"),
]


def schedules_sync(apps=None) -> None:
    from django.apps import apps as global_apps

    Schedule = (apps or global_apps).get_model("django_q", "Schedule")
    for name, func, schedule_type, minutes, cron in SCHEDULES:
        schedule = Schedule.objects.filter(name=name).order_by("pk").first()
        if schedule is None:
            Schedule.objects.create(
                name=name, func=func, schedule_type=schedule_type, minutes=minutes, cron=cron, repeats=-1
            )
        elif schedule.func != func:
            schedule.func = func
            schedule.save(update_fields=["func"])
