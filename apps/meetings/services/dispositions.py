"""Dispositions and their effects: the opportunity of a qualified meeting, the no-show
reschedule attempt and limit, the lead cycle, and the notifications they send after commit."""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.leads.models import DispositionReason, LeadCycle
from apps.leads.selectors import disposition_reasons_offered
from apps.leads.services.cycles import lead_cycle_disposition_if_open
from apps.meetings import lifecycle, notifications, selectors
from apps.meetings.events import meeting_dispositioned
from apps.meetings.models import (
    ClosedLostReason,
    Meeting,
    MeetingNotification,
    Opportunity,
    OpportunityStage,
    RescheduleAttempt,
)
from apps.meetings.services.booking import _require_scheduled
from apps.meetings.services.common import _fmt
from apps.meetings.services.opportunities import opportunity_create, opportunity_stage_set
from apps.meetings.services.transitions import meeting_transition
from apps.people.actors import actor_user
from apps.people.models import Contact, Rep

logger = logging.getLogger(__name__)


def meeting_disposition(
    *,
    meeting: Meeting,
    outcome: str,
    actor,
    notes: str = "",
    lead_reason: DispositionReason | None = None,
    at: dt.datetime | None = None,
) -> Meeting:
    """The AE (or their manager, or ops) records how the meeting went.

    - Completed – Qualified: the lead cycle closes as qualified; the meeting's opportunity
      advances to "meeting completed", or a new one is created there, credited to the SDR.
    - Completed – Unqualified: the lead is dispositioned unqualified or nurture with
      `lead_reason` (from the admin-edited reason lists); an opportunity opened at booking for
      this meeting closes lost (not qualified).
    - No Show: rescheduling passes to the SDR (task, reschedule cadence, notification); past
      the no-show limit the lead is abandoned to nurture instead.
    A disposition after the due time is recorded as late.
    """
    if outcome not in Meeting.DISPOSITIONS:
        raise ValidationError(
            {"outcome": "The disposition is Completed – Qualified, Completed – Unqualified or Not Completed – No Show."}
        )
    if outcome == Meeting.Status.COMPLETED_UNQUALIFIED and (
        lead_reason is None or not disposition_reasons_offered().filter(pk=lead_reason.pk).exists()
    ):
        raise ValidationError({"lead_reason": "Say why the lead is unqualified or not ready (pick a reason)."})
    at = at or timezone.now()
    user = actor_user(actor)
    with transaction.atomic():
        locked = Meeting.objects.select_for_update(no_key=True).get(pk=meeting.pk)
        _require_scheduled(locked)
        if not selectors.user_may_disposition(user=user, meeting=locked):
            raise ValidationError("Only the AE the meeting was booked for, their manager or ops may disposition it.")
        if locked.scheduled_at > at:
            raise ValidationError(
                f"The meeting starts at {_fmt(locked.scheduled_at)}; disposition it once it has started "
                "(reschedule or cancel it before then)."
            )
        meeting_transition(
            meeting=locked, to_status=outcome, dispositioned_at=at, dispositioned_by=user,
            disposition_notes=notes, disposition_late=at > locked.disposition_due_at,
        )
        cycle = LeadCycle.objects.filter(pk=locked.lead_cycle_id).first() if locked.lead_cycle_id else None
        if outcome == Meeting.Status.COMPLETED_QUALIFIED:
            if cycle is not None:
                lead_cycle_disposition_if_open(
                    cycle=cycle, disposition=LeadCycle.Disposition.QUALIFIED, actor=user, at=at,
                    note=f"Meeting {locked.pk} completed as qualified",
                )
            _opportunity_for_qualified_meeting(locked, actor=user, at=at)
        elif outcome == Meeting.Status.COMPLETED_UNQUALIFIED:
            if cycle is not None:
                lead_cycle_disposition_if_open(
                    cycle=cycle, disposition=lead_reason.disposition, reason=lead_reason, actor=user, at=at,
                    note=f"Meeting {locked.pk} completed as unqualified",
                )
            opportunity = locked.opportunity
            if (
                opportunity is not None and opportunity.is_open and opportunity.source_meeting_id is not None
                and opportunity.stage.code == OpportunityStage.MEETING_SCHEDULED
            ):
                opportunity_stage_set(
                    opportunity=opportunity, stage=selectors.stage_by_code(OpportunityStage.CLOSED_LOST),
                    actor=user, closed_lost_reason=ClosedLostReason.UNQUALIFIED, at=at,
                    note="Initial meeting completed as unqualified",
                )
        else:
            _no_show(locked, cycle=cycle, actor=user, at=at)
        locked.refresh_from_db()
        # Inside the disposition's transaction, so a webhook outbox row commits or rolls
        # back with it.
        meeting_dispositioned.send(sender=Meeting, meeting=locked)
    meeting.refresh_from_db()
    return meeting


