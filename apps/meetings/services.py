"""Every write of the meeting flow: booking, dispositions and their effects, reminders and
escalations, and opportunities with their stage history and attribution.

Meeting status map (one transition each, refused otherwise):
    scheduled → completed_qualified | completed_unqualified | no_show   (from its start on)
    scheduled → rescheduled (a new meeting replaces it) | cancelled    (before its start)
Every other status is final.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.mail import get_connection as mail_connection
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from apps.accounts.models import Account
from apps.accounts.services import account_attribution_set
from apps.leads.models import DispositionReason, LeadCycle, LeadType
from apps.leads.selectors import disposition_reasons_offered, lead_cycle_current
from apps.leads.services import lead_cycle_open
from apps.leads.services.cycles import lead_cycle_disposition_if_open
from apps.meetings import lifecycle, notifications, selectors
from apps.meetings.models import (
    ClosedLostReason,
    Meeting,
    MeetingNotification,
    MeetingSettings,
    MeetingSettingsChange,
    Opportunity,
    OpportunityEvent,
    OpportunityStage,
    RescheduleAttempt,
)
from apps.people.actors import actor_user
from apps.people.models import Contact, Rep

logger = logging.getLogger(__name__)

# Called inside the disposition's transaction with the dispositioned meeting, so a webhook
# outbox row (issue 9) commits or rolls back with it.
_on_dispositioned: list[Callable[[Meeting], None]] = []


def on_meeting_dispositioned(callback: Callable[[Meeting], None]) -> Callable[[Meeting], None]:
    """Register a callback run in the same transaction as every meeting disposition."""
    _on_dispositioned.append(callback)
    return callback


def _fmt(value: dt.datetime) -> str:
    from apps.people.timezones import when  # lazy: keeps this module's imports as plumbing splits them

    return when(value)


# --- settings ------------------------------------------------------------------------------

SETTINGS_FIELDS = (
    "no_show_limit", "reschedule_touches", "reschedule_days", "disposition_due_hours",
    "default_duration_minutes", "opportunity_at_booking",
)


def meeting_settings_update(*, actor, **values) -> MeetingSettings:
    """Change the editable limits; each changed field leaves a MeetingSettingsChange row."""
    unknown = set(values) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown meeting setting(s): {', '.join(sorted(unknown))}.")
    selectors.meeting_settings_get()
    with transaction.atomic():
        row = MeetingSettings.objects.select_for_update().get(pk=1)
        changes = []
        for field, value in values.items():
            old = getattr(row, field)
            if old != value:
                setattr(row, field, value)
                changes.append(MeetingSettingsChange(
                    settings_row=row, field=field, old_value=str(old), new_value=str(value), actor=actor_user(actor)
                ))
        if not changes:
            return row
        row.full_clean()
        row.updated_at = timezone.now()
        row.save()
        MeetingSettingsChange.objects.bulk_create(changes)
    return row


# --- booking --------------------------------------------------------------------------------


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
        return Meeting.objects.create(
            contact_id=locked.contact_id, account_id=locked.account_id, lead_cycle_id=locked.lead_cycle_id,
            sdr_id=locked.sdr_id, ae_id=locked.ae_id, kind=locked.kind, scheduled_at=scheduled_at,
            scheduled_end_at=scheduled_end_at, notes=locked.notes if notes is None else notes,
            sdr_attends=locked.sdr_attends,
            disposition_due_at=scheduled_end_at + dt.timedelta(hours=config.disposition_due_hours),
            previous_meeting=locked, opportunity_id=locked.opportunity_id, booked_at=now, booked_by=user,
        )


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
    meeting.refresh_from_db()
    return meeting


def _require_scheduled(meeting: Meeting) -> None:
    if meeting.status != Meeting.Status.SCHEDULED:
        raise ValidationError(f"This meeting is already {meeting.get_status_display()}.")


# --- dispositions ---------------------------------------------------------------------------


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
        locked.status = outcome
        locked.dispositioned_at = at
        locked.dispositioned_by = user
        locked.disposition_notes = notes
        locked.disposition_late = at > locked.disposition_due_at
        locked.save(update_fields=[
            "status", "dispositioned_at", "dispositioned_by", "disposition_notes", "disposition_late",
        ])
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
        for callback in _on_dispositioned:
            callback(locked)
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


# --- reminders and escalations ------------------------------------------------------------------


NOTIFY_BATCH = 200


def _notify_batch(*, meeting_ids, kind: str, now: dt.datetime, ready: Q, recipient_for) -> int:
    """Send one `kind` notification per meeting, at most once across repeated and concurrent
    runs; returns how many were sent.

    Each batch of meetings is locked with SKIP LOCKED (a concurrent run, or a disposition in
    progress, holds a row: it is skipped) and re-filtered under the lock: still scheduled,
    `ready`, and without a marker. Markers are written in the same transaction and the mails
    go out before it commits; a mail that fails has its marker removed again, so the next run
    retries it and nothing else is sent twice. The unique (meeting, kind) constraint is the
    last guard.
    """
    sent = 0
    ids = sorted(meeting_ids)
    for offset in range(0, len(ids), NOTIFY_BATCH):
        with transaction.atomic():
            meetings = list(
                Meeting.objects.select_for_update(no_key=True, skip_locked=True, of=("self",))
                .select_related(
                    "contact", "account", "sdr", "ae__user", "ae__team__manager__user", "ae__manager__user"
                )
                .filter(ready, pk__in=ids[offset:offset + NOTIFY_BATCH], status=Meeting.Status.SCHEDULED)
                .exclude(Exists(MeetingNotification.objects.filter(meeting_id=OuterRef("pk"), kind=kind)))
                .order_by("pk")
            )
            # The locking statement's NOT EXISTS ran on its own snapshot: a concurrent run may
            # have committed markers for these rows just before releasing them to us. A new
            # statement sees those commits (READ COMMITTED), so check again under the lock.
            already = set(
                MeetingNotification.objects.filter(meeting_id__in=[m.pk for m in meetings], kind=kind)
                .values_list("meeting_id", flat=True)
            )
            meetings = [meeting for meeting in meetings if meeting.pk not in already]
            if not meetings:
                continue
            recipients = [(meeting, recipient_for(meeting)) for meeting in meetings]
            MeetingNotification.objects.bulk_create([
                MeetingNotification(meeting=meeting, kind=kind, recipient=recipient,
                                    email=recipient.user.email if recipient else "", sent_at=now)
                for meeting, recipient in recipients
            ])
            failed = []
            with mail_connection() as connection:
                for meeting, recipient in recipients:
                    if recipient is None:
                        logger.warning("Meeting %s: nobody to send the %s to (the AE has no manager).", meeting.pk, kind)
                        continue
                    try:
                        notifications.deliver(kind, meeting, recipient, connection=connection)
                    except Exception:
                        logger.exception("Meeting %s: sending the %s failed; the next run retries.", meeting.pk, kind)
                        failed.append(meeting.pk)
                    else:
                        sent += 1
            if failed:
                MeetingNotification.objects.filter(meeting_id__in=failed, kind=kind).delete()
    return sent


def meeting_remind(*, meeting_id: int, now: dt.datetime | None = None) -> bool:
    """The one-off reminder to the AE once the meeting has ended without a disposition."""
    now = now or timezone.now()
    return _remind(meeting_ids=[meeting_id], now=now) == 1


def meeting_escalate(*, meeting_id: int, now: dt.datetime | None = None) -> bool:
    """Tell the AE's sales manager when the disposition is past due (strictly after the due
    time: a disposition at the due time itself is on time)."""
    now = now or timezone.now()
    return _escalate(meeting_ids=[meeting_id], now=now) == 1


def _remind(*, meeting_ids, now: dt.datetime) -> int:
    return _notify_batch(
        meeting_ids=meeting_ids, kind=MeetingNotification.Kind.REMINDER, now=now,
        ready=Q(scheduled_end_at__lte=now), recipient_for=lambda m: m.ae,
    )


def _escalate(*, meeting_ids, now: dt.datetime) -> int:
    return _notify_batch(
        meeting_ids=meeting_ids, kind=MeetingNotification.Kind.ESCALATION, now=now,
        ready=Q(disposition_due_at__lt=now), recipient_for=lambda m: selectors.sales_manager_for(rep=m.ae),
    )


def meetings_remind_ended(*, now: dt.datetime | None = None) -> int:
    """The schedule's job: remind the AE of every ended, undispositioned meeting once."""
    now = now or timezone.now()
    return _remind(meeting_ids=selectors.meeting_ids_needing_reminder(now=now), now=now)


