"""Routing's scheduled jobs, for the schedule registry (sdrops/schedules.py: one sync rule
that keeps the timing ops edited)."""

from __future__ import annotations

from sdrops.schedules import Job, schedules_sync

SCHEDULES = [
    # Mondays 06:00: books are full when the week starts.
    Job("routing.weekly_distribution", "apps.routing.tasks.distribution_run_task", "C", cron="0 6 * * 1"),
    # Before the distribution, so retrieved accounts rest first.
    Job("routing.daily_retrieval", "apps.routing.tasks.retrieval_run_task", "C", cron="30 5 * * *"),
]


def schedules_ensure(Schedule=None) -> list:
    """This app's jobs only (migration 0002 imports this name)."""
    return schedules_sync(jobs=SCHEDULES, Schedule=Schedule)
