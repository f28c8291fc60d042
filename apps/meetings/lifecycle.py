"""The meeting flow's three touch points with the lead lifecycle (issue 6).

Each is ONE function so the switch to issue 6's services is a change in this file only.
Until those services are on main, each does the minimal correct thing directly on the
models that exist (LeadCycle, Activity). Every caller runs inside the meeting service's
transaction, so these must not open side effects of their own.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from apps.accounts.models import Activity, ActivityType
from apps.people.models import LeadCycle

# Reasons an AE may give when a completed meeting was unqualified: the lead is dispositioned
# with it. Labels match issue 6's default DispositionReason rows (people/defaults.py), which
# replace this list once they land.
LEAD_REASONS: dict[str, tuple[str, str]] = {
    "not_a_prospect": (LeadCycle.Disposition.UNQUALIFIED, "Not a prospect (student, job seeker)"),
    "incompatible_systems": (LeadCycle.Disposition.UNQUALIFIED, "Incompatible systems/solutions"),
    "left_organisation": (LeadCycle.Disposition.UNQUALIFIED, "No longer at organisation"),
    "budget_6_months": (LeadCycle.Disposition.NURTURE, "Budget not available for 6+ months"),
    "missing_feature": (LeadCycle.Disposition.NURTURE, "Product missing key feature for use case"),
    "re_evaluating": (LeadCycle.Disposition.NURTURE, "Re-evaluating internal processes"),
    "competitor_contract": (LeadCycle.Disposition.NURTURE, "Under contract with a competitor"),
}
NO_SHOW_LIMIT_REASON = ("no_show_limit", "No-show limit reached")


def lead_disposition(
    *,
    cycle: LeadCycle,
    disposition: str,
    reason_label: str = "",
    actor=None,
    system: bool = False,
    at: dt.datetime | None = None,
) -> bool:
    """Disposition the lead cycle as qualified, nurture or unqualified (with a reason).

    Returns False (and changes nothing) when the cycle is already dispositioned: a later
    meeting on a lead that was already qualified must not fail.

    SWITCH TO (issue 6): `apps.people.services.lead_cycle_disposition(cycle=cycle,
    disposition=disposition, reason=<DispositionReason>, actor=actor, system=system, at=at)`,
    looking the reason up by label in the admin-edited list (for the no-show limit by the
    system code "no_show_limit", a row issue 6's defaults must add). A qualified meeting is
    the "meeting or opportunity" evidence that service demands, so no override is needed.
    That service also ends the lead's cadence enrolment.
    """
    at = at or timezone.now()
    locked = LeadCycle.objects.select_for_update(no_key=True).get(pk=cycle.pk)
    if locked.state == LeadCycle.State.DISPOSITIONED:
        return False
    locked.bypassed_working = locked.state == LeadCycle.State.ASSIGNED
    locked.state = LeadCycle.State.DISPOSITIONED
    locked.disposition = disposition
    locked.disposition_reason = reason_label if disposition != LeadCycle.Disposition.QUALIFIED else ""
    locked.dispositioned_at = at
    locked.save(update_fields=["state", "disposition", "disposition_reason", "dispositioned_at", "bypassed_working"])
    return True


def meeting_booked_touch(*, meeting, at: dt.datetime | None = None) -> Activity:
    """Record the booking as a real `meeting` activity by the SDR on the lead, which moves an
    assigned lead to working, and count it as a positive response in the lead's cadence.

    SWITCH TO (issue 6): `apps.cadences.services.activity_log(rep=meeting.sdr,
    contact=meeting.contact, type="meeting", subject=..., actor=meeting.booked_by,
    outcome=EnrolmentStep.Outcome.POSITIVE)` — it logs the activity, moves the cycle to
    working and ends the cadence step (and enrolment) as a positive response.
    """
    at = at or timezone.now()
    activity = Activity.objects.create(
        type=ActivityType.MEETING,
        rep=meeting.sdr,
        account=meeting.account,
        contact=meeting.contact,
        occurred_at=at,
        automated=False,
        subject=f"Booked {meeting.get_kind_display()} with {meeting.ae} for {meeting.scheduled_at:%Y-%m-%d %H:%M}"[:255],
    )
    if meeting.lead_cycle_id:
        cycle = LeadCycle.objects.select_for_update(no_key=True).get(pk=meeting.lead_cycle_id)
        if cycle.state == LeadCycle.State.ASSIGNED:
            cycle.state = LeadCycle.State.WORKING
            cycle.first_touch_at = cycle.first_touch_at or at
            cycle.worked_at = cycle.worked_at or at
            cycle.save(update_fields=["state", "first_touch_at", "worked_at"])
    return activity


def reschedule_cadence_start(*, attempt, actor=None) -> None:
    """After a no-show, put the lead in the reschedule cadence (up to `attempt.touches_allowed`
    touches until `attempt.due_by`) worked by the SDR, who now owns the lead.

    For now the RescheduleAttempt row itself is the SDR's task and deadline, and the lead
    cycle's rep becomes the SDR (ownership of the lead, as the seed asks).

    SWITCH TO (issue 6): end any active enrolment, then
    `apps.cadences.services.enrolment_create(contact=attempt.contact, cadence=<the reschedule
    cadence: attempt.touches_allowed touches over the reschedule days>, rep=attempt.sdr,
    actor=actor, at=attempt.created_at)`; keep setting the cycle's rep.
    """
    cycle_id = attempt.meeting.lead_cycle_id
    if cycle_id:
        LeadCycle.objects.filter(pk=cycle_id).exclude(state=LeadCycle.State.DISPOSITIONED).exclude(
            rep_id=attempt.sdr_id
        ).update(rep_id=attempt.sdr_id)