def meetings_escalate_overdue(*, now: dt.datetime | None = None) -> int:
    """The schedule's job: escalate every overdue disposition to the sales manager once."""
    now = now or timezone.now()
    return _escalate(meeting_ids=selectors.meeting_ids_needing_escalation(now=now), now=now)


def reschedule_attempts_expire(*, now: dt.datetime | None = None) -> int:
    """Close the SDR's reschedule tasks whose window has passed or whose lead was
    dispositioned meanwhile (e.g. nurture / no response at the end of the reschedule
    cadence), so "my reschedules" lists only live work. Safe to run at any time."""
    now = now or timezone.now()
    with transaction.atomic():
        expired = (
            RescheduleAttempt.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(state=RescheduleAttempt.State.OPEN)
            .filter(Q(due_by__lt=now) | Q(meeting__lead_cycle__state=LeadCycle.State.DISPOSITIONED))
        )
        ids = list(expired.values_list("pk", flat=True))
        RescheduleAttempt.objects.filter(pk__in=ids).update(state=RescheduleAttempt.State.EXPIRED, closed_at=now)
    return len(ids)


# --- opportunities ----------------------------------------------------------------------------------


def opportunity_create(
    *,
    account: Account,
    owner: Rep,
    actor,
    stage: OpportunityStage | None = None,
    name: str = "",
    sourcing_sdr: Rep | None = None,
    source_meeting: Meeting | None = None,
    amount: Decimal | None = None,
    close_date: dt.date | None = None,
    at: dt.datetime | None = None,
) -> Opportunity:
    """Open an opportunity owned by an AE, credited to the SDR who sourced it (the account's
    SDR owner when not given). The account's attribution owners follow: SDR owner = the
    sourcing SDR, opportunity owner = the AE."""
    at = at or timezone.now()
    stage = stage or selectors.stage_by_code(OpportunityStage.MEETING_SCHEDULED)
    if not stage.is_open:
        raise ValidationError({"stage": "An opportunity is opened in an open stage."})
    if owner.role not in (Rep.Role.AE, Rep.Role.MANAGER):
        raise ValidationError({"owner": f"{owner} is not an AE; opportunities are owned by AEs."})
    if amount is not None and amount < 0:
        raise ValidationError({"amount": "The amount cannot be negative."})
    if sourcing_sdr is None and account.sdr_owner_id:
        sourcing_sdr = account.sdr_owner
    with transaction.atomic():
        opportunity = Opportunity.objects.create(
            account=account, name=(name or f"{account.name} – new business")[:255], stage=stage, is_open=True,
            amount=amount, close_date=close_date, owner=owner, sourcing_sdr=sourcing_sdr,
            source_meeting=source_meeting, created_at=at, created_by=actor_user(actor),
            pipeline_at=at if _reaches_pipeline(stage) else None,
        )
        OpportunityEvent.objects.create(
            opportunity=opportunity, kind=OpportunityEvent.Kind.CREATED, to_stage=stage, to_owner=owner,
            actor=actor_user(actor), occurred_at=at,
            note=f"From meeting {source_meeting.pk}" if source_meeting else "",
        )
        changes = {"opportunity_owner": owner}
        if sourcing_sdr is not None:
            changes["sdr_owner"] = sourcing_sdr
        account_attribution_set(account=account, **changes)
    return opportunity


