"""Calendar invites (RFC 5545 / iTIP, RFC 5546) for meetings, and the personal feeds.

One event per meeting *as the calendar sees it*: a reschedule replaces a meeting row with a
new one, but in the attendees' calendars it is the same event moved, so the UID is the one
of the first meeting of the reschedule chain and SEQUENCE counts the moves (0 when booked,
+1 per reschedule, +1 more for a cancellation). Both are derived from the meeting rows, so
an invite, the meeting page's .ics and the feed always agree. A rebooking after a no-show is
a new event (the no-show stays in the calendar as what happened).

Invites go to the AE, the SDR and — when ops enable it (CalendarSettings) — the prospect, one
message each, with the time in UTC and in the recipient's own zone in the body, through the
mail outbox (after commit, retried, dead-lettered).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import zoneinfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from apps.connect.models import CalendarFeed, CalendarSettings, OutboundEmail
from apps.meetings import events
from apps.meetings.models import Meeting
from apps.people.models import Rep
from sdrops.mail import mail_domain, mail_outbox_write

PRODID = "-//sdrops//meetings//EN"
FEED_PREFIX = "cal_"
# The feed shows meetings from a week back (so the week's calendar is complete) to a quarter ahead.
FEED_PAST_DAYS = 7
FEED_FUTURE_DAYS = 92


def portal_url(path: str) -> str:
    base = getattr(settings, "PORTAL_BASE_URL", "") or "http://localhost:8000"
    return base.rstrip("/") + "/" + path.lstrip("/")


def _chain(meeting: Meeting) -> list[Meeting]:
    """The reschedule chain ending at `meeting`, first meeting first."""
    chain = [meeting]
    current = meeting
    while current.previous_meeting_id is not None:
        previous = Meeting.objects.only("pk", "status", "previous_meeting_id").get(pk=current.previous_meeting_id)
        if previous.status != Meeting.Status.RESCHEDULED:
            break
        chain.append(previous)
        current = previous
    return list(reversed(chain))


def invite_uid(meeting: Meeting) -> str:
    return f"sdrops-meeting-{_chain(meeting)[0].pk}@{mail_domain()}"


def invite_sequence(meeting: Meeting) -> int:
    sequence = len(_chain(meeting)) - 1
    return sequence + 1 if meeting.status == Meeting.Status.CANCELLED else sequence


def latest_in_chain(meeting: Meeting) -> Meeting:
    """A rescheduled meeting's successor (repeatedly): the event as it stands now."""
    current = meeting
    while current.status == Meeting.Status.RESCHEDULED:
        following = current.next_meetings.order_by("pk").first()
        if following is None:
            break
        current = following
    return current


def _address(email: str, name: str, role: str | None = None) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    address.params["cn"] = vText(name)
    if role:
        address.params["role"] = vText(role)
        address.params["partstat"] = vText("NEEDS-ACTION")
        address.params["rsvp"] = vText("TRUE")
    return address


def _summary(meeting: Meeting) -> str:
    contact = meeting.contact
    name = f"{contact.first_name} {contact.last_name}".strip() or contact.email
    return f"{meeting.get_kind_display()}: {name} · {meeting.account.name}"


def meeting_event(meeting: Meeting, *, include_prospect: bool) -> Event:
    event = Event()
    event.add("uid", invite_uid(meeting))
    event.add("sequence", invite_sequence(meeting))
    event.add("dtstamp", timezone.now().astimezone(dt.UTC))
    event.add("dtstart", meeting.scheduled_at.astimezone(dt.UTC))
    event.add("dtend", meeting.scheduled_end_at.astimezone(dt.UTC))
    event.add("summary", _summary(meeting))
    event.add("url", portal_url(reverse("admin:meetings_meeting_change", args=[meeting.pk])))
    description = f"Booked by {meeting.sdr} for {meeting.ae}."
    if meeting.notes:
        description += f"\n\nPre-meeting notes:\n{meeting.notes}"
    event.add("description", description)
    event.add("organizer", _address(meeting.sdr.user.email, str(meeting.sdr)))
    event.add("attendee", _address(meeting.ae.user.email, str(meeting.ae), "REQ-PARTICIPANT"))
    if meeting.sdr_attends:
        event.add("attendee", _address(meeting.sdr.user.email, str(meeting.sdr), "REQ-PARTICIPANT"))
    if include_prospect:
        name = f"{meeting.contact.first_name} {meeting.contact.last_name}".strip() or meeting.contact.email
        event.add("attendee", _address(meeting.contact.email, name, "REQ-PARTICIPANT"))
    if meeting.status == Meeting.Status.CANCELLED:
        event.add("status", "CANCELLED")
    else:
        event.add("status", "CONFIRMED")
    return event


