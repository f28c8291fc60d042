"""Market segments' scheduled jobs, for the schedule registry (sdrops/schedules.py)."""

from __future__ import annotations

from sdrops.schedules import Job

SCHEDULES = [
    # 05:00, after the nightly rescoring (ICP fit feeds the rules) and before the retrieval
    # (05:30) and the Monday distribution (06:00), so books are filled from today's wall.
    # The first run is at install (no first_run): until accounts are classified nothing is
    # enrolled, and the pool would stay empty until the next 05:00.
    Job("markets.classify_segments", "apps.markets.tasks.market_segments_classify_task", "C", cron="0 5 * * *"),
]
