"""Campaigns' scheduled jobs, for the schedule registry (sdrops/schedules.py: one sync rule
that keeps the timing ops edited)."""

from __future__ import annotations

from sdrops import schedules as registry
from sdrops.schedules import Job

SCHEDULES = [
    Job("campaigns.nurture_run", "apps.campaigns.tasks.nurture_run_task", "I", minutes=15),
    Job("campaigns.alarms_raise", "apps.campaigns.tasks.alarms_raise_task", "I", minutes=15),
]


def schedules_ensure(Schedule=None) -> list:
    """This app's jobs only (migration 0002 imports this name and passes its historical model)."""
    return registry.schedules_sync(jobs=SCHEDULES, Schedule=Schedule)
