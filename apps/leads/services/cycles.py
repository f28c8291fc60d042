"""Writes to lead cycles: the Measurable Lead Model's assigned → working (only a real,
non-automated activity) → dispositioned (qualified, nurture or unqualified with a reason).
Every move goes through one function here and leaves a LeadCycleEvent; the SLA clock
(policy and deadlines) is set whenever a rep's clock starts (apps.leads.services.sla_clock).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from apps.leads import events
from apps.leads.models import DispositionReason, LeadCycle, LeadCycleEvent, LeadType
from apps.leads.rules import may_qualify_without_evidence
from apps.leads.services.sla_clock import lead_cycle_response_time, sla_clock_start
from apps.people.actors import actor_user
from apps.people.models import Contact, Rep

logger = logging.getLogger(__name__)

# Activities that are work on a lead. Notes, status edits, views and automated touches are not.
WORK_ACTIVITY_TYPES = ("call", "email", "social", "meeting")
# Evidence that a lead is in a buying cycle now (until apps.meetings has its own model).
QUALIFYING_ACTIVITY_TYPES = ("meeting", "deal_created")

def _event(cycle: LeadCycle, kind: str, *, from_state="", from_rep=None, actor=None, at=None, note="") -> None:
    LeadCycleEvent.objects.create(
        cycle=cycle,
        kind=kind,
        from_state=from_state,
        to_state=cycle.state,
        from_rep=from_rep,
        to_rep=cycle.rep,
        actor=actor_user(actor),
        occurred_at=at or timezone.now(),
        note=note[:255],
    )


def _cycle_insert(cycle: LeadCycle, *, actor=None) -> bool:
    """INSERT … SELECT the new cycle and its ASSIGNED event in one statement; sets the
    cycle's pk and number. False (nothing written) when the contact has an open cycle."""
    fields = [f for f in LeadCycle._meta.concrete_fields if not f.primary_key]
    columns, values, params = [], [], []
    for f in fields:
        columns.append(connection.ops.quote_name(f.column))
        if f.attname == "number":
            values.append("(SELECT COALESCE(MAX(number), 0) + 1 FROM people_leadcycle WHERE contact_id = %s)")
            params.append(cycle.contact_id)
        else:
            values.append("%s")
            params.append(f.get_db_prep_save(f.pre_save(cycle, add=True), connection))
    user = actor_user(actor)
    sql = f"""
        WITH cycle AS (
            INSERT INTO people_leadcycle ({", ".join(columns)}) VALUES ({", ".join(values)})
            ON CONFLICT (contact_id) WHERE NOT (state = 'dispositioned') DO NOTHING
            RETURNING id, number
        ), event AS (
            INSERT INTO people_leadcycleevent
                   (cycle_id, kind, from_state, to_state, from_rep_id, to_rep_id, actor_id, occurred_at, note)
            SELECT id, %s, '', %s, NULL, %s, %s, %s, CASE WHEN number > 1 THEN 'recycled' ELSE '' END FROM cycle
        )
        SELECT id, number FROM cycle
    """  # noqa: S608 (column names from the model, values as parameters)
    params += [LeadCycleEvent.Kind.ASSIGNED, cycle.state, cycle.rep_id, getattr(user, "pk", None), cycle.assigned_at]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return False
    cycle.pk, cycle.number = row
    cycle._state.adding = False
    cycle._state.db = connection.alias
    return True


