from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError

from apps.leads.models import LeadCycle
from apps.leads.services import lead_cycle_open
from apps.meetings.models import (
    Meeting,
    MeetingNotification,
    Opportunity,
    OpportunityEvent,
    RescheduleAttempt,
)
from apps.meetings.services import meeting_book, meeting_disposition, meeting_settings_update

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked(pod, contact, start):
    lead_cycle_open(contact=contact, rep=pod["sdr"], lead_type="inbound")
    return meeting_book(contact=contact, sdr=pod["sdr"], actor=pod["sdr"].user, scheduled_at=start)


def after(meeting, minutes=31):
    return time_machine.travel(meeting.scheduled_at + dt.timedelta(minutes=minutes), tick=False)


def cycle_of(meeting):
    return LeadCycle.objects.get(pk=meeting.lead_cycle_id)


def test_completed_qualified_qualifies_the_lead_and_creates_an_opportunity_for_the_sdr(booked, pod):
    with after(booked):
        meeting = meeting_disposition(
            meeting=booked, outcome=Meeting.Status.COMPLETED_QUALIFIED, actor=pod["ae"].user, notes="Great fit"
        )
    assert meeting.status == Meeting.Status.COMPLETED_QUALIFIED
    assert meeting.dispositioned_by == pod["ae"].user and meeting.disposition_notes == "Great fit"
    assert meeting.disposition_late is False
    cycle = cycle_of(meeting)
    assert cycle.state == LeadCycle.State.DISPOSITIONED and cycle.disposition == LeadCycle.Disposition.QUALIFIED
    assert cycle.dispositioned_at == meeting.dispositioned_at
    opportunity = meeting.opportunity
    assert opportunity.stage.code == "meeting_completed" and opportunity.is_open
    assert opportunity.owner == pod["ae"] and opportunity.sourcing_sdr == pod["sdr"]
    assert opportunity.source_meeting == meeting and opportunity.account == meeting.account
    account = meeting.account
    account.refresh_from_db()
    assert account.opportunity_owner == pod["ae"] and account.sdr_owner == pod["sdr"]
    assert account.owner == pod["sdr"]  # the rep working the account does not change
    created = opportunity.events.get()
    assert created.kind == OpportunityEvent.Kind.CREATED and created.to_stage.code == "meeting_completed"
    assert created.actor == pod["ae"].user


def test_qualified_meeting_advances_the_opportunity_opened_at_booking(pod, contact, start, ops):
    meeting_settings_update(actor=ops.user, opportunity_at_booking=True)
    meeting = meeting_book(contact=contact, sdr=pod["sdr"], actor=pod["sdr"].user, scheduled_at=start)
    opportunity = meeting.opportunity
    assert opportunity.stage.code == "meeting_scheduled" and opportunity.sourcing_sdr == pod["sdr"]
    with after(meeting):
        meeting_disposition(meeting=meeting, outcome=Meeting.Status.COMPLETED_QUALIFIED, actor=pod["ae"].user)
    opportunity.refresh_from_db()
    assert opportunity.stage.code == "meeting_completed"
    assert Opportunity.objects.count() == 1
    kinds = [(e.kind, e.from_stage and e.from_stage.code, e.to_stage.code) for e in opportunity.events.all()]
    assert kinds == [("created", None, "meeting_scheduled"), ("stage", "meeting_scheduled", "meeting_completed")]


def test_a_demo_on_an_account_with_one_open_opportunity_joins_and_does_not_move_it_back(pod, contact, start, booked):
    with after(booked):
        meeting_disposition(meeting=booked, outcome=Meeting.Status.COMPLETED_QUALIFIED, actor=pod["ae"].user)
    booked.refresh_from_db()
    opportunity = booked.opportunity
    from apps.meetings.selectors import stage_by_code
    from apps.meetings.services import opportunity_stage_set

    opportunity_stage_set(opportunity=opportunity, stage=stage_by_code("pipeline"), actor=pod["ae"].user)
    demo = meeting_book(contact=contact, sdr=pod["sdr"], actor=pod["sdr"].user, kind=Meeting.Kind.DEMO,
                        scheduled_at=start + dt.timedelta(days=5))
    assert demo.opportunity == opportunity
    with after(demo):
        meeting_disposition(meeting=demo, outcome=Meeting.Status.COMPLETED_QUALIFIED, actor=pod["ae"].user)
    opportunity.refresh_from_db()
    assert opportunity.stage.code == "pipeline" and Opportunity.objects.count() == 1


