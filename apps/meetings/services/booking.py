"""Booking, rescheduling and cancelling meetings (the scheduled side of the status map in
__init__)."""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.leads.models import LeadType
from apps.leads.selectors import lead_cycle_current
from apps.leads.services import lead_cycle_open
from apps.meetings import events, lifecycle, selectors
from apps.meetings.models import (
    Meeting,
    Opportunity,
    OpportunityStage,
    RescheduleAttempt,
)
from apps.meetings.services.common import _fmt
from apps.meetings.services.opportunities import opportunity_create
from apps.people.actors import actor_user
from apps.people.models import Contact, Rep

logger = logging.getLogger(__name__)


def meeting_book(
    *,
    contact: Contact,
    sdr: Rep,
    actor,
    scheduled_at: dt.datetime,
    scheduled_end_at: dt.datetime | None = None,
    ae: Rep | None = None,
    kind: str = Meeting.Kind.IQM,
    notes: str = "",
    sdr_attends: bool = True,
    opportunity: Opportunity | None = None,
    previous_meeting: Meeting | None = None,
    booked_at: dt.datetime | None = None,
) -> Meeting:
    """An SDR books a meeting for an AE with `contact`.

    Defaults: the SDR's partner AE for the account's segment, the settings' duration, an
    initial qualifying meeting the SDR attends. Booking is a real `meeting` touch on the lead
    (and a positive response in its cadence), closes an open reschedule task on the contact
    (the new meeting is the rebooking), and, for discovery/demo meetings, joins the account's
    single open opportunity. `booked_at` (now by default) is for loading bookings that
    happened earlier (the demo, imports); it can never be in the future.
    """
    now = timezone.now()
    if booked_at is not None:
        if booked_at > now:
            raise ValidationError({"booked_at": "A booking cannot be recorded in the future."})
        now = booked_at
    config = selectors.meeting_settings_get()
    errors: dict[str, str] = {}
    if contact.account_id is None:
        errors["contact"] = f"{contact} has no account; add them to an account before booking a meeting."
    if sdr.role != Rep.Role.SDR or not sdr.active:
        errors["sdr"] = f"{sdr} is not an active SDR."
    elif actor is not None and not selectors.user_may_book_for(user=actor_user(actor), sdr=sdr):
        errors["sdr"] = "You may book meetings only as yourself (or for your team, as its manager)."
    if kind not in Meeting.Kind.values:
        errors["kind"] = f"Unknown meeting kind “{kind}”; expected {', '.join(Meeting.Kind.labels)}."
    if scheduled_at is None or timezone.is_naive(scheduled_at):
        errors["scheduled_at"] = "Give the start as a date and time with a time zone."
    elif scheduled_at <= now:
        errors["scheduled_at"] = f"A meeting is booked in the future; {_fmt(scheduled_at)} has passed."
    if scheduled_end_at is None and "scheduled_at" not in errors:
        scheduled_end_at = scheduled_at + dt.timedelta(minutes=config.default_duration_minutes)
    if "scheduled_at" not in errors and scheduled_end_at <= scheduled_at:
        errors["scheduled_end_at"] = "The meeting must end after it starts."
    if ae is None and "sdr" not in errors:
        ae = selectors.meeting_default_ae(sdr=sdr, segment=contact.account.segment if contact.account_id else "")
        if ae is None:
            errors["ae"] = "There is no active AE to book for; add the SDR's pod partners first."
    elif ae is not None and "sdr" not in errors and not selectors.aes_for_sdr(sdr=sdr).filter(pk=ae.pk).exists():
        errors["ae"] = f"{ae} is not an AE {sdr} books for (their pod partners)."
    if opportunity is not None and opportunity.account_id != contact.account_id:
        errors["opportunity"] = "The opportunity belongs to another account."
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        Contact.objects.select_for_update(no_key=True).filter(pk=contact.pk).first()
        cycle = lead_cycle_current(contact=contact)
        if cycle is None:
            # An SDR booking a lead nobody is working starts a new cycle for it (a recycled
            # lead coming back through the SDR), so the meeting has a lead to qualify.
            cycle = lead_cycle_open(
                contact=contact, rep=sdr, lead_type=LeadType.OUTBOUND, assigned_at=now, actor=actor_user(actor)
            )
        attempt = (
            RescheduleAttempt.objects.select_for_update()
            .filter(contact=contact, state=RescheduleAttempt.State.OPEN)
            .select_related("meeting")
            .first()
        )
        if previous_meeting is None and attempt is not None:
            previous_meeting = attempt.meeting
        if opportunity is None and previous_meeting is not None and previous_meeting.opportunity_id:
            opportunity = Opportunity.objects.filter(pk=previous_meeting.opportunity_id, is_open=True).first()
        if opportunity is None and kind != Meeting.Kind.IQM:
            opportunity = selectors.open_opportunity_for_account(account_id=contact.account_id)
        meeting = Meeting.objects.create(
            contact=contact,
            account_id=contact.account_id,
            lead_cycle=cycle,
            sdr=sdr,
            ae=ae,
            kind=kind,
            scheduled_at=scheduled_at,
            scheduled_end_at=scheduled_end_at,
            notes=notes,
            sdr_attends=sdr_attends,
            disposition_due_at=scheduled_end_at + dt.timedelta(hours=config.disposition_due_hours),
            previous_meeting=previous_meeting,
            opportunity=opportunity,
            booked_at=now,
            booked_by=actor_user(actor),
        )
        if attempt is not None:
            attempt.state = RescheduleAttempt.State.BOOKED
            attempt.rebooked_meeting = meeting
            attempt.closed_at = now
            attempt.save(update_fields=["state", "rebooked_meeting", "closed_at"])
        lifecycle.meeting_booked_touch(meeting=meeting, at=now)
        if opportunity is None and kind == Meeting.Kind.IQM and config.opportunity_at_booking:
            opportunity = opportunity_create(
                account=meeting.account, owner=ae, sourcing_sdr=sdr, source_meeting=meeting, actor=actor,
                stage=selectors.stage_by_code(OpportunityStage.MEETING_SCHEDULED),
            )
            meeting.opportunity = opportunity
            meeting.save(update_fields=["opportunity"])
        events.meeting_booked.send(sender=Meeting, meeting=meeting)
    return meeting


