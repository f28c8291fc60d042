"""Writes to people: the lead lifecycle of the Measurable Lead Model.

assigned → working (only a real, non-automated activity) → dispositioned (qualified,
nurture or unqualified with a reason). Every move goes through one function here and leaves
a LeadCycleEvent; the SLA clock (policy and deadlines) is set whenever a rep's clock starts.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.people.business_hours import policy_deadline, policy_elapsed
from apps.people.models import (
    Contact,
    DispositionReason,
    LeadCycle,
    LeadCycleEvent,
    LeadType,
    LifecycleSettings,
    Rep,
    SlaBreach,
    SlaPolicy,
)

logger = logging.getLogger(__name__)

# Activities that are work on a lead. Notes, status edits, views and automated touches are not.
WORK_ACTIVITY_TYPES = ("call", "email", "social", "meeting")
# Evidence that a lead is in a buying cycle now (until apps.meetings has its own model).
QUALIFYING_ACTIVITY_TYPES = ("meeting", "deal_created")

ALLOWED_MOVES = {
    LeadCycle.State.ASSIGNED: {LeadCycle.State.WORKING, LeadCycle.State.DISPOSITIONED},
    LeadCycle.State.WORKING: {LeadCycle.State.DISPOSITIONED},
    LeadCycle.State.DISPOSITIONED: set(),
}


# Callbacks run inside the transaction of a lead change with (event type, a function that
# builds the event's data, when): what they write (the webhook outbox) commits or rolls
# back together with the change. apps.integrations registers its outbox writer here.
_in_transaction_lead_change: list[Callable[..., None]] = []

LEAD_ASSIGNED = "lead.assigned"
LEAD_SLA_BREACHED = "lead.sla_breached"


def in_transaction_on_lead_change(callback: Callable[..., None]) -> Callable:
    """Register `callback(event_type=..., build_data=..., occurred_at=...)`, run inside the
    transaction of every lead assignment, re-assignment and recorded SLA breach."""
    if callback not in _in_transaction_lead_change:
        _in_transaction_lead_change.append(callback)
    return callback


def _iso(value):
    return value.isoformat() if value is not None else None


def _rep_data(rep: Rep | None) -> dict | None:
    if rep is None:
        return None
    return {"id": rep.pk, "owner_name": rep.owner_name, "email": rep.user.email, "role": rep.role}


def _cycle_data(cycle: LeadCycle) -> dict:
    contact = Contact.objects.select_related("account").get(pk=cycle.contact_id)
    account = contact.account
    return {
        "lead_cycle": {
            "id": cycle.pk, "number": cycle.number, "state": cycle.state, "lead_type": cycle.lead_type,
            "source": cycle.source, "assigned_at": _iso(cycle.assigned_at), "sla_target_at": _iso(cycle.sla_target_at),
            "sla_maximum_at": _iso(cycle.sla_maximum_at), "reassignment_count": cycle.reassignment_count,
        },
        "contact": {"id": contact.pk, "email": contact.email, "name": f"{contact.first_name} {contact.last_name}".strip()},
        "account": {"id": account.pk, "name": account.name, "domain": account.domain} if account else None,
        "rep": _rep_data(Rep.objects.select_related("user").filter(pk=cycle.rep_id).first()),
    }


def _lead_changed(event_type: str, build_data: Callable[[], dict], occurred_at: dt.datetime) -> None:
    for callback in _in_transaction_lead_change:
        callback(event_type=event_type, build_data=build_data, occurred_at=occurred_at)


def _actor_user(actor):
    return actor if getattr(actor, "pk", None) and not isinstance(actor, Rep) else getattr(actor, "user", None)


def sla_policy_for(*, lead_type: str, source: str) -> SlaPolicy | None:
    """The active policy for this lead type and source; a source-specific one wins."""
    policies = [
        p for p in SlaPolicy.objects.filter(active=True, lead_type=lead_type, source__in=[source or "", ""])
    ]
    policies.sort(key=lambda p: p.source == "")
    return policies[0] if policies else None


def _start_sla_clock(cycle: LeadCycle) -> None:
    """Set the cycle's policy and deadlines from its (new) assigned_at and rep."""
    policy = sla_policy_for(lead_type=cycle.lead_type, source=cycle.source)
    cycle.sla_policy = policy
    if policy is None:
        cycle.sla_target_at = cycle.sla_maximum_at = None
        return
    tz = cycle.rep.time_zone if cycle.rep else "UTC"
    cycle.sla_target_at = policy_deadline(policy, time_zone=tz, start=cycle.assigned_at, minutes=policy.target_minutes)
    cycle.sla_maximum_at = policy_deadline(policy, time_zone=tz, start=cycle.assigned_at, minutes=policy.maximum_minutes)