def lead_cycle_transition(
    *, cycle: LeadCycle, to_state: str, kind: str, actor=None, at: dt.datetime | None = None, note: str = "",
    **changes,
) -> LeadCycle:
    """The one way a lead cycle's state changes. `cycle` is the caller's locked copy, inside
    the caller's transaction. A move LeadCycle.TRANSITIONS does not allow is refused
    (IllegalTransition) before anything is written; otherwise the state and `changes` are saved
    and the LeadCycleEvent (from which state and rep, who, when) is written with them."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lead_cycle_transition runs inside the caller's transaction, on a locked row.")
    from_state = cycle.state
    LeadCycle.TRANSITIONS.check(from_state, to_state)
    for field, value in changes.items():
        setattr(cycle, field, value)
    cycle.state = to_state
    cycle.save(update_fields=["state", *changes])
    _event(cycle, kind, from_state=from_state, from_rep=cycle.rep, actor=actor, at=at, note=note)
    return cycle


def lead_cycle_open(
    *,
    contact: Contact,
    rep: Rep | None,
    lead_type: str = LeadType.INBOUND,
    source: str = "",
    campaign: str = "",
    assigned_at: dt.datetime | None = None,
    actor=None,
) -> LeadCycle:
    """Start a new cycle for `contact`, assigned to `rep` at `assigned_at` (now by default).

    Refuses when the contact already has an open cycle: a lead is worked in one cycle at a
    time, and a lead that comes back is recycled only after its last cycle was dispositioned.
    Inbound: call it when routing assigns the lead; outbound: when the rep pulls it from a
    queue or enrols it in a cadence (that instant is the outbound assigned-at).
    """
    if lead_type not in LeadType.values:
        raise ValidationError(f"Unknown lead type “{lead_type}”; expected one of {', '.join(LeadType.values)}.")
    cycle = LeadCycle(
        contact=contact,
        number=0,  # the next number, computed by the insert
        lead_type=lead_type,
        source=source or contact.source,
        campaign=campaign,
        rep=rep,
        assigned_at=assigned_at or timezone.now(),
    )
    sla_clock_start(cycle)
    # No savepoint and no contact lock: one statement inserts the cycle (numbered after the
    # contact's last one) and its ASSIGNED event, and the partial unique index "one open
    # cycle per contact" refuses a second open cycle (ON CONFLICT DO NOTHING: a concurrent
    # open waits for the first and then inserts nothing). The refusal is raised after the
    # block, so the caller's transaction stays usable.
    with transaction.atomic(savepoint=False):
        opened = _cycle_insert(cycle, actor=actor)
        if opened:
            events.lead_change_send(
                events.LEAD_ASSIGNED,
                lambda: {**events.cycle_data(cycle), "from_rep": None,
                         "reason": "recycled" if cycle.number > 1 else "assigned"},
                cycle.assigned_at,
            )
    if not opened:
        open_cycle = LeadCycle.objects.filter(contact=contact).open().first()
        raise ValidationError(
            f"{contact} already has an open lead cycle (cycle {open_cycle.number}, {open_cycle.get_state_display()})."
            if open_cycle else f"{contact} already has an open lead cycle."
        )
    return cycle


def lead_cycle_touch(*, contact: Contact, activity) -> LeadCycle | None:
    """Record a logged activity against the contact's open cycle.

    Only real work moves a lead: a call, email, social touch or meeting, made by a person
    (not flagged automated), at or after the cycle's assigned-at. The first such touch is the
    response (its time on the policy's clock is stored); it also moves the lead to working.
    Returns the cycle when it changed, else None.
    """
    if activity.automated or activity.type not in WORK_ACTIVITY_TYPES:
        return None
    with transaction.atomic():
        cycle = (
            LeadCycle.objects.select_for_update(no_key=True)
            .filter(contact=contact)
            .open()
            .first()
        )
        if cycle is None or activity.occurred_at < cycle.assigned_at or cycle.state != LeadCycle.State.ASSIGNED:
            return None
        cycle.first_touch_at = activity.occurred_at
        lead_cycle_transition(
            cycle=cycle, to_state=LeadCycle.State.WORKING, kind=LeadCycleEvent.Kind.WORKED, actor=activity.rep,
            at=activity.occurred_at, note=activity.get_type_display(), first_touch_at=activity.occurred_at,
            worked_at=activity.occurred_at, response_time=lead_cycle_response_time(cycle=cycle),
        )
    return cycle


def lead_cycle_qualification_evidence(*, cycle: LeadCycle) -> bool:
    """A meeting or an opportunity for the contact during this cycle: a meeting booked in
    this cycle (apps.meetings), an opportunity opened on the contact's account since the
    cycle was assigned, or a logged meeting / `deal_created` activity (from other tools)."""
    from apps.accounts.models import Activity
    from apps.meetings.models import Meeting, Opportunity

    if Meeting.objects.filter(lead_cycle_id=cycle.pk).exists():
        return True
    account_id = Contact.objects.filter(pk=cycle.contact_id).values_list("account_id", flat=True).first()
    if account_id and Opportunity.objects.filter(account_id=account_id, created_at__gte=cycle.assigned_at).exists():
        return True
    return Activity.objects.filter(
        contact_id=cycle.contact_id,
        type__in=QUALIFYING_ACTIVITY_TYPES,
        automated=False,
        occurred_at__gte=cycle.assigned_at,
    ).exists()


def lead_cycle_disposition(
    *,
    cycle: LeadCycle,
    disposition: str,
    reason: DispositionReason | None = None,
    actor=None,
    override: bool = False,
    system: bool = False,
    at: dt.datetime | None = None,
    note: str = "",
) -> LeadCycle:
    """End a cycle as qualified (now), nurture (not now) or unqualified (never).

    Nurture and unqualified need an active reason from that disposition's list; qualified
    needs a meeting or opportunity, or a manager's explicit override. A lead dispositioned
    from assigned (never touched) is flagged as bypassing working. `system=True` marks what a
    scheduled job did (auto-abandon, end of cadence). Any active cadence enrolment ends.
    """
    if disposition not in LeadCycle.Disposition.values:
        raise ValidationError({"disposition": f"Unknown disposition “{disposition}”; expected qualified, nurture or unqualified."})
    user = actor_user(actor)
    at = at or timezone.now()
    with transaction.atomic():
        locked = LeadCycle.objects.select_for_update(no_key=True).filter(pk=cycle.pk).first()
        if locked is None:
            raise ValidationError("This lead cycle no longer exists.")
        if locked.state == LeadCycle.State.DISPOSITIONED:
            raise ValidationError(
                f"Cycle {locked.number} of {locked.contact} is already dispositioned ({locked.get_disposition_display()})."
            )
        override_by = locked.qualified_override_by
        if disposition == LeadCycle.Disposition.QUALIFIED:
            reason = None
            if not lead_cycle_qualification_evidence(cycle=locked):
                if not override:
                    raise ValidationError(
                        {"disposition": "Qualified needs a meeting or an opportunity for this lead, or a manager's override."}
                    )
                if not may_qualify_without_evidence(user):
                    raise ValidationError({"disposition": "Only a manager or ops can qualify a lead without a meeting or opportunity."})
                override_by = user
        else:
            if reason is None:
                raise ValidationError({"reason": f"A {disposition} disposition needs a reason from the list."})
            if reason.disposition != disposition:
                raise ValidationError({"reason": f"“{reason.label}” is a {reason.disposition} reason, not a {disposition} one."})
            if not reason.active:
                raise ValidationError({"reason": f"“{reason.label}” is no longer offered; pick an active reason."})
        label = LeadCycle.Disposition(disposition).label
        lead_cycle_transition(
            cycle=locked, to_state=LeadCycle.State.DISPOSITIONED, kind=LeadCycleEvent.Kind.DISPOSITIONED,
            actor=None if system else user, at=at, note=note or f"{label}{': ' + reason.label if reason else ''}",
            bypassed_working=locked.state == LeadCycle.State.ASSIGNED, disposition=disposition, reason=reason,
            disposition_reason=reason.label if reason else "", dispositioned_at=at,
            dispositioned_by=None if system else user, dispositioned_by_system=system, qualified_override_by=override_by,
        )
        from apps.cadences.services import enrolment_end_for_disposition

        enrolment_end_for_disposition(contact_id=locked.contact_id, at=at)
    cycle.refresh_from_db()
    return cycle


def lead_cycle_disposition_if_open(
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
    """Disposition `cycle` through lead_cycle_disposition unless it already is (then change
    nothing and return False): a later meeting on a lead qualified before must not fail.
    `reason_code` names a system reason (e.g. the meetings flow's no-show limit)."""
    if LeadCycle.objects.filter(pk=cycle.pk, state=LeadCycle.State.DISPOSITIONED).exists():
        return False
    if reason is None and reason_code:
        reason = disposition_reason_by_code(reason_code)
    lead_cycle_disposition(
        cycle=cycle, disposition=disposition, reason=reason, actor=actor, system=system, at=at, note=note
    )
    return True


def lead_cycle_rep_handover(*, cycle_id: int, to_rep_id: int, actor=None, at: dt.datetime | None = None,
                            note: str = "") -> LeadCycle | None:
    """Hand an open cycle to another rep without restarting its clock (e.g. after a no-show
    the SDR reschedules the meeting), with a REASSIGNED event. No-op (None) for a
    dispositioned cycle or one the rep already holds."""
    with transaction.atomic():
        cycle = LeadCycle.objects.select_for_update(no_key=True).get(pk=cycle_id)
        if cycle.state == LeadCycle.State.DISPOSITIONED or cycle.rep_id == to_rep_id:
            return None
        from_rep_id = cycle.rep_id
        cycle.rep_id = to_rep_id
        cycle.save(update_fields=["rep"])
        LeadCycleEvent.objects.create(
            cycle=cycle, kind=LeadCycleEvent.Kind.REASSIGNED, from_state=cycle.state, to_state=cycle.state,
            from_rep_id=from_rep_id, to_rep_id=to_rep_id, actor=actor_user(actor), occurred_at=at or timezone.now(),
            note=note[:255],
        )
    return cycle


def disposition_reason_by_code(code: str) -> DispositionReason:
    reason = DispositionReason.objects.filter(code=code).first()
    if reason is None:
        raise ValidationError(f"The system disposition reason “{code}” is missing; restore it in the reason list.")
    return reason