def _reaches_pipeline(stage: OpportunityStage) -> bool:
    if stage.outcome == OpportunityStage.Outcome.LOST:
        return False
    pipeline = selectors.pipeline_stage()
    return pipeline is not None and stage.position >= pipeline.position


def opportunity_stage_check(
    *, opportunity: Opportunity, stage: OpportunityStage, closed_lost_reason: str = "",
    merged_into: Opportunity | None = None,
) -> None:
    """The rules of a stage change, shared by the service and the admin form's validation."""
    current = OpportunityStage.objects.get(pk=opportunity.stage_id) if opportunity.pk else None
    if current is not None and current.pk != stage.pk and not current.is_open:
        raise ValidationError({"stage": f"The opportunity is {current.name}; a closed opportunity keeps its stage."})
    if stage.outcome == OpportunityStage.Outcome.LOST:
        if closed_lost_reason not in ClosedLostReason.values:
            raise ValidationError({"closed_lost_reason": "Closing as lost needs a closed-lost reason."})
        if closed_lost_reason == ClosedLostReason.MERGED:
            if merged_into is None:
                raise ValidationError(
                    {"merged_into": "“Merged into another opportunity” needs the parent opportunity it was merged into."}
                )
            if merged_into.pk == opportunity.pk:
                raise ValidationError({"merged_into": "An opportunity cannot be merged into itself."})
            if merged_into.account_id != opportunity.account_id:
                raise ValidationError({"merged_into": "The parent opportunity must be on the same account."})
            if merged_into.closed_lost_reason:
                raise ValidationError({"merged_into": f"“{merged_into}” is closed lost; merge into a live or won deal."})
        elif merged_into is not None:
            raise ValidationError({"merged_into": "A parent opportunity is named only when merged into it."})
    elif closed_lost_reason or merged_into is not None:
        raise ValidationError({"closed_lost_reason": "A closed-lost reason is given only when closing as lost."})


