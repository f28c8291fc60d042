"""Writes to cadences, and the one way to log an activity.

`activity_create` creates the Activity, then moves the lead (apps.leads.services.
lead_cycle_touch) and completes the current cadence step with its outcome, all in one
transaction, so the activity log, the lead state and the cadence never disagree.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Account, Activity, ActivityType
from apps.cadences import events
from apps.cadences.models import Cadence, Enrolment, EnrolmentEvent, EnrolmentStep
from apps.leads.models import LeadCycle
from apps.leads.selectors import lead_cycle_current
from apps.leads.services import (
    WORK_ACTIVITY_TYPES,
    disposition_reason_by_code,
    lead_cycle_disposition,
    lead_cycle_open,
    lead_cycle_touch,
)
from apps.people.actors import actor_user
from apps.people.models import Contact, Rep

Outcome = EnrolmentStep.Outcome
# "Not completed" once a step is more than this overdue.
OVERDUE_GRACE = dt.timedelta(days=1)
# Logging in the future is a typo, not a plan; a little slack for clocks.
FUTURE_SLACK = dt.timedelta(minutes=5)


def enrolment_create(*, contact: Contact, cadence: Cadence, rep: Rep, actor=None, at: dt.datetime | None = None) -> Enrolment:
    """Enrol `contact` in `cadence`, worked by `rep`; steps are due from the enrolment time.

    Only one active enrolment per contact. A contact without an open lead cycle gets one of
    the cadence's lead type: enrolling is when an outbound lead is assigned (its clock starts).
    """
    at = at or timezone.now()
    if not cadence.active:
        raise ValidationError({"cadence": f"The cadence “{cadence}” is inactive."})
    steps = list(cadence.steps.order_by("position"))
    if not steps:
        raise ValidationError({"cadence": f"The cadence “{cadence}” has no steps."})
    with transaction.atomic():
        Contact.objects.select_for_update(no_key=True).filter(pk=contact.pk).first()
        active = Enrolment.objects.filter(contact=contact, state=Enrolment.State.ACTIVE).select_related("cadence").first()
        if active is not None:
            raise ValidationError(f"{contact} is already enrolled in “{active.cadence}”; end that enrolment first.")
        cycle = lead_cycle_current(contact=contact)
        if cycle is None:
            cycle = lead_cycle_open(contact=contact, rep=rep, lead_type=cadence.lead_type, assigned_at=at, actor=actor)
        enrolment = Enrolment.objects.create(
            contact=contact, cadence=cadence, rep=rep, lead_cycle=cycle, enrolled_at=at, enrolled_by=actor_user(actor)
        )
        EnrolmentStep.objects.bulk_create(
            EnrolmentStep(
                enrolment=enrolment, step=step, position=step.position, channel=step.channel,
                due_at=at + dt.timedelta(days=step.day_offset),
            )
            for step in steps
        )
    return enrolment


def activity_validate(
    *,
    type: str,
    contact: Contact | None = None,
    account: Account | None = None,
    occurred_at: dt.datetime | None = None,
    outcome: str = "",
) -> None:
    """The rules every new activity meets, wherever it is logged (the admin's add form runs
    them before saving; activity_create runs them again). Raises ValidationError."""
    if type not in ActivityType.values:
        raise ValidationError({"type": f"Unknown activity type “{type}”; expected one of {', '.join(ActivityType.values)}."})
    if occurred_at is not None and occurred_at > timezone.now() + FUTURE_SLACK:
        raise ValidationError({"occurred_at": "An activity cannot be logged in the future."})
    if contact is None:
        if account is None:
            raise ValidationError({"account": "An activity needs an account (or a contact that has one)."})
        if outcome:
            raise ValidationError({"outcome": "An outcome needs a contact (it ends the contact's cadence step)."})
        return
    if account is not None and contact.account_id != account.pk:
        raise ValidationError({"contact": f"{contact.email} is not a contact of {account.name}."})
    if outcome and outcome not in (Outcome.POSITIVE, Outcome.NEGATIVE, Outcome.NO_RESPONSE):
        raise ValidationError({"outcome": "The outcome is positive response, negative response or no response."})


def activity_create(
    *,
    type: str,
    contact: Contact | None = None,
    account: Account | None = None,
    rep: Rep | None = None,
    occurred_at: dt.datetime | None = None,
    automated: bool = False,
    subject: str = "",
    actor=None,
    outcome: str = "",
) -> Activity:
    """The one writer of activities: the lead page, the admin's Activity screen, the API, the
    meetings flow (a booking) and the research checklist (an intelligence run) all call it.

    On a contact (its account is the contact's), a real touch (call, email, social, meeting;
    not automated) moves an assigned lead to working (apps.leads.services.lead_cycle_touch)
    and completes the current step of the contact's active enrolment with `outcome` (no
    response by default), in one transaction. Notes and automated touches are logged and move
    nothing. Without a contact the activity is logged on `account` and moves nothing.
    """
    activity_validate(type=type, contact=contact, account=account, occurred_at=occurred_at, outcome=outcome)
    occurred_at = occurred_at or timezone.now()
    if contact is None:
        # One INSERT, nothing else moves: no savepoint (a bulk of 1,000 stays in its query budget).
        return Activity.objects.create(
            type=type, rep=rep, account=account, occurred_at=occurred_at, automated=automated, subject=subject[:255]
        )
    with transaction.atomic():
        activity = Activity.objects.create(
            type=type, rep=rep, account_id=contact.account_id, contact=contact, occurred_at=occurred_at,
            automated=automated, subject=subject[:255],
        )
        lead_cycle_touch(contact=contact, activity=activity)
        if type in WORK_ACTIVITY_TYPES and not automated:
            step = _current_step(contact=contact)
            if step is not None:
                _step_end(step, outcome=outcome or Outcome.NO_RESPONSE, at=occurred_at, activity=activity)
        events.activity_logged.send(sender=Activity, activity=activity, outcome=outcome)
    return activity


def _current_step(*, contact: Contact) -> EnrolmentStep | None:
    enrolment = (
        Enrolment.objects.select_for_update(no_key=True)
        .filter(contact=contact, state=Enrolment.State.ACTIVE)
        .first()
    )
    if enrolment is None:
        return None
    return enrolment.steps.filter(outcome=Outcome.PENDING).order_by("position").first()


def _step_end(step: EnrolmentStep, *, outcome: str, at: dt.datetime, activity=None, system: bool = False) -> None:
    step.outcome = outcome
    step.ended_at = at
    step.activity = activity
    step.ended_by_system = system
    step.save(update_fields=["outcome", "ended_at", "activity", "ended_by_system"])
    enrolment = step.enrolment
    is_last = not enrolment.steps.filter(outcome=Outcome.PENDING).exists()
    if outcome == Outcome.POSITIVE:
        enrolment_transition(enrolment=enrolment, to_state=Enrolment.State.POSITIVE, at=at)
    elif outcome == Outcome.NEGATIVE:
        # The rep must now disposition the lead (nurture or unqualified, with its reason).
        enrolment_transition(enrolment=enrolment, to_state=Enrolment.State.NEGATIVE, at=at)
    elif is_last and outcome == Outcome.NO_RESPONSE:
        enrolment_transition(enrolment=enrolment, to_state=Enrolment.State.COMPLETED, at=at)
        cycle = lead_cycle_current(contact=enrolment.contact)
        if cycle is not None:
            lead_cycle_disposition(
                cycle=cycle, disposition=LeadCycle.Disposition.NURTURE, reason=disposition_reason_by_code("no_response"),
                system=True, at=at, note=f"End of cadence “{enrolment.cadence}” with no response",
            )
    elif is_last:
        # Last step not completed: the cadence was not finished, so the lead is not
        # abandoned for the rep; it stays open (and auto-abandon catches it if left idle).
        enrolment_transition(enrolment=enrolment, to_state=Enrolment.State.INCOMPLETE, at=at)


def enrolment_transition(*, enrolment: Enrolment, to_state: str, at: dt.datetime, actor=None, note: str = "") -> Enrolment:
    """The one way an enrolment's state changes. `enrolment` is the caller's locked copy,
    inside the caller's transaction. A move Enrolment.TRANSITIONS does not allow is refused
    (IllegalTransition) before anything is written; otherwise the state and ended-at are saved
    with the EnrolmentEvent (from, to, who, when)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("enrolment_transition runs inside the caller's transaction, on a locked row.")
    from_state = enrolment.state
    Enrolment.TRANSITIONS.check(from_state, to_state)
    enrolment.state = to_state
    enrolment.ended_at = None if to_state == Enrolment.State.ACTIVE else at
    enrolment.save(update_fields=["state", "ended_at"])
    EnrolmentEvent.objects.create(enrolment=enrolment, from_state=from_state, to_state=to_state,
                                  actor=actor_user(actor), occurred_at=at, note=note[:255])
    return enrolment


