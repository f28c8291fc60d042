"""The lead lifecycle's scheduled jobs, for the schedule registry (sdrops/schedules.py: one
sync rule that keeps the timing ops edited)."""

from __future__ import annotations

from sdrops import schedules as registry
from sdrops.schedules import Job

SCHEDULES = [
    Job("cadences.lead_sla_check", "apps.cadences.tasks.lead_sla_check", "I", minutes=5),
    Job("cadences.lead_auto_abandon", "apps.cadences.tasks.lead_auto_abandon", "H"),
    Job("cadences.cadence_overdue_steps", "apps.cadences.tasks.cadence_overdue_steps", "H"),
    # Hourly: each manager gets the email in the hour the settings name, in their time zone.
    Job("cadences.lead_morning_emails", "apps.cadences.tasks.lead_morning_emails", "C", cron="0 * * * *"),
]


def schedules_sync(apps=None) -> list:
    """This app's jobs only (migration 0002 imports this name and passes its app registry)."""
    return registry.schedules_sync(jobs=SCHEDULES, Schedule=apps.get_model("django_q", "Schedule") if apps else None)