def opportunity_stage_set(
    *,
    opportunity: Opportunity,
    stage: OpportunityStage,
    actor,
    closed_lost_reason: str = "",
    closed_lost_details: str = "",
    merged_into: Opportunity | None = None,
    cs_owner: Rep | None = None,
    at: dt.datetime | None = None,
    note: str = "",
) -> Opportunity:
    """Move an opportunity to `stage`, recording the change with time and actor.

    Open stages may move forward or back; closed won / closed lost are final. Closed lost
    needs a reason, and "merged into another opportunity" the parent on the same account.
    Won makes the account a customer, with `cs_owner` as its customer-success owner.
    """
    at = at or timezone.now()
    with transaction.atomic():
        locked = Opportunity.objects.select_for_update(no_key=True).get(pk=opportunity.pk)
        if locked.stage_id == stage.pk:
            return locked
        opportunity_stage_check(
            opportunity=locked, stage=stage, closed_lost_reason=closed_lost_reason, merged_into=merged_into
        )
        from_stage_id = locked.stage_id
        locked.stage = stage
        locked.is_open = stage.is_open
        locked.closed_at = None if stage.is_open else at
        if locked.pipeline_at is None and _reaches_pipeline(stage):
            locked.pipeline_at = at
        if stage.outcome == OpportunityStage.Outcome.LOST:
            locked.closed_lost_reason = closed_lost_reason
            locked.closed_lost_details = closed_lost_details
            locked.merged_into = merged_into
        locked.save()
        OpportunityEvent.objects.create(
            opportunity=locked, kind=OpportunityEvent.Kind.STAGE, from_stage_id=from_stage_id, to_stage=stage,
            actor=actor_user(actor), occurred_at=at, note=note[:255],
        )
        if stage.outcome == OpportunityStage.Outcome.WON:
            changes = {"status": Account.Status.CUSTOMER, "opportunity_owner": locked.owner}
            if cs_owner is not None:
                changes["cs_owner"] = cs_owner
            account_attribution_set(account=locked.account, **changes)
    opportunity.refresh_from_db()
    return opportunity


def opportunity_handover(*, opportunity: Opportunity, to_owner: Rep, actor, at: dt.datetime | None = None) -> Opportunity:
    """Give the opportunity to another AE. The sourcing SDR stays; the account's opportunity
    owner follows the deal."""
    at = at or timezone.now()
    if to_owner.role not in (Rep.Role.AE, Rep.Role.MANAGER) or not to_owner.active:
        raise ValidationError({"owner": f"{to_owner} is not an active AE."})
    with transaction.atomic():
        locked = Opportunity.objects.select_for_update(no_key=True).get(pk=opportunity.pk)
        if locked.owner_id == to_owner.pk:
            return locked
        from_owner_id = locked.owner_id
        locked.owner = to_owner
        locked.save(update_fields=["owner"])
        OpportunityEvent.objects.create(
            opportunity=locked, kind=OpportunityEvent.Kind.HANDOVER, from_owner_id=from_owner_id, to_owner=to_owner,
            actor=actor_user(actor), occurred_at=at,
        )
        account = Account.objects.get(pk=locked.account_id)
        if account.opportunity_owner_id in (None, from_owner_id):
            account_attribution_set(account=account, opportunity_owner=to_owner)
    opportunity.refresh_from_db()
    return opportunity


def opportunity_update(
    *, opportunity: Opportunity, actor, name: str | None = None, amount: Decimal | None = None,
    close_date: dt.date | None = None, closed_lost_details: str | None = None,
) -> Opportunity:
    """Plain fields (name, amount, close date, lost details); stage and owner have their own services."""
    with transaction.atomic():
        locked = Opportunity.objects.select_for_update(no_key=True).get(pk=opportunity.pk)
        if name is not None:
            if not name.strip():
                raise ValidationError({"name": "An opportunity needs a name."})
            locked.name = name.strip()
        if amount is not None and amount < 0:
            raise ValidationError({"amount": "The amount cannot be negative."})
        locked.amount = amount
        locked.close_date = close_date
        if closed_lost_details is not None:
            locked.closed_lost_details = closed_lost_details
        locked.save(update_fields=["name", "amount", "close_date", "closed_lost_details"])
    opportunity.refresh_from_db()
    return opportunity


def opportunity_stage_update(*, stage: OpportunityStage, name: str, is_pipeline: bool, actor) -> OpportunityStage:
    """Rename a stage or make it the pipeline (SAO) stage; exactly one stage is, so marking
    one clears the others in the same transaction."""
    if not (name or "").strip():
        raise ValidationError({"name": "A stage needs a name."})
    with transaction.atomic():
        if is_pipeline:
            OpportunityStage.objects.exclude(pk=stage.pk).filter(is_pipeline=True).update(is_pipeline=False)
        OpportunityStage.objects.filter(pk=stage.pk).update(name=name.strip(), is_pipeline=is_pipeline)
    stage.refresh_from_db()
    return stage