def enrolment_step_skip(*, step: EnrolmentStep, actor=None, at: dt.datetime | None = None) -> EnrolmentStep:
    """The rep skips the current step: it ends as not completed."""
    at = at or timezone.now()
    with transaction.atomic():
        current = _current_step(contact=step.enrolment.contact)
        if current is None or current.pk != step.pk:
            raise ValidationError("Only the current step of an active enrolment can be skipped.")
        _step_end(current, outcome=Outcome.NOT_COMPLETED, at=at)
    return current


def enrolment_end_for_disposition(*, contact_id: int, at: dt.datetime) -> None:
    """A dispositioned lead leaves its cadence (called by lead_cycle_disposition)."""
    enrolment = (
        Enrolment.objects.select_for_update(no_key=True)
        .filter(contact_id=contact_id, state=Enrolment.State.ACTIVE)
        .first()
    )
    if enrolment is not None:
        enrolment_transition(enrolment=enrolment, to_state=Enrolment.State.DISPOSITIONED, at=at)


def enrolment_stop(*, contact: Contact, actor=None, at: dt.datetime | None = None) -> Enrolment | None:
    """End the contact's active enrolment without an outcome (e.g. the meetings flow moves a
    no-show into a reschedule cadence). Its pending steps stay pending: they were not the
    rep's to do. Returns the ended enrolment, or None when there was none."""
    at = at or timezone.now()
    with transaction.atomic():
        enrolment = (
            Enrolment.objects.select_for_update(no_key=True)
            .filter(contact=contact, state=Enrolment.State.ACTIVE)
            .first()
        )
        if enrolment is not None:
            enrolment_transition(enrolment=enrolment, to_state=Enrolment.State.STOPPED, at=at, actor=actor)
    return enrolment


