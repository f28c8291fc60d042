"""The lead lifecycle's scheduled jobs, for the schedule registry (sdrops/schedules.py: one
sync rule that keeps the timing ops edited). They moved here from apps.cadences;
sdrops/migrations/0003 renames the existing rows (`Lead SLA check`, `cadences.lead_sla_check`,
…) to these names, so ops' timing stays with them."""

from __future__ import annotations

from sdrops import schedules as registry
from sdrops.schedules import Job

SCHEDULES = [
    Job("leads.sla_check", "apps.leads.tasks.lead_sla_check", "I", minutes=5),
    Job("leads.auto_abandon", "apps.leads.tasks.lead_auto_abandon", "H"),
    # Hourly: each manager gets the email in the hour the settings name, in their time zone.
    Job("leads.morning_emails", "apps.leads.tasks.lead_morning_emails", "C", cron="0 * * * *"),
]


def schedules_sync(apps=None) -> list:
    """This app's jobs only (migration 0002 imports this name and passes its app registry)."""
    return registry.schedules_sync(jobs=SCHEDULES, Schedule=apps.get_model("django_q", "Schedule") if apps else None)