def _event(cycle: LeadCycle, kind: str, *, from_state="", from_rep=None, actor=None, at=None, note="") -> None:
    LeadCycleEvent.objects.create(
        cycle=cycle,
        kind=kind,
        from_state=from_state,
        to_state=cycle.state,
        from_rep=from_rep,
        to_rep=cycle.rep,
        actor=_actor_user(actor),
        occurred_at=at or timezone.now(),
        note=note[:255],
    )


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
    with transaction.atomic():
        Contact.objects.select_for_update(no_key=True).filter(pk=contact.pk).first()
        cycles = LeadCycle.objects.filter(contact=contact)
        # One statement for both: routing a lead stays within its query budget.
        seen = cycles.aggregate(n=Max("number"), open_pk=Max("pk", filter=~Q(state=LeadCycle.State.DISPOSITIONED)))
        if seen["open_pk"] is not None:
            open_cycle = cycles.get(pk=seen["open_pk"])
            raise ValidationError(
                f"{contact} already has an open lead cycle (cycle {open_cycle.number}, {open_cycle.get_state_display()})."
            )
        number = (seen["n"] or 0) + 1
        cycle = LeadCycle(
            contact=contact,
            number=number,
            lead_type=lead_type,
            source=source or contact.source,
            campaign=campaign,
            rep=rep,
            assigned_at=assigned_at or timezone.now(),
        )
        _start_sla_clock(cycle)
        cycle.save()
        _event(cycle, LeadCycleEvent.Kind.ASSIGNED, actor=actor, at=cycle.assigned_at,
               note="recycled" if number > 1 else "")
        _lead_changed(
            LEAD_ASSIGNED,
            lambda: {**_cycle_data(cycle), "from_rep": None, "reason": "recycled" if number > 1 else "assigned"},
            cycle.assigned_at,
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
            .exclude(state=LeadCycle.State.DISPOSITIONED)
            .first()
        )
        if cycle is None or activity.occurred_at < cycle.assigned_at or cycle.state != LeadCycle.State.ASSIGNED:
            return None
        cycle.first_touch_at = activity.occurred_at
        cycle.worked_at = activity.occurred_at
        cycle.response_time = lead_cycle_response_time(cycle=cycle)
        cycle.state = LeadCycle.State.WORKING
        cycle.save(update_fields=["first_touch_at", "worked_at", "response_time", "state"])
        _event(cycle, LeadCycleEvent.Kind.WORKED, from_state=LeadCycle.State.ASSIGNED,
               from_rep=cycle.rep, actor=activity.rep, at=activity.occurred_at, note=activity.get_type_display())
    return cycle


def lead_cycle_response_time(*, cycle: LeadCycle) -> dt.timedelta | None:
    """First real touch − assigned at, on the cycle's policy clock (calendar when none).
    None for a lead never touched, including one dispositioned without a touch (bypass)."""
    if cycle.first_touch_at is None:
        return None
    tz = cycle.rep.time_zone if cycle.rep_id else "UTC"
    return policy_elapsed(cycle.sla_policy, time_zone=tz, start=cycle.assigned_at, end=cycle.first_touch_at)


