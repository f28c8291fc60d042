"""The connections' scheduled jobs, for the schedule registry (sdrops/schedules.py: one sync
rule that keeps the timing ops edited)."""

from __future__ import annotations

from sdrops.schedules import Job

MAIL_SWEEP_SCHEDULE_NAME = "connect.mail_outbox_sweep"

SCHEDULES = [
    Job(MAIL_SWEEP_SCHEDULE_NAME, "apps.connect.tasks.sweep_mail", "I", minutes=1),
    Job("connect.cadence_emails_send", "apps.connect.tasks.send_due_cadence_emails", "I", minutes=5),
]
