"""Reporting's scheduled jobs, for the schedule registry (sdrops/schedules.py: one sync rule
that keeps the timing ops edited)."""

from __future__ import annotations

from sdrops.schedules import Job

SCHEDULES = [
    # The books rollup is append-only (migration reporting 0041): between two runs a key gains a
    # row per statement that moved accounts of its kind, which the report readers sum.
    Job("reporting.books_compact", "apps.reporting.tasks.books_compact_task", "I", minutes=10),
]