def _calendar(method: str | None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    return calendar


def meeting_ics(meeting: Meeting, *, method: str = "REQUEST") -> str:
    """The iTIP message (or, with method="PUBLISH", the .ics download) of one meeting."""
    calendar = _calendar(method)
    calendar.add_component(meeting_event(meeting, include_prospect=CalendarSettings.load().invite_prospect))
    return calendar.to_ical().decode()


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _when(meeting: Meeting, zone_name: str) -> dict:
    zone = _zone(zone_name)
    start_utc = meeting.scheduled_at.astimezone(dt.UTC)
    end_utc = meeting.scheduled_end_at.astimezone(dt.UTC)
    return {
        "utc": f"{start_utc:%a %d %b %Y %H:%M}–{end_utc:%H:%M} UTC",
        "local": f"{meeting.scheduled_at.astimezone(zone):%a %d %b %Y %H:%M}–"
                 f"{meeting.scheduled_end_at.astimezone(zone):%H:%M} {zone.key}",
        "zone": zone.key,
    }


def _recipients(meeting: Meeting) -> list[tuple[str, str, str, bool]]:
    """(email, name, time zone, is_prospect) for everyone who gets the invite."""
    people = [(meeting.ae.user.email, str(meeting.ae), meeting.ae.time_zone, False)]
    if meeting.sdr_id != meeting.ae_id:
        people.append((meeting.sdr.user.email, str(meeting.sdr), meeting.sdr.time_zone, False))
    if CalendarSettings.load().invite_prospect:
        contact = meeting.contact
        # Contacts carry no time zone of their own: the AE's, named, beside UTC.
        people.append((contact.email, contact.first_name or str(contact), meeting.ae.time_zone, True))
    return [p for p in people if p[0]]


def invites_send(*, meeting: Meeting, method: str, previous: Meeting | None = None) -> list[OutboundEmail]:
    """Write one invite per recipient into the mail outbox (inside the caller's transaction).
    Nothing for a meeting that has already ended: a booking loaded afterwards (`booked_at` in
    the past, as history is imported) is a record, not something to put in a calendar — the
    demo's history of 440 such meetings filled the first start's console with invitations."""
    meeting = Meeting.objects.select_related("contact", "account", "ae__user", "sdr__user").get(pk=meeting.pk)
    if meeting.scheduled_end_at <= timezone.now():
        return []
    ics = meeting_ics(meeting, method=method)
    action = {"REQUEST": "Invitation" if previous is None else "Updated invitation", "CANCEL": "Cancelled"}[method]
    contact_name = f"{meeting.contact.first_name} {meeting.contact.last_name}".strip() or meeting.contact.email
    rows = []
    for email, name, zone, is_prospect in _recipients(meeting):
        context = {
            "contact_name": contact_name,
            "meeting": meeting, "name": name, "action": action, "when": _when(meeting, zone), "method": method,
            "previous_when": _when(previous, zone) if previous is not None else None, "is_prospect": is_prospect,
            "link": None if is_prospect else portal_url(reverse("admin:meetings_meeting_change", args=[meeting.pk])),
        }
        subject = " ".join(render_to_string("connect/email/invite_subject.txt", context).split())
        body = render_to_string("connect/email/invite.txt", context)
        rows.append(mail_outbox_write(
            kind=OutboundEmail.Kind.INVITE, to=[email], subject=subject, body=body,
            reply_to=[meeting.sdr.user.email] if meeting.sdr.user.email else None, ics=ics, ics_method=method,
            related=f"meeting:{meeting.pk}",
        ))
    return rows


@receiver(events.meeting_booked, dispatch_uid="connect-invite-booked")
def _on_booked(sender, meeting, **kwargs):
    invites_send(meeting=meeting, method="REQUEST")


@receiver(events.meeting_rescheduled, dispatch_uid="connect-invite-rescheduled")
def _on_rescheduled(sender, meeting, previous, **kwargs):
    invites_send(meeting=meeting, method="REQUEST", previous=previous)


@receiver(events.meeting_cancelled, dispatch_uid="connect-invite-cancelled")
def _on_cancelled(sender, meeting, **kwargs):
    invites_send(meeting=meeting, method="CANCEL")


# --- personal feeds ------------------------------------------------------------------------


def feed_token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def calendar_feed_create(*, user) -> tuple[CalendarFeed, str]:
    """A new feed for `user` (revoking any active one); returns it and its secret token,
    the only time the token is visible."""
    raw = FEED_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        CalendarFeed.objects.select_for_update().filter(user=user, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        feed = CalendarFeed.objects.create(user=user, token_hash=feed_token_hash(raw), token_hint=raw[:10])
    return feed, raw


def calendar_feed_revoke(*, user) -> int:
    return CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())


def calendar_feed_url(raw: str) -> str:
    return portal_url(reverse("calendar_feed", args=[raw]))


def calendar_feed_for_token(raw: str) -> CalendarFeed | None:
    if not raw.startswith(FEED_PREFIX) or len(raw) > 100:
        return None
    return (
        CalendarFeed.objects.select_related("user").filter(
            token_hash=feed_token_hash(raw), revoked_at__isnull=True, user__is_active=True
        ).first()
    )


def calendar_feed_ics(*, feed: CalendarFeed, now: dt.datetime | None = None) -> str:
    """The user's meetings (as AE or booking SDR) from a week back to a quarter ahead."""
    now = now or timezone.now()
    rep = Rep.objects.filter(user=feed.user).first()
    calendar = _calendar("PUBLISH")
    calendar.add("x-wr-calname", f"sdrops meetings · {rep or feed.user}")
    if rep is not None:
        meetings = (
            Meeting.objects.filter(
                scheduled_at__gte=now - dt.timedelta(days=FEED_PAST_DAYS),
                scheduled_at__lte=now + dt.timedelta(days=FEED_FUTURE_DAYS),
            )
            .exclude(status=Meeting.Status.RESCHEDULED)
            .filter(Q(ae=rep) | Q(sdr=rep))
            .select_related("contact", "account", "ae__user", "sdr__user")
            .order_by("scheduled_at", "pk")
        )
        prospect = CalendarSettings.load().invite_prospect
        for meeting in meetings:
            calendar.add_component(meeting_event(meeting, include_prospect=prospect))
    CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)
    return calendar.to_ical().decode()