@pytest.mark.parametrize(
    "disposition, label",
    [
        ("unqualified", "Not a prospect (student, job seeker)"),
        ("nurture", "Budget not available for 6+ months"),
    ],
)
def test_completed_unqualified_dispositions_the_lead_with_the_reason(booked, pod, reason, disposition, label):
    with after(booked):
        meeting = meeting_disposition(
            meeting=booked, outcome=Meeting.Status.COMPLETED_UNQUALIFIED, actor=pod["ae"].user,
            lead_reason=reason(label),
        )
    cycle = cycle_of(meeting)
    assert cycle.disposition == disposition and cycle.disposition_reason == label
    assert cycle.reason == reason(label) and cycle.dispositioned_by == pod["ae"].user
    assert meeting.opportunity is None and not Opportunity.objects.exists()


def test_completed_unqualified_needs_a_reason_the_ae_may_give(booked, pod, reason):
    with after(booked), pytest.raises(ValidationError) as error:
        meeting_disposition(meeting=booked, outcome=Meeting.Status.COMPLETED_UNQUALIFIED, actor=pod["ae"].user)
    assert "lead_reason" in error.value.message_dict
    with after(booked), pytest.raises(ValidationError) as error:  # a system reason is not the AE's to give
        meeting_disposition(meeting=booked, outcome=Meeting.Status.COMPLETED_UNQUALIFIED, actor=pod["ae"].user,
                            lead_reason=reason("Auto-abandoned"))
    assert "lead_reason" in error.value.message_dict
    booked.refresh_from_db()
    assert booked.status == Meeting.Status.SCHEDULED


def test_unqualified_initial_meeting_closes_the_opportunity_opened_at_booking(pod, contact, start, ops, reason):
    meeting_settings_update(actor=ops.user, opportunity_at_booking=True)
    meeting = meeting_book(contact=contact, sdr=pod["sdr"], actor=pod["sdr"].user, scheduled_at=start)
    with after(meeting):
        meeting_disposition(meeting=meeting, outcome=Meeting.Status.COMPLETED_UNQUALIFIED, actor=pod["ae"].user,
                            lead_reason=reason("Incompatible systems"))
    opportunity = Opportunity.objects.get()
    assert not opportunity.is_open and opportunity.stage.code == "closed_lost"
    assert opportunity.closed_lost_reason == "unqualified"


def test_disposition_is_refused_before_the_meeting_starts(booked, pod):
    with pytest.raises(ValidationError, match="once it has started"):
        meeting_disposition(meeting=booked, outcome=Meeting.Status.COMPLETED_QUALIFIED, actor=pod["ae"].user)


def test_disposition_only_once(booked, pod):
    with after(booked):
        meeting_disposition(meeting=booked, outcome=Meeting.Status.COMPLETED_QUALIFIED, actor=pod["ae"].user)
        with pytest.raises(ValidationError, match="already Completed – Qualified"):
            meeting_disposition(meeting=booked, outcome=Meeting.Status.NO_SHOW, actor=pod["ae"].user)


def test_who_may_disposition(booked, pod, ops, other_sdr):
    with after(booked):
        for outsider in (pod["sdr"], pod["smb_ae"], other_sdr):
            with pytest.raises(ValidationError, match="Only the AE"):
                meeting_disposition(meeting=booked, outcome=Meeting.Status.NO_SHOW, actor=outsider.user)
        meeting = meeting_disposition(meeting=booked, outcome=Meeting.Status.NO_SHOW, actor=pod["manager"].user)
    assert meeting.dispositioned_by == pod["manager"].user


def test_ops_may_disposition(booked, ops):
    with after(booked):
        meeting = meeting_disposition(meeting=booked, outcome=Meeting.Status.NO_SHOW, actor=ops.user)
    assert meeting.status == Meeting.Status.NO_SHOW