def meeting_reschedule(
    *, meeting: Meeting, actor, scheduled_at: dt.datetime, scheduled_end_at: dt.datetime | None = None,
    notes: str | None = None,
) -> Meeting:
    """Move a meeting that has not started: it ends as rescheduled and a new meeting (same
    lead, SDR, AE and opportunity) replaces it with its own due time."""
    now = timezone.now()
    user = actor_user(actor)
    with transaction.atomic():
        locked = Meeting.objects.select_for_update(no_key=True).get(pk=meeting.pk)
        _require_scheduled(locked)
        if not selectors.user_may_change_booking(user=user, meeting=locked):
            raise ValidationError("Only the booking SDR, the AE, their managers or ops may reschedule this meeting.")
        if locked.scheduled_at <= now:
            raise ValidationError(
                "The meeting has started; disposition it instead (a no-show hands rescheduling to the SDR)."
            )
        if scheduled_end_at is None and scheduled_at is not None:
            scheduled_end_at = scheduled_at + (locked.scheduled_end_at - locked.scheduled_at)
        locked.status = Meeting.Status.RESCHEDULED
        locked.save(update_fields=["status"])
        config = selectors.meeting_settings_get()
        errors = {}
        if scheduled_at is None or timezone.is_naive(scheduled_at):
            errors["scheduled_at"] = "Give the new start as a date and time with a time zone."
        elif scheduled_at <= now:
            errors["scheduled_at"] = f"The new time must be in the future; {_fmt(scheduled_at)} has passed."
        elif scheduled_end_at <= scheduled_at:
            errors["scheduled_end_at"] = "The meeting must end after it starts."
        if errors:
            raise ValidationError(errors)
        new = Meeting.objects.create(
            contact_id=locked.contact_id, account_id=locked.account_id, lead_cycle_id=locked.lead_cycle_id,
            sdr_id=locked.sdr_id, ae_id=locked.ae_id, kind=locked.kind, scheduled_at=scheduled_at,
            scheduled_end_at=scheduled_end_at, notes=locked.notes if notes is None else notes,
            sdr_attends=locked.sdr_attends,
            disposition_due_at=scheduled_end_at + dt.timedelta(hours=config.disposition_due_hours),
            previous_meeting=locked, opportunity_id=locked.opportunity_id, booked_at=now, booked_by=user,
        )
        events.meeting_rescheduled.send(sender=Meeting, meeting=new, previous=locked)
        return new


def meeting_cancel(*, meeting: Meeting, actor, cancelled_by: str, notes: str = "") -> Meeting:
    """Cancel a meeting before it starts, recording which party cancelled and who clicked."""
    if cancelled_by not in Meeting.CancelledBy.values:
        raise ValidationError({"cancelled_by": "Say who cancelled: the prospect, the SDR or the AE."})
    now = timezone.now()
    user = actor_user(actor)
    with transaction.atomic():
        locked = Meeting.objects.select_for_update(no_key=True).get(pk=meeting.pk)
        _require_scheduled(locked)
        if not selectors.user_may_change_booking(user=user, meeting=locked):
            raise ValidationError("Only the booking SDR, the AE, their managers or ops may cancel this meeting.")
        if locked.scheduled_at <= now:
            raise ValidationError("The meeting has started; disposition it instead of cancelling it.")
        locked.status = Meeting.Status.CANCELLED
        locked.cancelled_by = cancelled_by
        locked.cancelled_by_user = user
        if notes:
            locked.disposition_notes = notes
        locked.save(update_fields=["status", "cancelled_by", "cancelled_by_user", "disposition_notes"])
        events.meeting_cancelled.send(sender=Meeting, meeting=locked)
    meeting.refresh_from_db()
    return meeting


def _require_scheduled(meeting: Meeting) -> None:
    if meeting.status != Meeting.Status.SCHEDULED:
        raise ValidationError(f"This meeting is already {meeting.get_status_display()}.")
