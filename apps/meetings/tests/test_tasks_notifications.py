from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends import locmem
from django.db import close_old_connections
from django.test import TestCase
from django_q.models import Schedule
from django_q.tasks import async_task

from apps.meetings import tasks
from apps.meetings.models import Meeting, MeetingNotification
from apps.meetings.schedules import SCHEDULES, schedules_ensure
from apps.meetings.services import meeting_book, meeting_disposition


def _book(pod, contact, start, **kwargs):
    return meeting_book(contact=contact, sdr=pod["sdr"], actor=pod["sdr"].user, scheduled_at=start, **kwargs)


def _committed(run):
    """Run a task as a worker does: its mails are queued in its transaction (sdrops.mail's
    outbox) and sent once it commits, so the test's own transaction executes its on-commit work."""
    def wrapper(*args):
        with TestCase.captureOnCommitCallbacks(execute=True):
            return run(*args)
    return wrapper


remind_ended_meetings = _committed(tasks.remind_ended_meetings)
escalate_overdue_meetings = _committed(tasks.escalate_overdue_meetings)


@_committed
def _run(func_path: str):
    # Through django-q2 itself (sync=True in test settings), as the schedule would.
    return async_task(func_path, sync=True)


@pytest.mark.django_db
def test_schedules_are_declared_and_upserted_by_name():
    schedules_ensure()
    schedules_ensure()
    names = [spec["name"] for spec in SCHEDULES]
    rows = Schedule.objects.filter(name__in=names)
    assert rows.count() == 3
    assert {row.func for row in rows} == {
        "apps.meetings.tasks.remind_ended_meetings", "apps.meetings.tasks.escalate_overdue_meetings",
        "apps.meetings.tasks.expire_reschedule_attempts",
    }


@pytest.mark.django_db
def test_reminder_goes_to_the_ae_once_when_the_meeting_ends(pod, contact, start):
    meeting = _book(pod, contact, start)
    with time_machine.travel(meeting.scheduled_end_at - dt.timedelta(seconds=1), tick=False):
        remind_ended_meetings()
    assert mail.outbox == []
    with time_machine.travel(meeting.scheduled_end_at, tick=False):
        for _ in range(3):
            _run("apps.meetings.tasks.remind_ended_meetings")
    with time_machine.travel(meeting.scheduled_end_at + dt.timedelta(hours=2), tick=False):
        remind_ended_meetings()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [pod["ae"].user.email]
    assert message.subject == "Disposition your meeting with Peter Gibbons <peter@initech.com> (Initech)"
    assert f"/admin/meetings/meeting/{meeting.pk}/disposition/" in message.body
    notification = MeetingNotification.objects.get()
    assert notification.kind == "reminder" and notification.recipient == pod["ae"]


@pytest.mark.django_db
def test_reminder_and_escalation_links_are_full_portal_urls(pod, contact, start, settings):
    # A mail is read outside the portal: a relative path is not a link. Every mail takes its
    # links from the one base-URL setting.
    settings.PORTAL_BASE_URL = "https://portal.example.com/"
    meeting = _book(pod, contact, start)
    with time_machine.travel(meeting.disposition_due_at + dt.timedelta(minutes=1), tick=False):
        remind_ended_meetings()
        escalate_overdue_meetings()
    link = f"https://portal.example.com/admin/meetings/meeting/{meeting.pk}/disposition/"
    assert [m.to for m in mail.outbox] == [[pod["ae"].user.email], [pod["manager"].user.email]]
    for message in mail.outbox:
        assert link in message.body.split()


@pytest.mark.django_db
def test_no_reminder_for_a_meeting_dispositioned_before_its_end(pod, contact, start):
    meeting = _book(pod, contact, start)
    with time_machine.travel(meeting.scheduled_at + dt.timedelta(minutes=10), tick=False):
        meeting_disposition(meeting=meeting, outcome=Meeting.Status.COMPLETED_QUALIFIED, actor=pod["ae"].user)
    with time_machine.travel(meeting.disposition_due_at + dt.timedelta(hours=1), tick=False):
        remind_ended_meetings()
        escalate_overdue_meetings()
    assert mail.outbox == []


@pytest.mark.django_db
def test_escalation_to_the_sales_manager_at_the_due_boundary_once(pod, contact, start):
    meeting = _book(pod, contact, start)
    with time_machine.travel(meeting.disposition_due_at, tick=False):
        remind_ended_meetings()
        escalate_overdue_meetings()  # exactly at the due time: still on time
    assert [m.to for m in mail.outbox] == [[pod["ae"].user.email]]
    with time_machine.travel(meeting.disposition_due_at + dt.timedelta(seconds=1), tick=False):
        for _ in range(3):
            _run("apps.meetings.tasks.escalate_overdue_meetings")
    with time_machine.travel(meeting.disposition_due_at + dt.timedelta(days=2), tick=False):
        escalate_overdue_meetings()
        remind_ended_meetings()
    assert len(mail.outbox) == 2
    escalation = mail.outbox[1]
    assert escalation.to == [pod["manager"].user.email]
    assert escalation.subject.startswith("Overdue meeting disposition: Abe Closer")
    kinds = sorted(MeetingNotification.objects.values_list("kind", flat=True))
    assert kinds == ["escalation", "reminder"]


