from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError

from apps.accounts.models import Activity, ActivityType
from apps.leads.models import LeadCycle
from apps.leads.services import lead_cycle_open
from apps.meetings.models import Meeting, MeetingSettingsChange, RescheduleAttempt
from apps.meetings.selectors import meeting_settings_get
from apps.meetings.services import meeting_book, meeting_cancel, meeting_reschedule, meeting_settings_update
from apps.people.models import Rep, Segment
from apps.people.tests.factories import ContactFactory, RepFactory

pytestmark = pytest.mark.django_db


def test_booking_defaults_to_partner_ae_for_segment_and_records_a_meeting_touch(pod, contact, start):
    sdr = pod["sdr"]
    cycle = lead_cycle_open(contact=contact, rep=sdr, lead_type="inbound")

    meeting = meeting_book(contact=contact, sdr=sdr, actor=sdr.user, scheduled_at=start)

    assert meeting.ae == pod["ae"]  # Mid-Market partner for a Mid-Market account
    assert meeting.kind == Meeting.Kind.IQM
    assert meeting.sdr_attends is True
    assert meeting.status == Meeting.Status.SCHEDULED
    assert meeting.scheduled_end_at == start + dt.timedelta(minutes=30)
    assert meeting.disposition_due_at == start + dt.timedelta(minutes=30, hours=24)
    assert meeting.account == contact.account
    assert meeting.lead_cycle == cycle
    assert meeting.booked_by == sdr.user
    activity = Activity.objects.get(contact=contact)
    assert activity.type == ActivityType.MEETING and activity.rep == sdr and not activity.automated
    cycle.refresh_from_db()
    assert cycle.state == LeadCycle.State.WORKING
    assert cycle.first_touch_at is not None


def test_booking_falls_back_to_first_partner_and_accepts_any_partner(pod, contact, start):
    sdr = pod["sdr"]
    contact.account.segment = Segment.ENTERPRISE
    contact.account.save()
    meeting = meeting_book(contact=contact, sdr=sdr, actor=sdr.user, scheduled_at=start)
    assert meeting.ae == pod["ae"]  # "Abe Closer" sorts before "Eve Smb"

    other = meeting_book(contact=contact, sdr=sdr, actor=sdr.user, scheduled_at=start + dt.timedelta(days=1),
                         ae=pod["smb_ae"], kind=Meeting.Kind.DEMO, sdr_attends=False, notes="Wants SSO")
    assert other.ae == pod["smb_ae"] and other.kind == "demo" and other.sdr_attends is False


def test_booking_refuses_an_ae_outside_the_pod(pod, contact, start):
    stranger = RepFactory(role=Rep.Role.AE, owner_name="Stan Stranger")
    with pytest.raises(ValidationError) as error:
        meeting_book(contact=contact, sdr=pod["sdr"], actor=pod["sdr"].user, scheduled_at=start, ae=stranger)
    assert "is not an AE Sam Seller books for" in str(error.value.message_dict["ae"])
    assert not Meeting.objects.exists() and not Activity.objects.exists()


def test_sdr_without_partners_may_book_any_active_ae(sdr, ae, contact, start):
    meeting = meeting_book(contact=contact, sdr=sdr, actor=sdr.user, scheduled_at=start)
    assert meeting.ae == ae


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"scheduled_at": "past"}, "scheduled_at", "is booked in the future"),
        ({"scheduled_end_at": "before"}, "scheduled_end_at", "must end after it starts"),
        ({"kind": "lunch"}, "kind", "Unknown meeting kind"),
    ],
)
def test_booking_bad_input_gives_a_field_error_and_changes_nothing(pod, contact, start, change, field, message):
    kwargs = {"contact": contact, "sdr": pod["sdr"], "actor": pod["sdr"].user, "scheduled_at": start}
    if change.get("scheduled_at") == "past":
        kwargs["scheduled_at"] = start - dt.timedelta(days=5)
    if change.get("scheduled_end_at") == "before":
        kwargs["scheduled_end_at"] = start - dt.timedelta(minutes=1)
    if "kind" in change:
        kwargs["kind"] = change["kind"]
    with pytest.raises(ValidationError) as error:
        meeting_book(**kwargs)
    assert message in " ".join(error.value.message_dict[field])
    assert not Meeting.objects.exists()


def test_contact_without_account_cannot_be_booked(pod, start):
    loner = ContactFactory(account=None)
    with pytest.raises(ValidationError) as error:
        meeting_book(contact=loner, sdr=pod["sdr"], actor=pod["sdr"].user, scheduled_at=start)
    assert "has no account" in error.value.message_dict["contact"][0]


def test_an_sdr_cannot_book_as_another_sdr(pod, contact, start, other_sdr):
    with pytest.raises(ValidationError) as error:
        meeting_book(contact=contact, sdr=pod["sdr"], actor=other_sdr.user, scheduled_at=start)
    assert "only as yourself" in error.value.message_dict["sdr"][0]


def test_booking_a_lead_without_open_cycle_starts_one_for_the_sdr(pod, contact, start):
    meeting = meeting_book(contact=contact, sdr=pod["sdr"], actor=pod["sdr"].user, scheduled_at=start)
    cycle = LeadCycle.objects.get(pk=meeting.lead_cycle_id)
    assert cycle.rep == pod["sdr"] and cycle.number == 1 and cycle.state == LeadCycle.State.WORKING


def test_due_hours_come_from_the_editable_settings(pod, contact, start, ops):
    meeting_settings_update(actor=ops.user, disposition_due_hours=48, default_duration_minutes=45)
    meeting = meeting_book(contact=contact, sdr=pod["sdr"], actor=pod["sdr"].user, scheduled_at=start)
    assert meeting.scheduled_end_at == start + dt.timedelta(minutes=45)
    assert meeting.disposition_due_at == meeting.scheduled_end_at + dt.timedelta(hours=48)
    changes = {c.field: (c.old_value, c.new_value, c.actor) for c in MeetingSettingsChange.objects.all()}
    assert changes == {
        "disposition_due_hours": ("24", "48", ops.user),
        "default_duration_minutes": ("30", "45", ops.user),
    }


