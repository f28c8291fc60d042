"""The mail outbox: mail written with the change it reports, sent after commit, retried,
dead-lettered (the webhook outbox's rules, for SMTP).

`mail_outbox_write` runs inside the caller's transaction; a task per message is queued on
commit, and the sweep (every minute, apps/connect/schedules.py) retries due messages with
exponential back-off and picks up anything a lost task left behind. A message is claimed
with a lease (`select_for_update(skip_locked=True)`), so two workers never send it twice at
once. SMTP is the server ops configure (EMAIL_HOST…); nothing else is called.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import smtplib
from email.mime.text import MIMEText
from email.utils import make_msgid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.utils import timezone

from apps.connect.models import OutboundEmail
from sdrops.mail import message_build

logger = logging.getLogger(__name__)

SWEEP_BATCH = 200


def max_attempts() -> int:
    return int(getattr(settings, "MAIL_MAX_ATTEMPTS", 6))


def backoff(attempts: int) -> dt.timedelta:
    """Wait after the n-th failed attempt: 1 min, 2, 4, … capped at 6 h."""
    base = float(getattr(settings, "MAIL_BACKOFF_BASE_SECONDS", 60))
    return dt.timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 6 * 3600))


def mail_domain() -> str:
    return urlsplit(getattr(settings, "PORTAL_BASE_URL", "") or "http://localhost").hostname or "localhost"


def mail_outbox_write(
    *, kind: str, to: list[str], subject: str, body: str, from_email: str | None = None,
    reply_to: list[str] | None = None, headers: dict | None = None, ics: str = "", ics_method: str = "",
    related: str = "",
) -> OutboundEmail:
    """Queue one message; call inside the transaction of the change it reports."""
    row = OutboundEmail.objects.create(
        kind=kind, message_id=make_msgid(domain=mail_domain()), from_email=from_email or settings.DEFAULT_FROM_EMAIL,
        reply_to=list(reply_to or []), to=[address for address in to if address], subject=" ".join(subject.split()),
        body=body, headers=dict(headers or {}), ics=ics, ics_method=ics_method, related=related,
    )
    transaction.on_commit(lambda: _enqueue(row.pk))
    return row


def _enqueue(pk: int) -> None:
    from django_q.tasks import async_task

    async_task("apps.connect.tasks.deliver_mail", pk, task_name=f"mail {pk}")


def message_for(row: OutboundEmail, *, connection=None):
    """The email as it goes over SMTP (built by sdrops.mail, the one email module)."""
    attachments = []
    if row.ics:
        # text/calendar with the iTIP method: what calendar clients (Outlook, Google, Apple)
        # read as an invitation or a cancellation they can act on.
        part = MIMEText(row.ics, "calendar", "utf-8")
        part.set_param("method", row.ics_method or "REQUEST")
        part.add_header("Content-Disposition", "attachment", filename="invite.ics")
        attachments.append(part)
    return message_build(
        subject=row.subject, body=row.body, from_email=row.from_email, to=row.to, reply_to=row.reply_to or None,
        headers={"Message-ID": row.message_id, **row.headers}, attachments=attachments, connection=connection,
    )


def _claim(*, pks: list[int] | None = None, limit: int = 1) -> list[OutboundEmail]:
    now = timezone.now()
    with transaction.atomic():
        qs = OutboundEmail.objects.select_for_update(skip_locked=True).filter(
            status=OutboundEmail.Status.PENDING, next_attempt_at__lte=now
        )
        if pks is not None:
            qs = qs.filter(pk__in=pks)
        rows = list(qs.order_by("next_attempt_at", "pk")[:limit])
        lease_until = now + dt.timedelta(seconds=60 * (len(rows) + 1))
        for row in rows:
            row.attempts += 1
            row.next_attempt_at = lease_until
        OutboundEmail.objects.bulk_update(rows, ["attempts", "next_attempt_at"])
    return rows


def _send(rows: list[OutboundEmail]) -> None:
    try:
        connection = get_connection(fail_silently=False)
        connection.open()
        opened = None
    except (OSError, smtplib.SMTPException) as error:
        connection, opened = None, f"{type(error).__name__}: {error}"
    for row in rows:
        error = opened
        if error is None:
            try:
                message_for(row, connection=connection).send(fail_silently=False)
            except (OSError, smtplib.SMTPException, ValueError) as failure:
                error = f"{type(failure).__name__}: {failure}"[:2000]
        now = timezone.now()
        if error is None:
            row.status, row.sent_at, row.last_error = OutboundEmail.Status.SENT, now, ""
        elif row.attempts >= max_attempts():
            row.status, row.last_error = OutboundEmail.Status.DEAD, error
            logger.warning("Mail %s is a dead letter after %s attempts: %s", row.pk, row.attempts, error)
        else:
            row.next_attempt_at, row.last_error = now + backoff(row.attempts), error
    if connection is not None:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            connection.close()
    with transaction.atomic():
        OutboundEmail.objects.bulk_update(rows, ["status", "sent_at", "last_error", "next_attempt_at"])


def mail_outbox_deliver(*, pk: int) -> OutboundEmail | None:
    """Send one due, pending message; None when there is nothing to do."""
    rows = _claim(pks=[pk])
    if not rows:
        return None
    _send(rows)
    return rows[0]


def mail_outbox_sweep(*, limit: int = SWEEP_BATCH) -> int:
    """Send due pending messages, oldest first; returns how many were attempted."""
    rows = _claim(limit=limit)
    if rows:
        _send(rows)
    return len(rows)


def mail_outbox_redeliver(*, rows) -> int:
    pks = [row.pk for row in rows]
    with transaction.atomic():
        count = OutboundEmail.objects.filter(pk__in=pks).exclude(status=OutboundEmail.Status.SENT).update(
            status=OutboundEmail.Status.PENDING, attempts=0, next_attempt_at=timezone.now(), last_error=""
        )
        for pk in pks:
            transaction.on_commit(lambda pk=pk: _enqueue(pk))
    return count