def test_unknown_outcome_is_refused(booked, pod):
    with after(booked), pytest.raises(ValidationError) as error:
        meeting_disposition(meeting=booked, outcome="rescheduled", actor=pod["ae"].user)
    assert "outcome" in error.value.message_dict


# --- 24 h due time ------------------------------------------------------------------------------


def test_disposition_exactly_at_the_due_time_is_on_time_and_a_moment_later_is_late(pod, contact, start):
    first = meeting_book(contact=contact, sdr=pod["sdr"], actor=pod["sdr"].user, scheduled_at=start)
    second = meeting_book(contact=contact, sdr=pod["sdr"], actor=pod["sdr"].user, scheduled_at=start,
                          ae=pod["smb_ae"])
    assert first.disposition_due_at == first.scheduled_end_at + dt.timedelta(hours=24)
    with time_machine.travel(first.disposition_due_at, tick=False):
        on_time = meeting_disposition(meeting=first, outcome=Meeting.Status.NO_SHOW, actor=pod["ae"].user)
    with time_machine.travel(second.disposition_due_at + dt.timedelta(microseconds=1), tick=False):
        late = meeting_disposition(meeting=second, outcome=Meeting.Status.NO_SHOW, actor=pod["smb_ae"].user)
    assert on_time.disposition_late is False
    assert late.disposition_late is True


# --- no-shows ------------------------------------------------------------------------------------


def test_no_show_hands_rescheduling_to_the_sdr(booked, pod, django_capture_on_commit_callbacks):
    cycle = cycle_of(booked)
    cycle.rep = pod["ae"]  # the lead was with the AE for the meeting
    cycle.save()
    with after(booked), django_capture_on_commit_callbacks(execute=True):
        meeting = meeting_disposition(meeting=booked, outcome=Meeting.Status.NO_SHOW, actor=pod["ae"].user)
    attempt = RescheduleAttempt.objects.get()
    assert attempt.meeting == meeting and attempt.sdr == pod["sdr"] and attempt.contact == meeting.contact
    assert attempt.touches_allowed == 5
    assert attempt.due_by == meeting.dispositioned_at + dt.timedelta(days=7)
    assert attempt.state == RescheduleAttempt.State.OPEN
    cycle.refresh_from_db()
    assert cycle.rep == pod["sdr"] and cycle.state == LeadCycle.State.WORKING
    assert [m.to for m in mail.outbox] == [[pod["sdr"].user.email]]
    assert "No-show: reschedule Peter Gibbons" in mail.outbox[0].subject
    assert "up to 5 touches" in mail.outbox[0].body
    assert MeetingNotification.objects.get().kind == MeetingNotification.Kind.NO_SHOW


def _no_show_cycle(pod, contact, start, rounds):
    meetings = []
    for round_number in range(rounds):
        meeting = meeting_book(contact=contact, sdr=pod["sdr"], actor=pod["sdr"].user,
                               scheduled_at=start + dt.timedelta(days=3 * round_number))
        with after(meeting):
            meetings.append(meeting_disposition(meeting=meeting, outcome=Meeting.Status.NO_SHOW, actor=pod["ae"].user))
    return meetings


def test_two_further_no_shows_abandon_the_lead_to_nurture(booked, pod, contact, start, django_capture_on_commit_callbacks):
    with after(booked):
        meeting_disposition(meeting=booked, outcome=Meeting.Status.NO_SHOW, actor=pod["ae"].user)
    with django_capture_on_commit_callbacks(execute=True):
        second, third = _no_show_cycle(pod, contact, start + dt.timedelta(days=3), rounds=2)
    assert second.previous_meeting == booked and third.previous_meeting == second
    cycle = cycle_of(third)
    assert cycle.state == LeadCycle.State.DISPOSITIONED
    assert cycle.disposition == LeadCycle.Disposition.NURTURE and cycle.disposition_reason == "No-show limit reached"
    states = list(RescheduleAttempt.objects.order_by("pk").values_list("state", flat=True))
    assert states == ["booked", "booked"]  # no third reschedule task: the lead is abandoned
    assert MeetingNotification.objects.filter(meeting=third).get().kind == MeetingNotification.Kind.NO_SHOW_LIMIT
    assert "abandoned to nurture" in mail.outbox[-1].subject


