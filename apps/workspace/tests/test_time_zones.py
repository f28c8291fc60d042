"""Every time in the viewer's own zone, named: one helper, activated for each request, used by
pages, forms, emails and CSVs."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.test import TestCase
from django.utils import timezone

from apps.meetings.models import Meeting
from apps.meetings.tasks import escalate_overdue_meetings, remind_ended_meetings
from apps.meetings.tests.factories import MeetingFactory
from apps.people.models import Rep
from apps.people.timezones import user_zone, when
from apps.workspace.models import Profile

# 2026-12-01 20:00 UTC: 15:00 in New York, 20:00 in London, 13:00 in Denver.
START = dt.datetime(2026, 12, 1, 20, 0, tzinfo=dt.UTC)


def test_when_names_the_zone_and_follows_daylight_saving():
    new_york = ZoneInfo("America/New_York")
    assert when(START, new_york) == "2026-12-01 15:00 EST"
    assert when(dt.datetime(2026, 7, 1, 19, 0, tzinfo=dt.UTC), new_york) == "2026-07-01 15:00 EDT"
    assert when(START, ZoneInfo("Europe/London"), style="time") == "20:00 GMT"
    assert when(START, ZoneInfo("Asia/Dubai")) == "2026-12-02 00:00 Asia/Dubai"  # "+04" is no name
    assert when(None) == ""


@pytest.fixture
def ny_london_denver(sdr, ae, manager):
    Rep.objects.filter(pk=sdr.pk).update(time_zone="America/New_York")
    Rep.objects.filter(pk=ae.pk).update(time_zone="Europe/London")
    Rep.objects.filter(pk=manager.pk).update(time_zone="America/Denver")
    for rep in (sdr, ae, manager):
        rep.refresh_from_db()
    return sdr, ae, manager


@pytest.mark.django_db
def test_each_viewer_reads_the_same_meeting_on_their_own_clock(client, ny_london_denver, ops):
    sdr, ae, manager = ny_london_denver
    meeting = MeetingFactory(sdr=sdr, ae=ae, scheduled_at=START, account__name="Initech")
    url = f"/admin/meetings/meeting/{meeting.pk}/change/"
    for rep, expected in ((sdr, "15:00 EST"), (ae, "20:00 GMT"), (manager, "13:00 MST")):
        client.force_login(rep.user)
        page = client.get(url).content.decode()
        assert expected in page, rep
        listing = client.get("/admin/meetings/meeting/").content.decode()
        assert expected in listing, rep


@pytest.mark.django_db
def test_booking_form_takes_the_time_in_the_sdrs_zone_and_says_so(client, ny_london_denver):
    from apps.accounts.services import account_set_owner
    from apps.meetings.defaults import meetings_defaults_ensure
    from apps.people.tests.factories import ContactFactory

    meetings_defaults_ensure()
    sdr, ae, _ = ny_london_denver
    sdr.ae_partners.add(ae)
    contact = ContactFactory(first_name="Peter", last_name="Gibbons")
    account_set_owner(account=contact.account, to_rep=sdr, reason="manual")
    client.force_login(sdr.user)
    url = f"/admin/meetings/meeting/book/{contact.pk}/"
    with time_machine.travel(START - dt.timedelta(days=2)):
        form = client.get(url).content.decode()
        assert "EST (America/New_York)" in form  # next to the field
        response = client.post(url, {"sdr": sdr.pk, "ae": ae.pk, "kind": Meeting.Kind.IQM,
                                      "scheduled_at": "2026-12-01T15:00", "duration_minutes": 30, "_book": "1"},
                               follow=True)
    assert Meeting.objects.get().scheduled_at == START
    assert "2026-12-01 15:00 EST" in response.content.decode()


@pytest.mark.django_db
def test_reminder_and_escalation_emails_use_the_recipients_zone(ny_london_denver, settings):
    sdr, ae, manager = ny_london_denver
    meeting = MeetingFactory(sdr=sdr, ae=ae, scheduled_at=START)
    # The mail outbox sends after commit.
    with time_machine.travel(meeting.scheduled_end_at + dt.timedelta(minutes=1), tick=False), \
            TestCase.captureOnCommitCallbacks(execute=True):
        remind_ended_meetings()
    reminder = mail.outbox[0]
    assert reminder.to == [ae.user.email]
    assert "2026-12-01 20:00 GMT" in reminder.body
    assert "2026-12-02 20:30 GMT" in reminder.body  # disposition due, 24 h after the end
    mail.outbox.clear()
    with time_machine.travel(meeting.disposition_due_at + dt.timedelta(minutes=1), tick=False), \
            TestCase.captureOnCommitCallbacks(execute=True):
        escalate_overdue_meetings()
    # The AE's team manager, Mona in Denver, reads the escalation on her clock.
    [escalation] = mail.outbox
    assert escalation.to == [manager.user.email]
    assert "scheduled 2026-12-01 13:00 MST" in escalation.body


@pytest.mark.django_db
def test_ops_and_users_without_a_rep_choose_their_zone_on_their_profile(client, ops, admin_user):
    client.force_login(admin_user)
    assert client.get("/admin/profile/").status_code == 200
    response = client.post("/admin/profile/", {"time_zone": "Asia/Tokyo"}, follow=True)
    assert "Times are now shown in Asia/Tokyo." in response.content.decode()
    assert Profile.objects.get(user=admin_user).time_zone == "Asia/Tokyo"
    assert user_zone(type(admin_user).objects.get(pk=admin_user.pk)).key == "Asia/Tokyo"
    assert client.post("/admin/profile/", {"time_zone": "Mars/Olympus"}).status_code == 200
    assert Profile.objects.get(user=admin_user).time_zone == "Asia/Tokyo"

    client.force_login(ops.user)
    client.post("/admin/profile/", {"time_zone": "America/Chicago"})
    ops.refresh_from_db()
    assert ops.time_zone == "America/Chicago"  # an ops admin's zone lives on their rep
    assert user_zone(type(ops.user).objects.get(pk=ops.user.pk)).key == "America/Chicago"
    assert not Profile.objects.filter(user=ops.user).exists()


@pytest.mark.django_db
def test_an_sdr_reads_times_on_their_reps_clock_not_a_profile(client, sdr):
    Rep.objects.filter(pk=sdr.pk).update(time_zone="America/New_York")
    client.force_login(sdr.user)
    page = client.get("/admin/profile/").content.decode()
    assert "America/New_York" in page and "<select" not in page
    client.post("/admin/profile/", {"time_zone": "Asia/Tokyo"})
    assert not Profile.objects.filter(user=sdr.user).exists()


@pytest.mark.django_db
def test_report_csv_times_are_in_the_viewers_zone():
    from apps.reporting.tables import Column, format_value

    column = Column("at", "At", "datetime")
    with timezone.override(ZoneInfo("America/Denver")):  # a request by a Denver viewer
        assert format_value(START, column) == "2026-12-01 13:00 MST"
