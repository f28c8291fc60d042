"""The meeting flow's touch points with the lead lifecycle and cadences (issue 6).

Each is one function over issue 6's services, so the meeting services never reach into
lead cycles or enrolments themselves. Callers run inside the meeting service's transaction.
"""

from __future__ import annotations

import contextlib
import datetime as dt

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from apps.accounts.models import Activity, ActivityType
from apps.people.models import DispositionReason, LeadCycle, LeadCycleEvent, LeadType
from apps.people.timezones import rep_zone, when

NO_SHOW_LIMIT_CODE = "no_show_limit"
# Reasons only the system sets (end of cadence, auto-abandon, the no-show limit): never
# offered to an AE dispositioning a meeting.
SYSTEM_REASON_CODES = ("no_response", "auto_abandoned", NO_SHOW_LIMIT_CODE)


def lead_reasons() -> QuerySet[DispositionReason]:
    """The nurture and unqualified reasons an AE may give for a Completed – Unqualified
    meeting: the admin-edited lists, active entries, without the system's own."""
    return (
        DispositionReason.objects.filter(active=True, disposition__in=["nurture", "unqualified"])
        .exclude(code__in=SYSTEM_REASON_CODES)
        .order_by("disposition", "position", "label")
    )


def lead_disposition(
    *,
    cycle: LeadCycle,
    disposition: str,
    reason: DispositionReason | None = None,
    reason_code: str = "",
    actor=None,
    system: bool = False,
    at: dt.datetime | None = None,
    note: str = "",
) -> bool:
    """Disposition the meeting's lead cycle through `apps.people.services.lead_cycle_disposition`
    (which records the event and ends the lead's cadence enrolment).

    Returns False, changing nothing, when the cycle is already dispositioned: a later meeting
    on a lead that was qualified before must not fail. A qualified meeting's booking activity
    is the "meeting" evidence that service asks for.
    """
    from apps.people.services import disposition_reason_by_code, lead_cycle_disposition

    if LeadCycle.objects.filter(pk=cycle.pk, state=LeadCycle.State.DISPOSITIONED).exists():
        return False
    if reason is None and reason_code:
        reason = disposition_reason_by_code(reason_code)
    lead_cycle_disposition(
        cycle=cycle, disposition=disposition, reason=reason, actor=actor, system=system, at=at, note=note
    )
    return True


def meeting_booked_touch(*, meeting, at: dt.datetime | None = None) -> Activity:
    """Log the booking as a real `meeting` activity by the SDR on the lead, through
    `apps.cadences.services.activity_log`: it moves an assigned lead to working and ends the
    lead's current cadence step as a positive response (which ends the enrolment)."""
    from apps.cadences.models import EnrolmentStep
    from apps.cadences.services import activity_log

    return activity_log(
        rep=meeting.sdr,
        contact=meeting.contact,
        type=ActivityType.MEETING,
        occurred_at=at or timezone.now(),
        subject=f"Booked {meeting.get_kind_display()} with {meeting.ae} for "
        f"{when(meeting.scheduled_at, rep_zone(meeting.sdr))}",
        actor=meeting.booked_by,
        outcome=EnrolmentStep.Outcome.POSITIVE,
    )


def reschedule_cadence(*, touches: int, days: int):
    """The reschedule cadence for the current limits (e.g. 5 touches in 7 days), created on
    first use; a change of limits makes a new one, so running enrolments keep their steps."""
    from apps.cadences.models import Cadence, CadenceStep

    name = f"Reschedule after no-show ({touches} touches in {days} days)"
    cadence, created = Cadence.objects.get_or_create(
        name=name,
        defaults={
            "lead_type": LeadType.OUTBOUND,
            "description": "After a no-show the SDR rebooks the meeting; booking ends it as a positive response.",
        },
    )
    if created:
        channels = ["call", "email"]
        for position in range(1, touches + 1):
            day = 0 if touches == 1 else round((position - 1) * days / (touches - 1))
            CadenceStep.objects.create(
                cadence=cadence, position=position, day_offset=day, channel=channels[(position - 1) % 2],
                instructions=f"Reschedule touch {position} of {touches}: offer two new times for the missed meeting.",
            )
    return cadence


def reschedule_cadence_start(*, attempt, actor=None) -> None:
    """After a no-show the SDR owns the lead again and works it in the reschedule cadence
    (`attempt.touches_allowed` touches until `attempt.due_by`); the lead's other cadence is
    stopped (`enrolment_stop`), and the lead cycle's rep becomes the SDR (with an event) if
    someone else held it."""
    from apps.cadences.services import enrolment_create, enrolment_stop

    meeting = attempt.meeting
    if meeting.lead_cycle_id:
        cycle = LeadCycle.objects.select_for_update(no_key=True).get(pk=meeting.lead_cycle_id)
        if cycle.state == LeadCycle.State.DISPOSITIONED:
            return
        if cycle.rep_id != attempt.sdr_id:
            from_rep_id = cycle.rep_id
            cycle.rep_id = attempt.sdr_id
            cycle.save(update_fields=["rep"])
            LeadCycleEvent.objects.create(
                cycle=cycle, kind=LeadCycleEvent.Kind.REASSIGNED, from_state=cycle.state, to_state=cycle.state,
                from_rep_id=from_rep_id, to_rep_id=attempt.sdr_id, actor=actor if getattr(actor, "pk", None) else None,
                occurred_at=attempt.created_at, note="No-show: rescheduling handed to the SDR",
            )
    days = max(1, round((attempt.due_by - attempt.created_at) / dt.timedelta(days=1)))
    cadence = reschedule_cadence(touches=attempt.touches_allowed, days=days)
    enrolment_stop(contact=attempt.contact, actor=actor, at=attempt.created_at)
    # enrolment_stop ended any active enrolment just now, so a refusal here means ops
    # deactivated the reschedule cadence: the reschedule task (the attempt) still stands.
    with contextlib.suppress(ValidationError):
        enrolment_create(contact=attempt.contact, cadence=cadence, rep=attempt.sdr, actor=actor, at=attempt.created_at)
