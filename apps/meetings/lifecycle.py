"""The meeting flow's touch points with cadences: the booking as a logged activity, and the
reschedule cadence after a no-show. The lead-cycle side (dispositioning, handing the lead to
the SDR, the reasons an AE may give) is apps.leads'. Callers run inside the meeting service's
transaction."""

from __future__ import annotations

import contextlib
import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.accounts.models import Activity, ActivityType
from apps.cadences.models import Cadence, CadenceStep, EnrolmentStep
from apps.cadences.services import activity_create, enrolment_create, enrolment_stop
from apps.leads.models import LeadCycle, LeadType
from apps.leads.services.cycles import lead_cycle_rep_handover
from apps.people.timezones import rep_zone, when

# The system reason a lead is nurtured with after the no-show limit (apps.leads.defaults).
NO_SHOW_LIMIT_CODE = "no_show_limit"


def meeting_booked_touch(*, meeting, at: dt.datetime | None = None) -> Activity:
    """Log the booking as a real `meeting` activity by the SDR on the lead, through
    `apps.cadences.services.activity_create`: it moves an assigned lead to working and ends the
    lead's current cadence step as a positive response (which ends the enrolment)."""

    return activity_create(
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
    someone else held it (apps.leads.services.cycles.lead_cycle_rep_handover)."""

    meeting = attempt.meeting
    if meeting.lead_cycle_id:
        if LeadCycle.objects.filter(pk=meeting.lead_cycle_id, state=LeadCycle.State.DISPOSITIONED).exists():
            return
        lead_cycle_rep_handover(cycle_id=meeting.lead_cycle_id, to_rep_id=attempt.sdr_id, actor=actor,
                                at=attempt.created_at, note="No-show: rescheduling handed to the SDR")
    days = max(1, round((attempt.due_by - attempt.created_at) / dt.timedelta(days=1)))
    cadence = reschedule_cadence(touches=attempt.touches_allowed, days=days)
    enrolment_stop(contact=attempt.contact, actor=actor, at=attempt.created_at)
    # enrolment_stop ended any active enrolment just now, so a refusal here means ops
    # deactivated the reschedule cadence: the reschedule task (the attempt) still stands.
    with contextlib.suppress(ValidationError):
        enrolment_create(contact=attempt.contact, cadence=cadence, rep=attempt.sdr, actor=actor, at=attempt.created_at)