def enrolment_steps_overdue(*, now: dt.datetime | None = None) -> list[int]:
    now = now or timezone.now()
    return list(
        EnrolmentStep.objects.filter(
            outcome=Outcome.PENDING, enrolment__state=Enrolment.State.ACTIVE, due_at__lt=now - OVERDUE_GRACE
        )
        .order_by("enrolment_id", "position")
        .values_list("enrolment_id", flat=True)
        .distinct()
    )


def enrolment_overdue_close(*, enrolment_id: int, now: dt.datetime | None = None) -> int:
    """Mark the enrolment's steps more than a day overdue as not completed (idempotent)."""
    now = now or timezone.now()
    closed = 0
    with transaction.atomic():
        enrolment = (
            Enrolment.objects.select_for_update(skip_locked=True, no_key=True)
            .filter(pk=enrolment_id, state=Enrolment.State.ACTIVE)
            .first()
        )
        if enrolment is None:
            return 0
        for step in enrolment.steps.filter(outcome=Outcome.PENDING, due_at__lt=now - OVERDUE_GRACE).order_by("position"):
            step.enrolment = enrolment
            _step_end(step, outcome=Outcome.NOT_COMPLETED, at=now, system=True)
            closed += 1
    return closed


def enrolment_step_complete(
    *, step: EnrolmentStep, outcome: str, at: dt.datetime, activity=None, system: bool = False
) -> EnrolmentStep:
    """End the current step of an active enrolment with `outcome`, with the cadence's usual
    consequences (last step → completed, nurture). For touches that are not a rep's own
    (an email step the portal sent automatically), which `activity_create` leaves alone."""
    with transaction.atomic():
        current = _current_step(contact=step.enrolment.contact)
        if current is None or current.pk != step.pk:
            raise ValidationError("Only the current step of an active enrolment can be completed.")
        _step_end(current, outcome=outcome, at=at, activity=activity, system=system)
    return current


def enrolment_end_on_reply(*, contact: Contact, step: EnrolmentStep | None, outcome: str, at: dt.datetime) -> Enrolment | None:
    """The contact answered (a reply reported by the mail system): their cadence stops.
    `step`, the step whose email was answered, takes the reply's outcome if it had ended
    with no response; the enrolment ends positive, or negative (the rep then dispositions)."""
    if outcome not in (Outcome.POSITIVE, Outcome.NEGATIVE):
        outcome = Outcome.POSITIVE
    with transaction.atomic():
        enrolment = (
            Enrolment.objects.select_for_update(no_key=True)
            .filter(contact=contact, state=Enrolment.State.ACTIVE)
            .first()
        )
        if enrolment is None:
            return None
        if step is not None and step.enrolment_id == enrolment.pk and step.outcome == Outcome.NO_RESPONSE:
            EnrolmentStep.objects.filter(pk=step.pk).update(outcome=outcome)
        enrolment_transition(
            enrolment=enrolment, at=at, note="Reply reported by the mail system",
            to_state=Enrolment.State.POSITIVE if outcome == Outcome.POSITIVE else Enrolment.State.NEGATIVE,
        )
    return enrolment