def test_settings_update_rejects_bad_values_and_unknown_fields(ops):
    with pytest.raises(ValidationError):
        meeting_settings_update(actor=ops.user, reschedule_days=0)
    with pytest.raises(ValidationError):
        meeting_settings_update(actor=ops.user, colour="blue")
    assert meeting_settings_get().reschedule_days == 7
    assert not MeetingSettingsChange.objects.exists()


def test_reschedule_before_start_replaces_the_meeting(pod, contact, start):
    sdr = pod["sdr"]
    meeting = meeting_book(contact=contact, sdr=sdr, actor=sdr.user, scheduled_at=start, notes="Pricing questions")
    new = meeting_reschedule(meeting=meeting, actor=pod["ae"].user, scheduled_at=start + dt.timedelta(days=3))
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.RESCHEDULED
    assert new.previous_meeting == meeting and new.status == Meeting.Status.SCHEDULED
    assert new.ae == meeting.ae and new.sdr == sdr and new.lead_cycle == meeting.lead_cycle
    assert new.notes == "Pricing questions"
    assert new.scheduled_end_at - new.scheduled_at == dt.timedelta(minutes=30)
    assert new.disposition_due_at == new.scheduled_end_at + dt.timedelta(hours=24)


def test_reschedule_and_cancel_are_refused_once_the_meeting_started(pod, contact, start):
    sdr = pod["sdr"]
    meeting = meeting_book(contact=contact, sdr=sdr, actor=sdr.user, scheduled_at=start)
    with time_machine.travel(start + dt.timedelta(minutes=1), tick=False):
        with pytest.raises(ValidationError, match="has started"):
            meeting_reschedule(meeting=meeting, actor=sdr.user, scheduled_at=start + dt.timedelta(days=1))
        with pytest.raises(ValidationError, match="has started"):
            meeting_cancel(meeting=meeting, actor=sdr.user, cancelled_by="prospect")
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.SCHEDULED
    assert Meeting.objects.count() == 1


def test_cancel_records_who_cancelled(pod, contact, start):
    sdr = pod["sdr"]
    meeting = meeting_book(contact=contact, sdr=sdr, actor=sdr.user, scheduled_at=start)
    with pytest.raises(ValidationError):
        meeting_cancel(meeting=meeting, actor=sdr.user, cancelled_by="")
    meeting = meeting_cancel(meeting=meeting, actor=sdr.user, cancelled_by="prospect", notes="Travelling")
    assert meeting.status == Meeting.Status.CANCELLED
    assert meeting.cancelled_by == Meeting.CancelledBy.PROSPECT and meeting.cancelled_by_user == sdr.user
    with pytest.raises(ValidationError, match="already Cancelled"):
        meeting_cancel(meeting=meeting, actor=sdr.user, cancelled_by="ae")


def test_another_teams_sdr_cannot_cancel(pod, contact, start, other_sdr):
    meeting = meeting_book(contact=contact, sdr=pod["sdr"], actor=pod["sdr"].user, scheduled_at=start)
    with pytest.raises(ValidationError, match="Only the booking SDR"):
        meeting_cancel(meeting=meeting, actor=other_sdr.user, cancelled_by="sdr")


def test_rebooking_after_no_show_closes_the_reschedule_task(pod, contact, start):
    from apps.meetings.services import meeting_disposition

    sdr, ae = pod["sdr"], pod["ae"]
    first = meeting_book(contact=contact, sdr=sdr, actor=sdr.user, scheduled_at=start)
    with time_machine.travel(first.scheduled_end_at, tick=False):
        meeting_disposition(meeting=first, outcome=Meeting.Status.NO_SHOW, actor=ae.user)
        attempt = RescheduleAttempt.objects.get(meeting=first)
        second = meeting_book(contact=contact, sdr=sdr, actor=sdr.user, scheduled_at=start + dt.timedelta(days=2))
    attempt.refresh_from_db()
    assert attempt.state == RescheduleAttempt.State.BOOKED and attempt.rebooked_meeting == second
    assert second.previous_meeting == first
    assert second.lead_cycle == first.lead_cycle


def test_a_booking_recorded_in_the_past_counts_from_then(pod, contact):
    from django.utils import timezone

    booked_at = timezone.now() - dt.timedelta(days=3)
    meeting = meeting_book(contact=contact, sdr=pod["sdr"], actor=pod["sdr"].user, booked_at=booked_at,
                           scheduled_at=booked_at + dt.timedelta(days=1))
    assert meeting.booked_at == booked_at
    assert Activity.objects.get(contact=contact).occurred_at == booked_at
    with pytest.raises(ValidationError) as error:
        meeting_book(contact=contact, sdr=pod["sdr"], actor=pod["sdr"].user,
                     booked_at=timezone.now() + dt.timedelta(hours=1), scheduled_at=booked_at + dt.timedelta(days=9))
    assert "booked_at" in error.value.message_dict


def test_forgetting_a_contact_erases_the_meeting_notes(pod, contact, start):
    from apps.people.privacy import contact_forget

    meeting = meeting_book(contact=contact, sdr=pod["sdr"], actor=pod["sdr"].user, scheduled_at=start,
                           notes="Peter's wife works at our competitor")
    contact_forget(email="peter@initech.com", actor=pod["manager"].user)
    meeting.refresh_from_db()
    assert meeting.notes == "" and meeting.status == Meeting.Status.SCHEDULED
