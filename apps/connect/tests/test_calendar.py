"""Calendar invites end to end: book, reschedule and cancel a meeting through the real
services, let the mail outbox deliver over SMTP to a real server on 127.0.0.1 (aiosmtpd),
and parse what arrived back with icalendar."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from apps.accounts.services import account_set_owner
from apps.accounts.tests.factories import AccountFactory
from apps.connect.calendar import calendar_feed_create
from apps.connect.models import CalendarFeed, CalendarSettings, OutboundEmail
from apps.connect.tasks import sweep_mail
from apps.meetings.services import meeting_book, meeting_cancel, meeting_reschedule
from apps.people.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(sdr, ae):
    sdr.user.email, ae.user.email = "sam@sdrops.test", "abe@sdrops.test"
    sdr.user.save()
    ae.user.save()
    sdr.time_zone, ae.time_zone = "Europe/Berlin", "America/New_York"
    sdr.save()
    ae.save()
    sdr.ae_partners.add(ae)
    account = AccountFactory(name="Initech", domain="initech.com")
    account_set_owner(account=account, to_rep=sdr, reason="manual")
    contact = ContactFactory(account=account, first_name="Peter", last_name="Gibbons", email="peter@initech.com")
    return {"sdr": sdr, "ae": ae, "contact": contact}


@pytest.fixture
def start():
    # 15:00 UTC three days ahead: 16:00 in Berlin, 10:00 (or 11:00) in New York.
    day = (timezone.now() + dt.timedelta(days=3)).date()
    return dt.datetime.combine(day, dt.time(15, 0), tzinfo=dt.UTC)


def received(smtp, rcpt):
    """(message, parsed VCALENDAR) of every invite the SMTP server got for `rcpt`."""
    found = []
    for item in smtp.messages:
        if rcpt in item["rcpt_tos"]:
            message = item["message"]
            [part] = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
            found.append((message, part, Calendar.from_ical(part.get_content())))
    return found


def only_event(calendar):
    [event] = calendar.walk("VEVENT")
    return event


def test_booking_sends_a_request_to_ae_and_sdr_with_utc_and_each_recipients_zone(
    people, start, smtp, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        meeting = meeting_book(contact=people["contact"], sdr=people["sdr"], actor=people["sdr"].user,
                               scheduled_at=start, notes="Wants SSO")
    assert sorted(r for m in smtp.messages for r in m["rcpt_tos"]) == ["abe@sdrops.test", "sam@sdrops.test"]
    [(message, part, calendar)] = received(smtp, "abe@sdrops.test")
    assert part.get_param("method") == "REQUEST"
    assert calendar["METHOD"] == "REQUEST" and calendar["VERSION"] == "2.0"
    event = only_event(calendar)
    assert str(event["UID"]) == f"sdrops-meeting-{meeting.pk}@localhost"
    assert int(event["SEQUENCE"]) == 0
    assert event.decoded("DTSTART") == start and event.decoded("DTSTART").utcoffset() == dt.timedelta(0)
    assert event.decoded("DTEND") == start + dt.timedelta(minutes=30)
    assert str(event["ORGANIZER"]) == "mailto:sam@sdrops.test"
    attendees = sorted(str(a) for a in event["ATTENDEE"])
    assert attendees == ["mailto:abe@sdrops.test", "mailto:sam@sdrops.test"]  # no prospect by default
    assert str(event["STATUS"]) == "CONFIRMED"
    # Headers and the body: the AE reads New York time, the SDR Berlin time, both beside UTC.
    assert message["Reply-To"] == "sam@sdrops.test"
    assert str(message["Subject"]).strip().startswith("Invitation: Initial qualifying meeting with Peter Gibbons")
    body = message.get_body(("plain",)).get_content()
    utc = f"{start:%a %d %b %Y} 15:00–15:30 UTC"
    assert utc in body
    new_york = start.astimezone(zoneinfo.ZoneInfo("America/New_York"))
    assert f"{new_york:%a %d %b %Y %H:%M}–" in body and "America/New_York" in body
    assert "Wants SSO" in body
    [(sdr_message, _p, _c)] = received(smtp, "sam@sdrops.test")
    sdr_body = sdr_message.get_body(("plain",)).get_content()
    assert "Europe/Berlin" in sdr_body and "America/New_York" not in sdr_body
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {"sent"}


def test_reschedule_keeps_the_uid_and_raises_sequence_then_cancel_sends_cancel(
    people, start, smtp, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = meeting_book(contact=people["contact"], sdr=people["sdr"], actor=people["sdr"].user, scheduled_at=start)
    with django_capture_on_commit_callbacks(execute=True):
        moved = meeting_reschedule(meeting=first, actor=people["sdr"].user, scheduled_at=start + dt.timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        again = meeting_reschedule(meeting=moved, actor=people["ae"].user, scheduled_at=start + dt.timedelta(days=2))
    with django_capture_on_commit_callbacks(execute=True):
        meeting_cancel(meeting=again, actor=people["sdr"].user, cancelled_by="prospect")
    invites = received(smtp, "abe@sdrops.test")
    assert [c["METHOD"] for _m, _p, c in invites] == ["REQUEST", "REQUEST", "REQUEST", "CANCEL"]
    events = [only_event(c) for _m, _p, c in invites]
    assert {str(e["UID"]) for e in events} == {f"sdrops-meeting-{first.pk}@localhost"}
    assert [int(e["SEQUENCE"]) for e in events] == [0, 1, 2, 3]
    assert [e.decoded("DTSTART") for e in events] == [start, start + dt.timedelta(days=1),
                                                      start + dt.timedelta(days=2), start + dt.timedelta(days=2)]
    assert str(events[-1]["STATUS"]) == "CANCELLED"
    assert [p.get_param("method") for _m, p, _c in invites] == ["REQUEST", "REQUEST", "REQUEST", "CANCEL"]
    assert str(invites[1][0]["Subject"]).strip().startswith("Updated invitation")
    assert "Was:" in invites[1][0].get_body(("plain",)).get_content()
    assert str(invites[3][0]["Subject"]).strip().startswith("Cancelled")


def test_prospect_is_invited_only_when_ops_enable_it(people, start, smtp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        meeting_book(contact=people["contact"], sdr=people["sdr"], actor=people["sdr"].user, scheduled_at=start)
    assert not received(smtp, "peter@initech.com")
    settings_row = CalendarSettings.load()
    settings_row.invite_prospect = True
    settings_row.save()
    with django_capture_on_commit_callbacks(execute=True):
        meeting_book(contact=people["contact"], sdr=people["sdr"], actor=people["sdr"].user,
                     scheduled_at=start + dt.timedelta(days=1))
    [(message, _part, calendar)] = received(smtp, "peter@initech.com")
    assert "mailto:peter@initech.com" in [str(a) for a in only_event(calendar)["ATTENDEE"]]
    body = message.get_body(("plain",)).get_content()
    assert "The meeting in the portal" not in body  # no internal link for the prospect
    assert "UTC" in body


def test_a_booking_loaded_after_the_meeting_ended_invites_nobody(people, start, smtp, django_capture_on_commit_callbacks):
    booked = timezone.now() - dt.timedelta(days=5)
    with django_capture_on_commit_callbacks(execute=True):
        meeting_book(contact=people["contact"], sdr=people["sdr"], actor=people["sdr"].user,
                     scheduled_at=booked + dt.timedelta(days=2), booked_at=booked)
    assert not OutboundEmail.objects.exists() and not smtp.messages
    # Loaded late but still to come: invited as any booking.
    with django_capture_on_commit_callbacks(execute=True):
        meeting_book(contact=ContactFactory(account=people["contact"].account), sdr=people["sdr"],
                     actor=people["sdr"].user, scheduled_at=start, booked_at=booked)
    assert OutboundEmail.objects.count() == 2  # the AE and the SDR


def test_invites_wait_for_the_commit_and_vanish_with_a_rollback(people, start, smtp):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        meeting_book(contact=people["contact"], sdr=people["sdr"], actor=people["sdr"].user, scheduled_at=start)
        assert OutboundEmail.objects.count() == 2
        raise RuntimeError("the booking fails later in the request")
    assert not OutboundEmail.objects.exists() and not smtp.messages


def test_mail_server_down_retries_with_backoff_then_dead_letter(
    people, start, smtp, settings, django_capture_on_commit_callbacks
):
    settings.MAIL_MAX_ATTEMPTS = 3
    smtp.refuse = True
    now = timezone.now()
    with time_machine.travel(now, tick=True) as traveller:
        with django_capture_on_commit_callbacks(execute=True):
            meeting_book(contact=people["contact"], sdr=people["sdr"], actor=people["sdr"].user, scheduled_at=start)
        rows = list(OutboundEmail.objects.order_by("pk"))
        assert [(r.status, r.attempts) for r in rows] == [("pending", 1), ("pending", 1)]
        assert "451" in rows[0].last_error
        assert sweep_mail() == 0  # back-off: not due yet
        traveller.shift(dt.timedelta(seconds=61))
        smtp.refuse = False
        assert sweep_mail() == 2
    assert set(OutboundEmail.objects.values_list("status", "attempts")) == {("sent", 2)}
    assert len(smtp.messages) == 2
    # Sent messages are never sent again by the sweep.
    assert sweep_mail() == 0


def test_meeting_page_links_an_ics_scoped_to_who_may_see_the_meeting(people, start, client, other_sdr):
    meeting = meeting_book(contact=people["contact"], sdr=people["sdr"], actor=people["sdr"].user, scheduled_at=start)
    client.force_login(people["ae"].user)
    page = client.get(reverse("admin:meetings_meeting_change", args=[meeting.pk])).content.decode()
    assert reverse("meeting_ics", args=[meeting.pk]) in page
    response = client.get(reverse("meeting_ics", args=[meeting.pk]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    event = only_event(Calendar.from_ical(response.content))
    assert str(event["UID"]) == f"sdrops-meeting-{meeting.pk}@localhost" and int(event["SEQUENCE"]) == 0
    client.force_login(other_sdr.user)
    assert client.get(reverse("meeting_ics", args=[meeting.pk])).status_code == 404
    client.logout()
    assert client.get(reverse("meeting_ics", args=[meeting.pk])).status_code == 302


def test_personal_feed_serves_upcoming_meetings_by_secret_and_stops_when_revoked(people, start, client):
    ae = people["ae"]
    kept = meeting_book(contact=people["contact"], sdr=people["sdr"], actor=people["sdr"].user, scheduled_at=start)
    moved = meeting_book(contact=people["contact"], sdr=people["sdr"], actor=people["sdr"].user,
                         scheduled_at=start + dt.timedelta(days=1))
    moved_to = meeting_reschedule(meeting=moved, actor=ae.user, scheduled_at=start + dt.timedelta(days=5))
    far = meeting_book(contact=people["contact"], sdr=people["sdr"], actor=people["sdr"].user,
                       scheduled_at=start + dt.timedelta(days=200))
    feed, raw = calendar_feed_create(user=ae.user)
    assert feed.token_hash != raw and raw not in feed.token_hint + feed.token_hash
    response = client.get(f"/calendar/feed/{raw}.ics")
    assert response.status_code == 200 and response["Referrer-Policy"] == "no-referrer"
    calendar = Calendar.from_ical(response.content)
    events = {str(e["UID"]): int(e["SEQUENCE"]) for e in calendar.walk("VEVENT")}
    assert events == {f"sdrops-meeting-{kept.pk}@localhost": 0, f"sdrops-meeting-{moved.pk}@localhost": 1}
    assert f"sdrops-meeting-{far.pk}@localhost" not in events and moved_to.pk != moved.pk
    # A new feed revokes the old URL; revoking leaves none.
    _feed2, raw2 = calendar_feed_create(user=ae.user)
    assert client.get(f"/calendar/feed/{raw}.ics").status_code == 404
    assert client.get(f"/calendar/feed/{raw2}.ics").status_code == 200
    assert client.get("/calendar/feed/cal_guess.ics").status_code == 404


def test_my_feed_page_shows_the_url_once_and_revokes(people, client):
    ae = people["ae"]
    client.force_login(ae.user)
    url = reverse("admin:connect_calendarfeed_mine")
    assert "You have no calendar feed" in client.get(url).content.decode()
    created = client.post(url, {"action": "create"}).content.decode()
    assert "shown only now" in created
    feed_url = created.split("<code>")[1].split("</code>")[0]
    path = feed_url.split("localhost:8000", 1)[-1] if "localhost:8000" in feed_url else feed_url
    assert client.get(path).status_code == 200
    again = client.get(url).content.decode()
    assert "You have a feed" in again and feed_url not in again  # never shown twice
    client.post(url, {"action": "revoke"})
    assert not CalendarFeed.objects.filter(user=ae.user, revoked_at__isnull=True).exists()
    assert client.get(path).status_code == 404
