"""The emails of the meeting flow. Plain text, with the admin path to act on."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse

from apps.meetings.models import Meeting, MeetingNotification
from apps.people.models import Rep
from apps.people.timezones import rep_zone, when


def _link(path: str) -> str:
    return f"{getattr(settings, 'SITE_URL', '').rstrip('/')}{path}"


def _disposition_link(meeting: Meeting) -> str:
    return _link(reverse("admin:meetings_meeting_disposition", args=[meeting.pk]))


def _when(meeting: Meeting, recipient: Rep) -> str:
    """The meeting's start on the recipient's clock, zone named (a London AE reads GMT)."""
    return when(meeting.scheduled_at, rep_zone(recipient))


def compose(kind: str, meeting: Meeting, recipient: Rep) -> tuple[str, str]:
    """(subject, body) for one notification kind."""
    who = meeting.contact
    account = meeting.account
    if kind == MeetingNotification.Kind.REMINDER:
        return (
            f"Disposition your meeting with {who} ({account})",
            f"Hi {recipient},\n\nYour {meeting.get_kind_display().lower()} with {who} at {account}, booked by "
            f"{meeting.sdr}, was scheduled for {_when(meeting, recipient)} and has ended.\n"
            f"Please disposition it (Completed – Qualified, Completed – Unqualified or No Show) by "
            f"{when(meeting.disposition_due_at, rep_zone(recipient))}:\n{_disposition_link(meeting)}\n",
        )
    if kind == MeetingNotification.Kind.ESCALATION:
        return (
            f"Overdue meeting disposition: {meeting.ae} · {who} ({account})",
            f"Hi {recipient},\n\n{meeting.ae} has not dispositioned the {meeting.get_kind_display().lower()} with "
            f"{who} at {account} (booked by {meeting.sdr}, scheduled {_when(meeting, recipient)}). It was due by "
            f"{when(meeting.disposition_due_at, rep_zone(recipient))}.\n{_disposition_link(meeting)}\n",
        )
    if kind == MeetingNotification.Kind.NO_SHOW:
        attempt = getattr(meeting, "reschedule_attempt", None)
        window = (
            f"You have up to {attempt.touches_allowed} touches until {attempt.due_by:%Y-%m-%d} to rebook it.\n"
            if attempt
            else ""
        )
        return (
            f"No-show: reschedule {who} ({account})",
            f"Hi {recipient},\n\n{who} did not show up to the {meeting.get_kind_display().lower()} with "
            f"{meeting.ae} on {_when(meeting, recipient)}. Rescheduling is yours now.\n{window}"
            f"Book again from the contact: {_link(reverse('admin:meetings_meeting_book', args=[who.pk]))}\n",
        )
    if kind == MeetingNotification.Kind.NO_SHOW_LIMIT:
        return (
            f"Lead abandoned to nurture after repeated no-shows: {who} ({account})",
            f"Hi {recipient},\n\n{who} did not show up again ({meeting.get_kind_display().lower()} with "
            f"{meeting.ae} on {_when(meeting, recipient)}). That is past the no-show limit, so the lead was abandoned "
            f"to nurture (reason: no-show limit).\n",
        )
    raise ValueError(f"Unknown notification kind {kind}")


def deliver(kind: str, meeting: Meeting, recipient: Rep, *, connection=None) -> None:
    subject, body = compose(kind, meeting, recipient)
    send_mail(subject, body, None, [recipient.user.email], fail_silently=False, connection=connection)
