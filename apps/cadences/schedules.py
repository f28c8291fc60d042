"""Cadences' scheduled jobs, for the schedule registry (sdrops/schedules.py: one sync rule
that keeps the timing ops edited). The lead lifecycle's jobs are apps.leads.schedules."""

from __future__ import annotations

from sdrops import schedules as registry
from sdrops.schedules import Job

SCHEDULES = [
    Job("cadences.cadence_overdue_steps", "apps.cadences.tasks.cadence_overdue_steps", "H"),
    # Every 15 minutes: a rep hears of a due follow-up within a quarter of an hour, once.
    Job("cadences.follow_up_reminders", "apps.cadences.tasks.follow_up_reminders", "I", minutes=15),
]


def schedules_sync(apps=None) -> list:
    """This app's jobs only (migration 0002 imports this name and passes its app registry)."""
    return registry.schedules_sync(jobs=SCHEDULES, Schedule=apps.get_model("django_q", "Schedule") if apps else None)
