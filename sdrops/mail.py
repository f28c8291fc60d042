"""The one way sdrops sends an email: rendered from templates, with full links.

Every mail is three templates next to each other: `<name>_subject.txt` (one line; whitespace
is collapsed), `<name>.txt` (the body) and, when the mail has one, `<name>.html` (sent as the
HTML alternative). `name` is a template path such as "meetings/email/reminder", so each app
keeps its mails in its own `templates/` folder.

Links: `portal_url(path)` joins a path to the one base-URL setting, `PORTAL_BASE_URL`
(`make run` sets it to the address it serves on), so a mail read in a mail client links
to the portal and never carries a relative path.

Delivery: callers that describe committed data send through `send_after_commit`, so a mail
never reports a change that was rolled back. `fail_silently=False` lets a caller that keeps
a "sent" marker undo the marker when the mail server refuses the message (the meeting
reminders do); otherwise a mail server failure is logged and the caller goes on.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.urls import reverse

logger = logging.getLogger(__name__)


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


def send_templated(*, to: list[str], template: str, context: dict, fail_silently: bool = True,
                   connection=None) -> int:
    """Render and send one mail to `to` (blank addresses dropped); returns how many were sent."""
    to = [address for address in to if address]
    if not to:
        logger.warning("No recipient address for %s (%s); mail not sent", _name(template), template)
        return 0
    subject, text, html = render(template=template, context=context)
    message = EmailMultiAlternatives(subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=to,
                                     connection=connection)
    if html is not None:
        message.attach_alternative(html, "text/html")
    if not fail_silently:
        return message.send()
    try:
        return message.send()
    except Exception:
        # The change the mail reports is already committed: a mail server failure must not
        # turn into an error for whoever made it. It is logged for ops.
        logger.exception("Could not send %s (%s) to %s", _name(template), template, ", ".join(to))
        return 0


def message_build(*, subject: str, body: str, to: list[str], from_email: str | None = None,
                  reply_to: list[str] | None = None, headers: dict | None = None, html: str | None = None,
                  attachments: list | None = None, connection=None) -> EmailMultiAlternatives:
    """One message with an explicit From, Reply-To, extra headers and attachments, for
    callers that render their own text and deliver durably (apps.connect's mail outbox
    keeps the row, retries and dead-letters; this module builds what goes over SMTP).
    `attachments` are MIME parts or (filename, content, mimetype) triples."""
    message = EmailMultiAlternatives(
        subject=subject, body=body, from_email=from_email or settings.DEFAULT_FROM_EMAIL, to=to,
        reply_to=reply_to or None, headers=dict(headers or {}), connection=connection,
    )
    if html is not None:
        message.attach_alternative(html, "text/html")
    for attachment in attachments or []:
        if isinstance(attachment, tuple):
            message.attach(*attachment)
        else:
            message.attach(attachment)
    return message


def send_after_commit(*, to: list[str], template: str, context: dict) -> None:
    """Send once the caller's transaction commits (at once outside a transaction). The mail
    is rendered now, from the data the caller just wrote."""
    to = [address for address in to if address]
    if not to:
        return
    subject, text, html = render(template=template, context=context)

    def send():
        message = EmailMultiAlternatives(subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=to)
        if html is not None:
            message.attach_alternative(html, "text/html")
        try:
            message.send()
        except Exception:
            logger.exception("Could not send %s (%s) to %s", _name(template), template, ", ".join(to))

    transaction.on_commit(send)
