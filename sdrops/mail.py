"""The one way sdrops sends an email: rendered from templates, with full links, delivered
through one durable mail outbox (written with the change, sent after commit, retried,
dead-lettered).

Templates: every mail is three templates next to each other: `<name>_subject.txt` (one line;
whitespace is collapsed), `<name>.txt` (the body) and, when the mail has one, `<name>.html`
(sent as the HTML alternative). `name` is a template path such as "meetings/email/reminder",
so each app keeps its mails in its own `templates/` folder.

Links: `portal_url(path)` joins a path to the one base-URL setting, `PORTAL_BASE_URL`
(`make run` sets it to the address it serves on), so a mail read in a mail client links
to the portal and never carries a relative path.

Delivery (one rule for every mail — the morning email, SLA and meeting reminders, alarms,
retrieval digests, calendar invites, cadence email steps): `send_templated` /
`send_after_commit` / `mail_outbox_write` write an `OutboundEmail` row (apps.connect's
model, *Connections › Outbound emails*) in the caller's transaction. A task per message is
queued on commit, so a mail never reports a change that was rolled back, and the change's
own "sent" marker commits with the queued mail: neither exists without the other. The
sweep (`connect.mail_outbox_sweep`, every minute) retries due messages with exponential
back-off and picks up anything a lost task left behind; after MAIL_MAX_ATTEMPTS a message is
a dead letter ops can send again. A message is claimed with a lease
(`select_for_update(skip_locked=True)`), so two workers never send it at once, and its
Message-ID is fixed when written, so a retry after a lost answer is recognisably the same
message. SMTP is the server ops configure (EMAIL_HOST…); nothing else is called.
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
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_q.tasks import async_task

from apps.connect.models import OutboundEmail

logger = logging.getLogger(__name__)

SWEEP_BATCH = 200


def _name(template: str) -> str:
    return template.rsplit("/", 1)[-1]


def portal_url(path: str) -> str:
    """A full link to `path` on the portal, from the one base-URL setting."""
    base = getattr(settings, "PORTAL_BASE_URL", "") or "http://localhost:8000"
    return base.rstrip("/") + "/" + path.lstrip("/")


def portal_reverse(viewname: str, *args) -> str:
    """`portal_url(reverse(viewname, args=args))`."""
    return portal_url(reverse(viewname, args=list(args)))


def render(*, template: str, context: dict) -> tuple[str, str, str | None]:
    """(subject, text, html or None) of one mail."""
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    text = render_to_string(f"{template}.txt", context)
    try:
        html = render_to_string(f"{template}.html", context)
    except TemplateDoesNotExist:
        html = None
    return subject, text, html


def send_templated(*, to: list[str], template: str, context: dict, related: str = "") -> int:
    """Render one mail to `to` (blank addresses dropped) and queue it in the outbox, in the
    caller's transaction; returns how many recipients it was queued for (0: nobody to send to)."""
    to = [address for address in to if address]
    if not to:
        logger.warning("No recipient address for %s (%s); mail not sent", _name(template), template)
        return 0
    subject, text, html = render(template=template, context=context)
    mail_outbox_write(kind=OutboundEmail.Kind.NOTIFICATION, to=to, subject=subject, body=text, html=html or "",
                      related=related or _name(template))
    return len(to)


# The outbox's rows commit with the caller's transaction and are sent after it: "after commit"
# is every send's behaviour now; the name stays for the callers that say so.
send_after_commit = send_templated


# --- the mail outbox -------------------------------------------------------------------------


def max_attempts() -> int:
    return int(getattr(settings, "MAIL_MAX_ATTEMPTS", 6))


def backoff(attempts: int) -> dt.timedelta:
    """Wait after the n-th failed attempt: 1 min, 2, 4, … capped at 6 h."""
    base = float(getattr(settings, "MAIL_BACKOFF_BASE_SECONDS", 60))
    return dt.timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 6 * 3600))


def mail_domain() -> str:
    return urlsplit(getattr(settings, "PORTAL_BASE_URL", "") or "http://localhost").hostname or "localhost"


def mail_outbox_write(
    *, kind: str, to: list[str], subject: str, body: str, html: str = "", from_email: str | None = None,
    reply_to: list[str] | None = None, headers: dict | None = None, ics: str = "", ics_method: str = "",
    related: str = "",
) -> OutboundEmail:
    """Queue one message; call inside the transaction of the change it reports."""
    row = OutboundEmail.objects.create(
        kind=kind, message_id=make_msgid(domain=mail_domain()), from_email=from_email or settings.DEFAULT_FROM_EMAIL,
        reply_to=list(reply_to or []), to=[address for address in to if address], subject=" ".join(subject.split()),
        body=body, html=html, headers=dict(headers or {}), ics=ics, ics_method=ics_method, related=related[:100],
    )
    transaction.on_commit(lambda: _enqueue(row.pk))
    return row


def _enqueue(pk: int) -> None:
    async_task("apps.connect.tasks.deliver_mail", pk, task_name=f"mail {pk}")


def message_for(row: OutboundEmail, *, connection=None) -> EmailMultiAlternatives:
    """The email as it goes over SMTP."""
    message = EmailMultiAlternatives(
        subject=row.subject, body=row.body, from_email=row.from_email, to=row.to, reply_to=row.reply_to or None,
        headers={"Message-ID": row.message_id, **row.headers}, connection=connection,
    )
    if row.html:
        message.attach_alternative(row.html, "text/html")
    if row.ics:
        # text/calendar with the iTIP method: what calendar clients (Outlook, Google, Apple)
        # read as an invitation or a cancellation they can act on.
        part = MIMEText(row.ics, "calendar", "utf-8")
        part.set_param("method", row.ics_method or "REQUEST")
        part.add_header("Content-Disposition", "attachment", filename="invite.ics")
        message.attach(part)
    return message


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
            logger.warning("Mail %s not sent (attempt %s), retried later: %s", row.pk, row.attempts, error)
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