@pytest.mark.django_db
def test_escalation_falls_back_to_the_aes_own_manager(pod, contact, start):
    from apps.people.tests.factories import RepFactory, TeamFactory

    boss = RepFactory(role="manager", owner_name="Bo Boss", team=TeamFactory(name="Closers"))
    ae = pod["ae"]
    ae.team = TeamFactory(name="Solo")  # a team without a manager
    ae.manager = boss
    ae.save()
    meeting = _book(pod, contact, start)
    with time_machine.travel(meeting.disposition_due_at + dt.timedelta(minutes=1), tick=False):
        escalate_overdue_meetings()
    assert [m.to for m in mail.outbox] == [[boss.user.email]]


@pytest.mark.django_db
def test_late_disposition_after_escalation_is_recorded_late_and_stops_nothing_else(pod, contact, start):
    meeting = _book(pod, contact, start)
    with time_machine.travel(meeting.disposition_due_at + dt.timedelta(hours=3), tick=False):
        escalate_overdue_meetings()
        done = meeting_disposition(meeting=meeting, outcome=Meeting.Status.COMPLETED_QUALIFIED, actor=pod["ae"].user)
        escalate_overdue_meetings()
    assert done.disposition_late is True
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_send_each_notification_once(pod, contact, start):
    meetings = [_book(pod, contact, start + dt.timedelta(hours=i)) for i in range(12)]
    late_enough = max(m.disposition_due_at for m in meetings) + dt.timedelta(minutes=1)
    barrier = threading.Barrier(6)
    errors = []

    def worker():
        try:
            barrier.wait()
            remind_ended_meetings()
            escalate_overdue_meetings()
        except Exception as error:  # surfaced below; a thread cannot fail the test itself
            errors.append(error)
        finally:
            close_old_connections()

    with time_machine.travel(late_enough, tick=False):
        threads = [threading.Thread(target=worker) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    # The AE's mailbox also holds the calendar invites of the bookings (apps.connect).
    reminders = [m for m in mail.outbox if m.to == [pod["ae"].user.email] and m.subject.startswith("Disposition")]
    escalations = [m for m in mail.outbox if m.to == [pod["manager"].user.email]]
    assert len(reminders) == 12 and len(escalations) == 12
    assert MeetingNotification.objects.count() == 24
    for meeting in meetings:
        assert sorted(meeting.notifications.values_list("kind", flat=True)) == ["escalation", "reminder"]


class FlakyBackend(locmem.EmailBackend):
    """Refuses mail to addresses in `failing` (a mail server down for one mailbox)."""

    failing: set[str] = set()

    def send_messages(self, messages):
        if any(address in self.failing for message in messages for address in message.to):
            raise OSError("mail server unavailable")
        return super().send_messages(messages)


@pytest.mark.django_db
def test_a_failed_send_is_retried_by_the_mail_outbox_and_never_queued_twice(pod, contact, start, settings):
    from apps.connect.models import OutboundEmail
    from sdrops.mail import mail_outbox_sweep

    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    with TestCase.captureOnCommitCallbacks(execute=True):
        first = _book(pod, contact, start)
        second = _book(pod, contact, start, ae=pod["smb_ae"])
    mail.outbox.clear()  # the bookings' calendar invites, sent
    FlakyBackend.failing = {pod["smb_ae"].user.email}
    with time_machine.travel(first.scheduled_end_at, tick=False):
        assert remind_ended_meetings() == 2  # both queued, with their markers, in one transaction
        assert remind_ended_meetings() == 0
    assert [m.to for m in mail.outbox] == [[pod["ae"].user.email]]
    waiting = OutboundEmail.objects.get(kind="notification", related=f"meeting:{second.pk}")
    assert (waiting.status, waiting.attempts) == ("pending", 1) and "mail server unavailable" in waiting.last_error
    FlakyBackend.failing = set()
    with time_machine.travel(first.scheduled_end_at + dt.timedelta(seconds=30), tick=False):
        assert mail_outbox_sweep() == 0  # back-off: 1 minute after the first failure
    with time_machine.travel(first.scheduled_end_at + dt.timedelta(minutes=2), tick=False):
        assert mail_outbox_sweep() == 1
        assert remind_ended_meetings() == 0
    assert [m.to for m in mail.outbox] == [[pod["ae"].user.email], [pod["smb_ae"].user.email]]
    waiting.refresh_from_db()
    assert waiting.status == "sent" and second.notifications.get().kind == "reminder"


@pytest.mark.django_db
def test_the_managers_morning_email_lists_meetings_without_disposition(pod, contact, start, django_capture_on_commit_callbacks):
    from apps.leads.morning import morning_email_send

    meeting = _book(pod, contact, start)
    with time_machine.travel(meeting.scheduled_end_at + dt.timedelta(hours=3), tick=False), \
            django_capture_on_commit_callbacks(execute=True):
        assert morning_email_send(manager_id=pod["manager"].pk)
    (message,) = [m for m in mail.outbox if m.to == [pod["manager"].user.email]]
    assert "Meetings without disposition — 1" in message.body
    assert "Initial qualifying meeting with Peter Gibbons" in message.body
