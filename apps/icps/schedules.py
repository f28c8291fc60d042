"""ICP scoring's scheduled jobs, for the schedule registry (sdrops/schedules.py: one sync
rule that keeps the timing ops edited)."""

from __future__ import annotations

from sdrops.schedules import Job, next_cron_slot

NIGHTLY_SCHEDULE = "icps.nightly_rescore"
NIGHTLY_CRON = "15 2 * * *"

SCHEDULES = [
    # Decay needs a clock: signals past their lifetime only stop counting when something
    # rescores. The first run waits for the first 02:15, not the moment of install.
    Job(NIGHTLY_SCHEDULE, "apps.icps.tasks.rescore_all_accounts", "C", cron=NIGHTLY_CRON, args="'nightly'",
        first_run=next_cron_slot(NIGHTLY_CRON)),
]
