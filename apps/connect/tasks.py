"""django-q2 task functions of the connections: take ids, re-read, call a service."""

from __future__ import annotations

from apps.connect.email_steps import cadence_email_send_due, cadence_emails_due
from sdrops.mail import mail_outbox_deliver, mail_outbox_sweep


def deliver_mail(pk: int) -> bool:
    return mail_outbox_deliver(pk=pk) is not None


def sweep_mail() -> int:
    return mail_outbox_sweep()


def send_due_cadence_emails() -> int:
    return sum(1 for step_id in cadence_emails_due() if cadence_email_send_due(step_id=step_id))
