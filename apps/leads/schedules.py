"""The lead lifecycle's scheduled jobs, declared in code and upserted by name (see
apps.cadences.schedules.schedules_upsert: ops' timing edits in the admin survive). They moved
here from apps.cadences; the sync re-points an existing schedule's function by its name."""

from __future__ import annotations

from apps.cadences.schedules import schedules_upsert

SCHEDULES = [
    # name, func, schedule_type, minutes, cron
    ("Lead SLA check", "apps.leads.tasks.lead_sla_check", "I", 5, None),
    ("Lead auto-abandon", "apps.leads.tasks.lead_auto_abandon", "H", None, None),
    # Hourly: each manager gets the email in the hour the settings name, in their time zone.
    ("Morning clean-your-room emails", "apps.leads.tasks.lead_morning_emails", "C", None, "0 * * * *"),
]


def schedules_sync(apps=None) -> None:
    schedules_upsert(SCHEDULES, apps)