def _opportunity_for_qualified_meeting(meeting: Meeting, *, actor, at: dt.datetime) -> Opportunity:
    completed = selectors.stage_by_code(OpportunityStage.MEETING_COMPLETED)
    opportunity = meeting.opportunity
    if opportunity is not None and opportunity.is_open:
        if opportunity.stage.position < completed.position:
            opportunity_stage_set(opportunity=opportunity, stage=completed, actor=actor, at=at,
                                  note=f"Meeting {meeting.pk} completed as qualified")
        return opportunity
    opportunity = opportunity_create(
        account=meeting.account, owner=meeting.ae, sourcing_sdr=meeting.sdr, source_meeting=meeting,
        stage=completed, actor=actor, at=at,
    )
    meeting.opportunity = opportunity
    meeting.save(update_fields=["opportunity"])
    return opportunity


def _no_show(meeting: Meeting, *, cycle: LeadCycle | None, actor, at: dt.datetime) -> None:
    config = selectors.meeting_settings_get()
    # Serialise no-shows on one lead so two dispositions at once count each other.
    Contact.objects.select_for_update(no_key=True).filter(pk=meeting.contact_id).first()
    further = selectors.lead_no_show_count(meeting=meeting) - 1
    RescheduleAttempt.objects.filter(contact_id=meeting.contact_id, state=RescheduleAttempt.State.OPEN).update(
        state=RescheduleAttempt.State.ABANDONED, closed_at=at
    )
    if further >= config.no_show_limit:
        if cycle is not None:
            lead_cycle_disposition_if_open(
                cycle=cycle, disposition=LeadCycle.Disposition.NURTURE, reason_code=lifecycle.NO_SHOW_LIMIT_CODE,
                system=True, at=at, note=f"{further + 1} no-shows (meeting {meeting.pk})",
            )
        _notify_after_commit(meeting, MeetingNotification.Kind.NO_SHOW_LIMIT, meeting.sdr, at=at)
        return
    attempt = RescheduleAttempt.objects.create(
        meeting=meeting, contact_id=meeting.contact_id, sdr=meeting.sdr,
        touches_allowed=config.reschedule_touches, due_by=at + dt.timedelta(days=config.reschedule_days),
        created_at=at,
    )
    lifecycle.reschedule_cadence_start(attempt=attempt, actor=actor)
    _notify_after_commit(meeting, MeetingNotification.Kind.NO_SHOW, meeting.sdr, at=at)


def _notify_after_commit(meeting: Meeting, kind: str, recipient: Rep, *, at: dt.datetime) -> None:
    """Record the notification in the caller's transaction (the unique row makes it once)
    and send it after commit, when the disposition it reports is real."""
    MeetingNotification.objects.create(
        meeting=meeting, kind=kind, recipient=recipient, email=recipient.user.email, sent_at=at
    )
    meeting_id = meeting.pk

    def send():
        fresh = Meeting.objects.select_related("contact", "account", "ae", "sdr").get(pk=meeting_id)
        notifications.deliver(kind, fresh, recipient)

    # robust: a mail server failure is logged, never turned into an error for the AE whose
    # disposition is already committed.
    transaction.on_commit(send, robust=True)
