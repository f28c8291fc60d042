"""SLA enforcement: remind the rep past the target, re-assign (or escalate) past the maximum;
and the backfill that gives bulk-loaded cycles their clock."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.leads import events, notifications
from apps.leads.models import LeadCycle, LeadCycleEvent, SlaBreach, SlaPolicy
from apps.leads.services.cycles import _event
from apps.leads.services.sla_clock import lead_cycle_response_time, sla_clock_start
from apps.people.models import Rep


def lead_cycles_sla_backfill(*, batch_size: int = 2000) -> int:
    """Give cycles loaded in bulk (imports, the demo seed) their SLA policy, deadlines and
    response time, as lead_cycle_open and lead_cycle_touch would have. Only touches cycles
    with no policy yet, so it is safe to re-run."""
    updated = 0
    qs = LeadCycle.objects.filter(sla_policy__isnull=True).select_related("rep").order_by("pk")
    batch = []
    for cycle in qs.iterator(chunk_size=batch_size):
        sla_clock_start(cycle)
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


def lead_cycles_past_sla(*, now: dt.datetime | None = None) -> list[int]:
    """Untouched assigned cycles past their target (reminder due) or maximum (escalation)."""
    now = now or timezone.now()
    handled = SlaBreach.objects.filter(cycle_id=OuterRef("pk"), assigned_at=OuterRef("assigned_at"))
    # A rep out of office under a re-assigning leave policy hands their untouched leads on at once.
    away = Q(sla_policy__on_leave=SlaPolicy.OnLeave.REASSIGN,
             rep__in=Rep.objects.out_of_office(timezone.localdate(now)).values("pk"))
    return list(
        LeadCycle.objects.filter(state=LeadCycle.State.ASSIGNED, first_touch_at__isnull=True)
        .filter(
            Q(sla_maximum_at__lte=now) & ~Exists(handled.filter(kind=SlaBreach.Kind.MAXIMUM))
            | Q(sla_target_at__lte=now) & ~Exists(handled.filter(kind=SlaBreach.Kind.TARGET))
            | away
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _next_rep_for(cycle: LeadCycle) -> Rep | None:
    """The rep an SLA re-assignment hands the lead to — the switch point to routing.

    apps.routing.services.lead_route decides, excluding the rep whose clock lapsed (with
    reason sla_reassignment it moves the account itself and opens no cycle; the caller
    re-points this cycle). A lead routing puts in the claim queue stays there (None). When
    routing finds nobody (no rule, no available rep), the fallback: the least-loaded (fewest
    open lead cycles) active, in-office SDR of the current rep's team other than that rep,
    ties to the lowest id. None: nobody.
    """
    # Lazy: apps.routing.services imports apps.leads.services (lead_cycle_open) at module level.
    from apps.routing.services import lead_route

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
    # A per-rep subquery uses the partial index of open cycles (a join + GROUP BY would not).
    open_count = (
        LeadCycle.objects.filter(rep_id=OuterRef("pk")).open()
        .order_by().values("rep_id").annotate(n=Count("pk")).values("n")
    )
    candidates = (
        Rep.objects.available()
        .filter(team_id=cycle.rep.team_id, role=Rep.Role.SDR)
        .exclude(pk=cycle.rep_id)
        .annotate(open_cycles=Coalesce(Subquery(open_count), 0))
        .order_by("open_cycles", "pk")
    )
    return candidates.first()


def lead_cycle_sla_enforce(*, cycle_id: int, now: dt.datetime | None = None) -> str:
    """Act on one cycle's SLA: remind the rep past target, re-assign past maximum.

    Safe to run any number of times, from any number of workers: the cycle row is taken with
    SKIP LOCKED (a concurrent run skips it), deadlines are re-checked on the locked copy, and
    the breach row (unique per cycle, kind and assignment) is written before any side effect,
    which is sent only after commit. Returns what happened: skipped / reminded / reassigned /
    escalated (past maximum but nobody to re-assign to).
    """
    now = now or timezone.now()
    with transaction.atomic():
        cycle = (
            LeadCycle.objects.select_for_update(skip_locked=True, no_key=True)
            .filter(pk=cycle_id, state=LeadCycle.State.ASSIGNED, first_touch_at__isnull=True)
            .first()
        )
        if cycle is None:
            return "skipped"
        leave = _leave_policy(cycle, now=now)
        if leave == "paused":
            return "paused"
        if leave == "reassign":
            new_rep = _next_rep_for(cycle)
            if new_rep is None:
                return "skipped"
            old_rep = _reassign(cycle, new_rep=new_rep, now=now, note="Rep out of office (SLA policy: re-assign on leave)",
                                account_note=f"Lead {cycle.contact}: {cycle.rep} out of office")
            events.lead_change_send(
                events.LEAD_ASSIGNED,
                lambda: {**events.cycle_data(cycle), "from_rep": events.rep_data(old_rep), "reason": "sla_reassignment"},
                now,
            )
            return "reassigned"
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
            events.lead_change_send(events.LEAD_SLA_BREACHED, lambda: events.breach_data(breach, cycle), now)
            transaction.on_commit(lambda: notifications.sla_reminder(breach_id=breach.pk))
            return "reminded"
    return "skipped"


def leave_overlap(*, rep: Rep | None, since: dt.datetime, now: dt.datetime) -> dt.timedelta:
    """How much of [since, now] the rep spent out of office (their recorded leave, whole days
    in the server's zone)."""
    if rep is None or rep.out_of_office_from is None:
        return dt.timedelta(0)
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(rep.out_of_office_from, dt.time.min, tzinfo=zone)
    end = now if rep.out_of_office_to is None else min(
        now, dt.datetime.combine(rep.out_of_office_to + dt.timedelta(days=1), dt.time.min, tzinfo=zone))
    return max(dt.timedelta(0), end - max(start, since))


def _leave_policy(cycle: LeadCycle, *, now: dt.datetime) -> str:
    """Leave that costs nobody (issue 18), by the cycle's SLA policy (on_leave): while the
    rep is out of office the clock is paused ("paused") or the lead is re-assigned at once
    ("reassign"); back from leave, a paused clock's deadlines move on by the leave's overlap
    with the assignment (on the locked copy, so the checks below see them). "" otherwise."""
    rep = cycle.rep
    if rep is None:
        return ""
    policy = cycle.sla_policy
    on_leave = policy.on_leave if policy is not None else SlaPolicy.OnLeave.PAUSE
    if rep.is_out_of_office(timezone.localdate(now)):
        return "reassign" if on_leave == SlaPolicy.OnLeave.REASSIGN else "paused"
    if on_leave == SlaPolicy.OnLeave.PAUSE and cycle.assigned_at is not None:
        paused = leave_overlap(rep=rep, since=cycle.assigned_at, now=now)
        if paused:
            cycle.sla_target_at = cycle.sla_target_at and cycle.sla_target_at + paused
            cycle.sla_maximum_at = cycle.sla_maximum_at and cycle.sla_maximum_at + paused
    return ""


def _escalate(cycle: LeadCycle, *, now: dt.datetime, notifications) -> str:
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
        events.lead_change_send(events.LEAD_SLA_BREACHED, lambda: events.breach_data(breach, cycle), now)
        transaction.on_commit(lambda: notifications.sla_escalation(breach_id=breach.pk))
        return "escalated"
    _reassign(cycle, new_rep=new_rep, now=now, note="Past maximum response time")
    breach.reassigned_to = new_rep
    breach.save(update_fields=["reassigned_to"])
    events.lead_change_send(events.LEAD_SLA_BREACHED, lambda: events.breach_data(breach, cycle), now)
    events.lead_change_send(
        events.LEAD_ASSIGNED,
        lambda: {**events.cycle_data(cycle), "from_rep": events.rep_data(old_rep), "reason": "sla_reassignment"},
        now,
    )
    transaction.on_commit(lambda: notifications.sla_escalation(breach_id=breach.pk))
    return "reassigned"


def _reassign(cycle: LeadCycle, *, new_rep: Rep, now: dt.datetime, note: str, account_note: str = "") -> Rep | None:
    """Hand the cycle (and its account, and the cadence's remaining steps) to `new_rep`, with
    a new clock; the assignment event goes out with the change."""
    from apps.accounts.models import OwnershipReason
    from apps.accounts.services import account_set_owner

    old_rep = cycle.rep
    account = cycle.contact.account
    if account is not None and account.owner_id != new_rep.pk:
        account_set_owner(
            account=account, to_rep=new_rep, reason=OwnershipReason.SLA_REASSIGNMENT,
            note=account_note or f"Lead {cycle.contact} untouched past the {cycle.sla_policy or 'SLA'} maximum",
        )
    cycle.rep = new_rep
    cycle.assigned_at = now
    cycle.reassignment_count += 1
    sla_clock_start(cycle)
    cycle.save(update_fields=["rep", "assigned_at", "reassignment_count", "sla_policy", "sla_target_at", "sla_maximum_at"])
    _event(cycle, LeadCycleEvent.Kind.REASSIGNED, from_state=cycle.state, from_rep=old_rep, at=now,
           note=note)
    from apps.cadences.models import Enrolment

    # The cadence's remaining steps are the new rep's to do (their today list).
    Enrolment.objects.filter(contact_id=cycle.contact_id, state=Enrolment.State.ACTIVE).update(rep=new_rep)
    return old_rep


