"""The connections' scheduled jobs, declared in code."""

from __future__ import annotations

MAIL_SWEEP_SCHEDULE_NAME = "connect.mail_outbox_sweep"

SCHEDULES = [
    {"name": MAIL_SWEEP_SCHEDULE_NAME, "func": "apps.connect.tasks.sweep_mail", "minutes": 1},
    {"name": "connect.cadence_emails_send", "func": "apps.connect.tasks.send_due_cadence_emails", "minutes": 5},
]


def schedules_ensure() -> None:
    """Create missing schedules; an existing row keeps the timing ops gave it."""
    from django_q.models import Schedule

    for spec in SCHEDULES:
        Schedule.objects.update_or_create(
            name=spec["name"], defaults={"func": spec["func"]},
            create_defaults={"func": spec["func"], "schedule_type": Schedule.MINUTES, "minutes": spec["minutes"],
                             "repeats": -1},
        )