def _can_override_qualification(user) -> bool:
    from apps.people.selectors import rep_for_user

    if user is None:
        return False
    if user.is_superuser:
        return True
    rep = rep_for_user(user)
    return rep is not None and rep.role in (Rep.Role.MANAGER, Rep.Role.OPS)


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
    user = _actor_user(actor)
    at = at or timezone.now()
    with transaction.atomic():
        locked = LeadCycle.objects.select_for_update(no_key=True).filter(pk=cycle.pk).first()
        if locked is None:
            raise ValidationError("This lead cycle no longer exists.")
        if locked.state == LeadCycle.State.DISPOSITIONED:
            raise ValidationError(
                f"Cycle {locked.number} of {locked.contact} is already dispositioned ({locked.get_disposition_display()})."
            )
        if disposition == LeadCycle.Disposition.QUALIFIED:
            reason = None
            if not lead_cycle_qualification_evidence(cycle=locked):
                if not override:
                    raise ValidationError(
                        {"disposition": "Qualified needs a meeting or an opportunity for this lead, or a manager's override."}
                    )
                if not _can_override_qualification(user):
                    raise ValidationError({"disposition": "Only a manager or ops can qualify a lead without a meeting or opportunity."})
                locked.qualified_override_by = user
        else:
            if reason is None:
                raise ValidationError({"reason": f"A {disposition} disposition needs a reason from the list."})
            if reason.disposition != disposition:
                raise ValidationError({"reason": f"“{reason.label}” is a {reason.disposition} reason, not a {disposition} one."})
            if not reason.active:
                raise ValidationError({"reason": f"“{reason.label}” is no longer offered; pick an active reason."})
        from_state = locked.state
        locked.bypassed_working = from_state == LeadCycle.State.ASSIGNED
        locked.state = LeadCycle.State.DISPOSITIONED
        locked.disposition = disposition
        locked.reason = reason
        locked.disposition_reason = reason.label if reason else ""
        locked.dispositioned_at = at
        locked.dispositioned_by = None if system else user
        locked.dispositioned_by_system = system
        locked.save()
        _event(locked, LeadCycleEvent.Kind.DISPOSITIONED, from_state=from_state, from_rep=locked.rep,
               actor=None if system else user, at=at,
               note=note or f"{locked.get_disposition_display()}{': ' + reason.label if reason else ''}")
        from apps.cadences.services import enrolment_end_for_disposition

        enrolment_end_for_disposition(contact_id=locked.contact_id, at=at)
    cycle.refresh_from_db()
    return cycle


def disposition_reason_by_code(code: str) -> DispositionReason:
    reason = DispositionReason.objects.filter(code=code).first()
    if reason is None:
        raise ValidationError(f"The system disposition reason “{code}” is missing; restore it in the reason list.")
    return reason


def lead_cycles_sla_backfill(*, batch_size: int = 2000) -> int:
    """Give cycles loaded in bulk (imports, the demo seed) their SLA policy, deadlines and
    response time, as lead_cycle_open and lead_cycle_touch would have. Only touches cycles
    with no policy yet, so it is safe to re-run."""
    updated = 0
    qs = LeadCycle.objects.filter(sla_policy__isnull=True).select_related("rep").order_by("pk")
    batch = []
    for cycle in qs.iterator(chunk_size=batch_size):
        _start_sla_clock(cycle)
        if cycle.sla_policy is None:
            continue
        cycle.response_time = lead_cycle_response_time(cycle=cycle)
        batch.append(cycle)
        if len(batch) >= batch_size:
            updated += LeadCycle.objects.bulk_update(batch, ["sla_policy", "sla_target_at", "sla_maximum_at", "response_time"])
            batch = []
    if batch:
        updated += LeadCycle.objects.bulk_update(batch, ["sla_policy", "sla_target_at", "sla_maximum_at", "response_time"])
    return updated


# ---------------------------------------------------------------- auto-abandon

