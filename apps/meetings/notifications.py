"""The emails of the meeting flow, through the one email module (sdrops.mail): plain text
templates in meetings/email/, with the full link to act on."""

from __future__ import annotations

from django.urls import reverse

from apps.meetings.models import Meeting, MeetingNotification
from apps.people.models import Rep
from apps.people.timezones import rep_zone, when
from sdrops import mail

TEMPLATES = {
    MeetingNotification.Kind.REMINDER: "meetings/email/reminder",
    MeetingNotification.Kind.ESCALATION: "meetings/email/escalation",
    MeetingNotification.Kind.NO_SHOW: "meetings/email/no_show",
    MeetingNotification.Kind.NO_SHOW_LIMIT: "meetings/email/no_show_limit",
}


def _when(meeting: Meeting, recipient: Rep) -> str:
    """The meeting's start on the recipient's clock, zone named (a London AE reads GMT)."""
    return when(meeting.scheduled_at, rep_zone(recipient))


def _context(kind: str, meeting: Meeting, recipient: Rep) -> dict:
    context = {
        "meeting": meeting, "recipient": recipient, "who": meeting.contact, "account": meeting.account,
        "kind": meeting.get_kind_display().lower(), "when": _when(meeting, recipient),
        "due": when(meeting.disposition_due_at, rep_zone(recipient)),
    }
    if kind in (MeetingNotification.Kind.REMINDER, MeetingNotification.Kind.ESCALATION):
        context["link"] = mail.portal_url(reverse("admin:meetings_meeting_disposition", args=[meeting.pk]))
    elif kind == MeetingNotification.Kind.NO_SHOW:
        attempt = getattr(meeting, "reschedule_attempt", None)
        context["attempt"] = attempt
        context["attempt_due"] = f"{attempt.due_by:%Y-%m-%d}" if attempt else ""
        context["link"] = mail.portal_url(reverse("admin:meetings_meeting_book", args=[meeting.contact_id]))
    return context


def compose(kind: str, meeting: Meeting, recipient: Rep) -> tuple[str, str]:
    """(subject, body) for one notification kind."""
    if kind not in TEMPLATES:
        raise ValueError(f"Unknown notification kind {kind}")
    subject, body, _html = mail.render(template=TEMPLATES[kind], context=_context(kind, meeting, recipient))
    return subject, body


def deliver(kind: str, meeting: Meeting, recipient: Rep) -> int:
    """Queue the mail in the caller's transaction (the mail outbox sends it after commit and
    retries it while the mail server is down); returns how many recipients it is for."""
    if kind not in TEMPLATES:
        raise ValueError(f"Unknown notification kind {kind}")
    return mail.send_templated(to=[recipient.user.email], template=TEMPLATES[kind],
                               context=_context(kind, meeting, recipient), related=f"meeting:{meeting.pk}")