def test_after_one_further_no_show_the_lead_is_still_rescheduled(booked, pod, contact, start):
    with after(booked):
        meeting_disposition(meeting=booked, outcome=Meeting.Status.NO_SHOW, actor=pod["ae"].user)
    (second,) = _no_show_cycle(pod, contact, start + dt.timedelta(days=3), rounds=1)
    assert cycle_of(second).state == LeadCycle.State.WORKING
    assert RescheduleAttempt.objects.get(state="open").meeting == second


def test_the_no_show_limit_is_editable(booked, pod, ops):
    meeting_settings_update(actor=ops.user, no_show_limit=0, reschedule_touches=3, reschedule_days=4)
    with after(booked):
        meeting_disposition(meeting=booked, outcome=Meeting.Status.NO_SHOW, actor=pod["ae"].user)
    cycle = cycle_of(booked)
    assert cycle.disposition == LeadCycle.Disposition.NURTURE
    assert not RescheduleAttempt.objects.exists()


def test_reschedule_window_is_editable(booked, pod, ops):
    meeting_settings_update(actor=ops.user, reschedule_touches=3, reschedule_days=4)
    with after(booked):
        meeting = meeting_disposition(meeting=booked, outcome=Meeting.Status.NO_SHOW, actor=pod["ae"].user)
    attempt = RescheduleAttempt.objects.get()
    assert attempt.touches_allowed == 3 and attempt.due_by == meeting.dispositioned_at + dt.timedelta(days=4)


def test_a_recycled_lead_counts_no_shows_afresh(booked, pod, contact, start):
    first_round = _no_show_cycle(pod, contact, start + dt.timedelta(days=3), rounds=0)
    assert first_round == []
    with after(booked):
        meeting_disposition(meeting=booked, outcome=Meeting.Status.NO_SHOW, actor=pod["ae"].user)
    _no_show_cycle(pod, contact, start + dt.timedelta(days=3), rounds=2)
    assert cycle_of(booked).disposition == LeadCycle.Disposition.NURTURE
    # The lead comes back: a new cycle, and one no-show there only starts a reschedule.
    (fresh,) = _no_show_cycle(pod, contact, start + dt.timedelta(days=30), rounds=1)
    assert fresh.lead_cycle_id != booked.lead_cycle_id
    assert cycle_of(fresh).state == LeadCycle.State.WORKING
    assert RescheduleAttempt.objects.filter(state="open", meeting=fresh).exists()


# --- the lead's cadences (issue 6) ----------------------------------------------------------------


def _enrol(contact, rep, name="High-touch inbound"):
    from apps.cadences.defaults import cadences_defaults_ensure
    from apps.cadences.models import Cadence
    from apps.cadences.services import enrolment_create

    cadences_defaults_ensure()
    return enrolment_create(contact=contact, cadence=Cadence.objects.get(name=name), rep=rep, actor=rep.user)


def test_booking_is_a_positive_response_in_the_leads_cadence(pod, contact, start):
    from apps.cadences.models import Enrolment

    enrolment = _enrol(contact, pod["sdr"])
    meeting_book(contact=contact, sdr=pod["sdr"], actor=pod["sdr"].user, scheduled_at=start)
    enrolment.refresh_from_db()
    assert enrolment.state == Enrolment.State.POSITIVE
    step = enrolment.steps.order_by("position").first()
    assert step.outcome == "positive" and step.activity.type == "meeting"


def test_no_show_puts_the_lead_in_the_reschedule_cadence_and_rebooking_ends_it(pod, contact, start):
    from apps.cadences.models import Enrolment

    first = meeting_book(contact=contact, sdr=pod["sdr"], actor=pod["sdr"].user, scheduled_at=start)
    with after(first):
        meeting_disposition(meeting=first, outcome=Meeting.Status.NO_SHOW, actor=pod["ae"].user)
    enrolment = Enrolment.objects.get(contact=contact, state=Enrolment.State.ACTIVE)
    assert enrolment.cadence.name == "Reschedule after no-show (5 touches in 7 days)"
    assert enrolment.rep == pod["sdr"] and enrolment.lead_cycle_id == first.lead_cycle_id
    offsets = [step.due_at - enrolment.enrolled_at for step in enrolment.steps.order_by("position")]
    assert len(offsets) == 5 and offsets[0] == dt.timedelta(0) and offsets[-1] == dt.timedelta(days=7)
    with after(first, minutes=60 * 24):
        meeting_book(contact=contact, sdr=pod["sdr"], actor=pod["sdr"].user, scheduled_at=start + dt.timedelta(days=3))
    enrolment.refresh_from_db()
    assert enrolment.state == Enrolment.State.POSITIVE