def lead_cycles_to_auto_abandon(*, now: dt.datetime | None = None, cycle_id: int | None = None) -> list[int]:
    """Working at least N days (30) with no real activity on the contact in the last M (7).
    With `cycle_id`, checks only that cycle (the per-cycle re-check under lock)."""
    from apps.accounts.models import Activity

    now = now or timezone.now()
    settings_row = LifecycleSettings.load()
    working_cutoff = now - dt.timedelta(days=settings_row.auto_abandon_working_days)
    idle_cutoff = now - dt.timedelta(days=settings_row.auto_abandon_idle_days)
    recent_work = Activity.objects.filter(
        contact_id=OuterRef("contact_id"), automated=False, type__in=WORK_ACTIVITY_TYPES, occurred_at__gt=idle_cutoff
    )
    qs = LeadCycle.objects.filter(state=LeadCycle.State.WORKING, worked_at__lte=working_cutoff)
    if cycle_id is not None:
        qs = qs.filter(pk=cycle_id)
    return list(
        qs.exclude(Exists(recent_work))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def lead_cycle_auto_abandon(*, cycle_id: int, now: dt.datetime | None = None) -> bool:
    """Abandon one cycle to nurture / auto-abandoned if it still qualifies (idempotent)."""
    now = now or timezone.now()
    with transaction.atomic():
        cycle = (
            LeadCycle.objects.select_for_update(skip_locked=True, no_key=True)
            .filter(pk=cycle_id, state=LeadCycle.State.WORKING)
            .first()
        )
        if cycle is None or not lead_cycles_to_auto_abandon(now=now, cycle_id=cycle_id):
            return False
        lead_cycle_disposition(
            cycle=cycle, disposition=LeadCycle.Disposition.NURTURE, reason=disposition_reason_by_code("auto_abandoned"),
            system=True, at=now, note="Auto-abandoned: no real activity while working",
        )
    return True


# ---------------------------------------------------------------- SLA enforcement

def lead_cycles_past_sla(*, now: dt.datetime | None = None) -> list[int]:
    """Untouched assigned cycles past their target (reminder due) or maximum (escalation)."""
    now = now or timezone.now()
    handled = SlaBreach.objects.filter(cycle_id=OuterRef("pk"), assigned_at=OuterRef("assigned_at"))
    return list(
        LeadCycle.objects.filter(state=LeadCycle.State.ASSIGNED, first_touch_at__isnull=True)
        .filter(
            Q(sla_maximum_at__lte=now) & ~Exists(handled.filter(kind=SlaBreach.Kind.MAXIMUM))
            | Q(sla_target_at__lte=now) & ~Exists(handled.filter(kind=SlaBreach.Kind.TARGET))
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _next_rep_for(cycle: LeadCycle) -> Rep | None:
    """The rep an SLA re-assignment hands the lead to — THE switch point to routing.

    Once apps.routing.services.lead_route (issue 5) exists it decides, excluding the rep
    whose clock lapsed (with reason sla_reassignment it moves the account itself and opens
    no cycle; the caller re-points this cycle). A lead routing puts in the claim queue stays
    there (None). When there is no routing, or routing finds nobody (no rule, no available
    rep), the fallback: the least-loaded (fewest open lead cycles) active, in-office SDR of
    the current rep's team other than that rep, ties to the lowest id. None: nobody.
    """
    try:
        from apps.routing.services import lead_route  # optional until issue 5 lands
    except ImportError:
        lead_route = None
    if lead_route is not None:
        exclude = (cycle.rep_id,) if cycle.rep_id else ()
        decision = lead_route(contact=cycle.contact, actor=None, exclude_reps=exclude, reason="sla_reassignment")
        rep = decision if isinstance(decision, Rep) else getattr(decision, "rep", None)
        if rep is not None and rep.pk != cycle.rep_id:
            return rep
        if getattr(decision, "outcome", "") == "queued":
            return None
    return _next_rep_in_team(cycle)


def _next_rep_in_team(cycle: LeadCycle) -> Rep | None:
    if cycle.rep is None or cycle.rep.team_id is None:
        return None
    today = timezone.localdate()
    # A per-rep subquery uses the partial index of open cycles (a join + GROUP BY would not).
    open_count = (
        LeadCycle.objects.filter(rep_id=OuterRef("pk")).exclude(state=LeadCycle.State.DISPOSITIONED)
        .order_by().values("rep_id").annotate(n=Count("pk")).values("n")
    )
    candidates = (
        Rep.objects.filter(team_id=cycle.rep.team_id, role=Rep.Role.SDR, active=True)
        .exclude(pk=cycle.rep_id)
        .exclude(out_of_office_from__lte=today, out_of_office_to__isnull=True)
        .exclude(out_of_office_from__lte=today, out_of_office_to__gte=today)
        .annotate(open_cycles=Coalesce(Subquery(open_count), 0))
        .order_by("open_cycles", "pk")
    )
    return candidates.first()


def _manager_of(rep: Rep | None) -> Rep | None:
    if rep is None:
        return None
    if rep.team_id and rep.team.manager_id:
        return rep.team.manager
    return rep.manager


def lead_cycle_sla_enforce(*, cycle_id: int, now: dt.datetime | None = None) -> str:
    """Act on one cycle's SLA: remind the rep past target, re-assign past maximum.

    Safe to run any number of times, from any number of workers: the cycle row is taken with
    SKIP LOCKED (a concurrent run skips it), deadlines are re-checked on the locked copy, and
    the breach row (unique per cycle, kind and assignment) is written before any side effect,
    which is sent only after commit. Returns what happened: skipped / reminded / reassigned /
    escalated (past maximum but nobody to re-assign to).
    """
    from apps.people import notifications

    now = now or timezone.now()
    with transaction.atomic():
        cycle = (
            LeadCycle.objects.select_for_update(skip_locked=True, no_key=True)
            .filter(pk=cycle_id, state=LeadCycle.State.ASSIGNED, first_touch_at__isnull=True)
            .first()
        )
        if cycle is None:
            return "skipped"
        done = set(SlaBreach.objects.filter(cycle=cycle, assigned_at=cycle.assigned_at).values_list("kind", flat=True))
        if cycle.sla_maximum_at and cycle.sla_maximum_at <= now and SlaBreach.Kind.MAXIMUM not in done:
            return _escalate(cycle, now=now, notifications=notifications)
        if cycle.sla_target_at and cycle.sla_target_at <= now and SlaBreach.Kind.TARGET not in done:
            try:
                with transaction.atomic():
                    breach = SlaBreach.objects.create(
                        cycle=cycle, kind=SlaBreach.Kind.TARGET, rep=cycle.rep, assigned_at=cycle.assigned_at,
                        due_at=cycle.sla_target_at, breached_at=now,
                    )
            except IntegrityError:
                return "skipped"
            _lead_changed(LEAD_SLA_BREACHED, lambda: _breach_data(breach, cycle), now)
            transaction.on_commit(lambda: notifications.sla_reminder(breach_id=breach.pk))
            return "reminded"
    return "skipped"


def _escalate(cycle: LeadCycle, *, now: dt.datetime, notifications) -> str:
    from apps.accounts.models import OwnershipReason
    from apps.accounts.services import account_set_owner

    old_rep = cycle.rep
    try:
        with transaction.atomic():
            breach = SlaBreach.objects.create(
                cycle=cycle, kind=SlaBreach.Kind.MAXIMUM, rep=old_rep, assigned_at=cycle.assigned_at,
                due_at=cycle.sla_maximum_at, breached_at=now,
            )
    except IntegrityError:
        return "skipped"
    # A lead found past both deadlines at once gets the escalation, not also a stale reminder.
    SlaBreach.objects.get_or_create(
        cycle=cycle, kind=SlaBreach.Kind.TARGET, assigned_at=cycle.assigned_at,
        defaults={"rep": old_rep, "due_at": cycle.sla_target_at or cycle.sla_maximum_at, "breached_at": now,
                  "note": "Found past the maximum; escalated without a separate reminder."},
    )
    policy = cycle.sla_policy
    new_rep = _next_rep_for(cycle) if policy is None or policy.reassign else None
    if new_rep is None:
        breach.note = "No available rep to re-assign to; manager notified."
        breach.save(update_fields=["note"])
        _lead_changed(LEAD_SLA_BREACHED, lambda: _breach_data(breach, cycle), now)
        transaction.on_commit(lambda: notifications.sla_escalation(breach_id=breach.pk))
        return "escalated"
    account = cycle.contact.account
    if account is not None and account.owner_id != new_rep.pk:
        account_set_owner(
            account=account, to_rep=new_rep, reason=OwnershipReason.SLA_REASSIGNMENT,
            note=f"Lead {cycle.contact} untouched past the {cycle.sla_policy or 'SLA'} maximum",
        )
    cycle.rep = new_rep
    cycle.assigned_at = now
    cycle.reassignment_count += 1
    _start_sla_clock(cycle)
    cycle.save(update_fields=["rep", "assigned_at", "reassignment_count", "sla_policy", "sla_target_at", "sla_maximum_at"])
    _event(cycle, LeadCycleEvent.Kind.REASSIGNED, from_state=cycle.state, from_rep=old_rep, at=now,
           note="Past maximum response time")
    from apps.cadences.models import Enrolment

    # The cadence's remaining steps are the new rep's to do (their today list).
    Enrolment.objects.filter(contact_id=cycle.contact_id, state=Enrolment.State.ACTIVE).update(rep=new_rep)
    breach.reassigned_to = new_rep
    breach.save(update_fields=["reassigned_to"])
    _lead_changed(LEAD_SLA_BREACHED, lambda: _breach_data(breach, cycle), now)
    _lead_changed(
        LEAD_ASSIGNED,
        lambda: {**_cycle_data(cycle), "from_rep": _rep_data(old_rep), "reason": "sla_reassignment"},
        now,
    )
    transaction.on_commit(lambda: notifications.sla_escalation(breach_id=breach.pk))
    return "reassigned"


def _breach_data(breach: SlaBreach, cycle: LeadCycle) -> dict:
    breached_rep = Rep.objects.select_related("user").filter(pk=breach.rep_id).first()
    reassigned_to = Rep.objects.select_related("user").filter(pk=breach.reassigned_to_id).first()
    return {
        **_cycle_data(cycle),
        "breach": {
            "id": breach.pk, "kind": breach.kind, "due_at": _iso(breach.due_at), "breached_at": _iso(breach.breached_at),
            "breached_rep": _rep_data(breached_rep), "reassigned_to": _rep_data(reassigned_to), "note": breach.note,
        },
    }


# ---------------------------------------------------------------- contacts from other systems

CONTACT_UPSERT_FIELDS = ("first_name", "last_name", "title", "persona", "buying_role", "phone", "linkedin_url")


def contact_upsert(*, email: str, source: str = Contact.Source.INBOUND, actor=None, **fields) -> tuple[Contact, bool]:
    """Find the contact by email (case-insensitive) or create it; given non-blank fields
    overwrite. A known contact keeps its source (where the person first came from).
    Returns (contact, created)."""
    unknown = set(fields) - set(CONTACT_UPSERT_FIELDS)
    if unknown:
        raise ValidationError({field: "This field cannot be set here." for field in sorted(unknown)})
    email = (email or "").strip().lower()
    with transaction.atomic():
        contact = Contact.objects.select_for_update(no_key=True).filter(email=email).first()
        created = contact is None
        if created:
            contact = Contact(email=email, source=source)
        changed = False
        for field, value in fields.items():
            if value not in (None, "") and getattr(contact, field) != value:
                setattr(contact, field, value)
                changed = True
        if created or changed:
            contact.full_clean(exclude=["account"], validate_unique=False)
            contact.save()
    return contact, created
