"""The integrations' scheduled jobs, for the schedule registry (sdrops/schedules.py: one
sync rule that keeps the timing ops edited)."""

from __future__ import annotations

import datetime as dt

from sdrops.schedules import Job

SWEEP_SCHEDULE_NAME = "integrations.outbox_sweep"
PRUNE_SCHEDULE_NAME = "integrations.history_prune"


def _quiet_hour_tomorrow(now: dt.datetime) -> dt.datetime:
    # A quiet hour for the portal's users (UTC).
    tomorrow = now.astimezone(dt.UTC).date() + dt.timedelta(days=1)
    return dt.datetime.combine(tomorrow, dt.time(3, 40), tzinfo=dt.UTC)


SCHEDULES = [
    Job(SWEEP_SCHEDULE_NAME, "apps.integrations.tasks.sweep_outbox", "I", minutes=1),
    Job(PRUNE_SCHEDULE_NAME, "apps.integrations.tasks.prune_integrations_history", "D",
        first_run=_quiet_hour_tomorrow),
]