def test_no_show_limit_uses_the_system_reason_and_ends_the_reschedule_cadence(booked, pod, contact, start):
    from apps.cadences.models import Enrolment
    from apps.leads.models import LeadCycleEvent

    with after(booked):
        meeting_disposition(meeting=booked, outcome=Meeting.Status.NO_SHOW, actor=pod["ae"].user)
    _no_show_cycle(pod, contact, start + dt.timedelta(days=3), rounds=2)
    cycle = cycle_of(booked)
    assert cycle.reason.code == "no_show_limit" and cycle.dispositioned_by_system
    assert not Enrolment.objects.filter(contact=contact, state=Enrolment.State.ACTIVE).exists()
    event = cycle.events.get(kind=LeadCycleEvent.Kind.DISPOSITIONED)
    assert event.actor is None and "3 no-shows" in event.note


def test_qualified_meeting_records_the_ae_on_the_lead_cycle_event(booked, pod):
    from apps.leads.models import LeadCycleEvent

    with after(booked):
        meeting_disposition(meeting=booked, outcome=Meeting.Status.COMPLETED_QUALIFIED, actor=pod["ae"].user)
    event = cycle_of(booked).events.get(kind=LeadCycleEvent.Kind.DISPOSITIONED)
    assert event.actor == pod["ae"].user and event.note == f"Meeting {booked.pk} completed as qualified"


def test_reschedule_tasks_expire_after_the_window_or_when_the_lead_is_dispositioned(pod, contact, start, ops):
    from apps.meetings.services import reschedule_attempts_expire
    from apps.people.tests.factories import ContactFactory

    first = meeting_book(contact=contact, sdr=pod["sdr"], actor=pod["sdr"].user, scheduled_at=start)
    other = ContactFactory(account=contact.account)
    second = meeting_book(contact=other, sdr=pod["sdr"], actor=pod["sdr"].user, scheduled_at=start)
    with after(first):
        meeting_disposition(meeting=first, outcome=Meeting.Status.NO_SHOW, actor=pod["ae"].user)
        meeting_disposition(meeting=second, outcome=Meeting.Status.NO_SHOW, actor=pod["ae"].user)
    attempt = RescheduleAttempt.objects.get(meeting=first)
    # The lead behind the second no-show is dispositioned meanwhile (e.g. end of cadence).
    from apps.leads.services.cycles import lead_cycle_disposition_if_open

    lead_cycle_disposition_if_open(cycle=cycle_of(second), disposition="nurture", reason_code="no_response", system=True)
    assert reschedule_attempts_expire(now=attempt.due_by) == 1
    assert RescheduleAttempt.objects.get(meeting=second).state == RescheduleAttempt.State.EXPIRED
    attempt.refresh_from_db()
    assert attempt.state == RescheduleAttempt.State.OPEN  # exactly at the end of the window: still open
    assert reschedule_attempts_expire(now=attempt.due_by + dt.timedelta(seconds=1)) == 1
    attempt.refresh_from_db()
    assert attempt.state == RescheduleAttempt.State.EXPIRED
    assert reschedule_attempts_expire(now=attempt.due_by + dt.timedelta(days=1)) == 0


def test_disposition_callbacks_run_in_the_same_transaction(booked, pod):
    from apps.meetings import services

    seen = []

    def record(meeting):
        seen.append((meeting.pk, meeting.status, meeting.opportunity_id is not None))

    services._on_dispositioned.append(record)
    try:
        with after(booked):
            meeting_disposition(meeting=booked, outcome=Meeting.Status.COMPLETED_QUALIFIED, actor=pod["ae"].user)
    finally:
        services._on_dispositioned.remove(record)
    assert seen == [(booked.pk, "completed_qualified", True)]
