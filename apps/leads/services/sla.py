"""SLA enforcement: remind the rep past the target, re-assign (or escalate) past the maximum;
and the backfill that gives bulk-loaded cycles their clock."""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.accounts.models import OwnershipReason
from apps.cadences.models import Enrolment
from apps.leads import events, notifications
from apps.leads.models import LeadCycle, LeadCycleEvent, SlaBreach, SlaPolicy
from apps.leads.services.sla_clock import lead_cycle_response_time, sla_clock_start
from apps.meetings.models import Opportunity
from apps.people.models import Rep
from sdrops import config_cache


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


def _away_under_reassign(now: dt.datetime) -> Q:
    """A rep out of office under a re-assigning leave policy hands their untouched leads on at once."""
    return Q(sla_policy__on_leave=SlaPolicy.OnLeave.REASSIGN,
             rep__in=Rep.objects.out_of_office(timezone.localdate(now)).values("pk"))


def _due_query(now: dt.datetime):
    handled = SlaBreach.objects.filter(cycle_id=OuterRef("pk"), assigned_at=OuterRef("assigned_at"))
    return (
        LeadCycle.objects.filter(state=LeadCycle.State.ASSIGNED, first_touch_at__isnull=True)
        .filter(
            Q(sla_maximum_at__lte=now) & ~Exists(handled.filter(kind=SlaBreach.Kind.MAXIMUM))
            | Q(sla_target_at__lte=now) & ~Exists(handled.filter(kind=SlaBreach.Kind.TARGET))
            | _away_under_reassign(now)
        )
        .order_by("pk")
    )


def lead_cycles_past_sla(*, now: dt.datetime | None = None) -> list[int]:
    """Untouched assigned cycles past their target (reminder due) or maximum (escalation)."""
    return list(_due_query(now or timezone.now()).values_list("pk", flat=True))


def lead_cycles_sla_enforce(*, now: dt.datetime | None = None) -> dict[str, int]:
    """The 5-minute SLA check over every due cycle: all reminders in one statement, then each
    cycle past its maximum — or whose rep's leave touches its clock — in its own transaction
    (lead_cycle_sla_enforce), with the team loads of the fallback pick read once for the
    batch. Returns {outcome: count}."""
    now = now or timezone.now()
    due = [
        (pk, past_maximum or bool(leave_overlap(since=assigned_at, now=now, leave_from=leave_from, leave_to=leave_to)))
        for pk, past_maximum, assigned_at, leave_from, leave_to in _due_query(now).annotate(
            past_maximum=Q(sla_maximum_at__lte=now),
        ).values_list("pk", "past_maximum", "assigned_at", "rep__out_of_office_from", "rep__out_of_office_to")
    ]
    outcomes: dict[str, int] = {}

    def count(result: str, n: int = 1) -> None:
        if n:
            outcomes[result] = outcomes.get(result, 0) + n

    # `past_maximum` now also means "its own transaction": the leave policy is applied there.
    reminder_ids = [pk for pk, past_maximum in due if not past_maximum]
    if reminder_ids:
        reminded = len(sla_reminders_send(cycle_ids=reminder_ids, now=now))
        count("reminded", reminded)
        count("skipped", len(reminder_ids) - reminded)
    loads = TeamLoads()
    for pk, past_maximum in due:
        if past_maximum:
            count(lead_cycle_sla_enforce(cycle_id=pk, now=now, loads=loads))
    return outcomes


def sla_reminders_send(*, cycle_ids: list[int], now: dt.datetime, deadlines_checked: bool = False) -> list[int]:
    """Record the target breach of every listed cycle still due a reminder, in one
    statement (INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING: a cycle another worker
    holds or has already reminded is left alone), and send each reminder after commit.
    `deadlines_checked`: the caller compared the deadlines itself (moved on by a paused
    leave, which the stored ones do not show). Returns the ids of the breaches written."""
    deadlines = "" if deadlines_checked else (
        "AND c.sla_target_at <= %(now)s AND NOT coalesce(c.sla_maximum_at <= %(now)s, false)")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH due AS (
                SELECT c.id, c.rep_id, c.assigned_at, c.sla_target_at FROM people_leadcycle c
                 WHERE c.id = ANY(%(ids)s) AND c.state = 'assigned' AND c.first_touch_at IS NULL {deadlines}
                 ORDER BY c.id FOR NO KEY UPDATE SKIP LOCKED
            )
            INSERT INTO people_slabreach (cycle_id, kind, rep_id, assigned_at, due_at, breached_at, note)
            SELECT id, %(kind)s, rep_id, assigned_at, sla_target_at, %(now)s, '' FROM due ORDER BY id
            ON CONFLICT DO NOTHING
            RETURNING id, cycle_id, {config_cache.version_sql()}
            """,
            {"ids": sorted(cycle_ids), "now": now, "kind": SlaBreach.Kind.TARGET},
        )
        written = cursor.fetchall()
        # The configuration version came with the rows: the receivers' cached checks
        # (webhook subscriptions, chat channels) cost nothing per reminder.
        with config_cache.checked(written[0][2] if written else None):
            for breach_id, cycle_id, _version in written:
                events.lead_change_send(events.LEAD_SLA_BREACHED, _breach_data_later(breach_id, cycle_id), now)
                transaction.on_commit(lambda breach_id=breach_id: notifications.sla_reminder(breach_id=breach_id))
    return [breach_id for breach_id, _cycle, _version in written]


def _breach_data_later(breach_id: int, cycle_id: int):
    """The webhook data of a breach, built only when an endpoint subscribes (two reads)."""
    def build():
        breach = SlaBreach.objects.get(pk=breach_id)
        return events.breach_data(breach, LeadCycle.objects.get(pk=cycle_id))
    return build


class TeamLoads:
    """Open lead cycles per available SDR, per team, read once per SLA batch (one statement
    for a team, the first time one of its cycles needs the fallback) and kept current as
    the batch moves cycles, so each pick sees what a fresh count would."""

    def __init__(self):
        self._teams: dict[int, dict[int, int]] = {}
        self._reps: dict[int, Rep] = {}

    def _load(self, team_id: int) -> dict[int, int]:
        if team_id not in self._teams:
            # A per-rep subquery uses the partial index of open cycles (a join + GROUP BY would not).
            open_count = (
                LeadCycle.objects.filter(rep_id=OuterRef("pk")).open()
                .order_by().values("rep_id").annotate(n=Count("pk")).values("n")
            )
            reps = list(
                Rep.objects.available().filter(team_id=team_id, role=Rep.Role.SDR).select_related("user")
                .annotate(open_cycles=Coalesce(Subquery(open_count), 0))
            )
            self._teams[team_id] = {rep.pk: rep.open_cycles for rep in reps}
            self._reps.update({rep.pk: rep for rep in reps})
        return self._teams[team_id]

    def least_loaded(self, *, team_id: int, excluding: int | None) -> Rep | None:
        loads = self._load(team_id)
        candidates = [(n, pk) for pk, n in loads.items() if pk != excluding]
        return self._reps[min(candidates)[1]] if candidates else None

    def moved(self, *, from_rep: Rep | None, to_rep: Rep) -> None:
        for rep, change in ((from_rep, -1), (to_rep, 1)):
            if rep is not None and rep.team_id in self._teams and rep.pk in self._teams[rep.team_id]:
                self._teams[rep.team_id][rep.pk] += change


def _next_rep_for(cycle: LeadCycle, *, loads: TeamLoads | None = None, account=None) -> Rep | None:
    """The rep an SLA re-assignment hands the lead to — the switch point to routing.

    apps.routing.services.lead_route decides, excluding the rep whose clock lapsed (with
    reason sla_reassignment it moves the account itself and opens no cycle; the caller
    re-points this cycle). A lead routing puts in the claim queue stays there (None). A
    lead routing could only record as unmatched (no account, no usable or a webmail email
    domain) is not routed: that decision would say nothing. When routing finds nobody (no
    rule, no available rep), the fallback: the least-loaded (fewest open lead cycles)
    active, in-office SDR of the current rep's team other than that rep, ties to the lowest
    id. None: nobody. `account`: the contact's account as the caller locked it.
    """
    # Lazy: apps.routing.services imports apps.leads.services (lead_cycle_open) at module level.
    from apps.routing.services import lead_route, lead_unroutable_reason

    exclude = (cycle.rep_id,) if cycle.rep_id else ()
    decision = None
    if not lead_unroutable_reason(cycle.contact):
        decision = lead_route(contact=cycle.contact, actor=None, exclude_reps=exclude, reason="sla_reassignment",
                              locked_account=account)
    rep = getattr(decision, "rep", None)
    if rep is not None and rep.pk != cycle.rep_id:
        return rep
    if getattr(decision, "outcome", "") == "queued":
        return None
    if cycle.rep is None or cycle.rep.team_id is None:
        return None
    return (loads or TeamLoads()).least_loaded(team_id=cycle.rep.team_id, excluding=cycle.rep_id)


def _cycle_locked(cycle_id: int, now: dt.datetime) -> LeadCycle | None:
    """The untouched assigned cycle, locked with its contact's account (SKIP LOCKED: a
    cycle or account another worker holds waits for the next run), in one statement with
    what enforcement reads: which breaches this assignment has, the account's owners and
    open-opportunity owner for routing, and the configuration version."""

    handled = SlaBreach.objects.filter(cycle_id=OuterRef("pk"), assigned_at=OuterRef("assigned_at"))
    open_opportunity_owner = (
        Opportunity.objects.filter(account_id=OuterRef("contact__account_id"), is_open=True)
        .order_by("-id").values("owner_id")[:1]
    )
    due = LeadCycle.objects.filter(pk=cycle_id, state=LeadCycle.State.ASSIGNED, first_touch_at__isnull=True).annotate(
        maximum_done=Exists(handled.filter(kind=SlaBreach.Kind.MAXIMUM)),
        target_done=Exists(handled.filter(kind=SlaBreach.Kind.TARGET)),
        config_version=RawSQL(config_cache.version_sql(), []),
    )
    # The lead's account is locked with the cycle (an inner join: locks cannot reach the
    # nullable side of an outer one), so routing does not lock it again. An account another
    # transaction holds makes the cycle wait for the next run, like a cycle held itself.
    cycle = (
        due.filter(contact__account__isnull=False)
        .annotate(open_opportunity_owner_id=Subquery(open_opportunity_owner))
        .select_for_update(skip_locked=True, no_key=True, of=("self", "contact__account"))
        .select_related(
            "rep__user", "sla_policy", "contact__account__owner__user", "contact__account__opportunity_owner__user",
            "contact__account__cs_owner__user",
        )
        .first()
    )
    if cycle is None:  # a lead with no account (or a cycle not due, or held): one more look
        cycle = (
            due.filter(contact__account__isnull=True)
            .select_for_update(skip_locked=True, no_key=True, of=("self",))
            .select_related("rep__user", "sla_policy", "contact")
            .first()
        )
        if cycle is not None:
            cycle.open_opportunity_owner_id = None
    return cycle


def lead_cycle_sla_enforce(*, cycle_id: int, now: dt.datetime | None = None, loads: TeamLoads | None = None) -> str:
    """Act on one cycle's SLA: remind the rep past target, re-assign past maximum.

    Safe to run any number of times, from any number of workers: the cycle row is taken with
    SKIP LOCKED (a concurrent run skips it), deadlines are re-checked on the locked copy, and
    the breach row (unique per cycle, kind and assignment) is written in the same statement
    as the re-assignment it records; side effects are sent only after commit. Returns what
    happened: skipped / reminded / reassigned / escalated (past maximum but nobody to
    re-assign to).
    """
    now = now or timezone.now()
    with transaction.atomic():
        cycle = _cycle_locked(cycle_id, now)
        if cycle is None:
            return "skipped"
        leave = _leave_policy(cycle, now=now)
        if leave == "paused":
            return "paused"
        if leave == "reassign":
            with config_cache.checked(cycle.config_version):
                return _leave_reassign(cycle, now=now, loads=loads)
        if cycle.sla_maximum_at and cycle.sla_maximum_at <= now and not cycle.maximum_done:
            with config_cache.checked(cycle.config_version):
                return _escalate(cycle, now=now, loads=loads)
        remind = cycle.sla_target_at and cycle.sla_target_at <= now and not cycle.target_done
    if remind:
        return "reminded" if sla_reminders_send(cycle_ids=[cycle_id], now=now, deadlines_checked=True) else "skipped"
    return "skipped"


def leave_overlap(*, since: dt.datetime | None, now: dt.datetime, leave_from: dt.date | None,
                  leave_to: dt.date | None) -> dt.timedelta:
    """How much of [since, now] a rep spent out of office (their recorded leave from / to, as
    whole days in the server's zone)."""
    if leave_from is None or since is None:
        return dt.timedelta(0)
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(leave_from, dt.time.min, tzinfo=zone)
    end = now if leave_to is None else min(
        now, dt.datetime.combine(leave_to + dt.timedelta(days=1), dt.time.min, tzinfo=zone))
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
        paused = leave_overlap(since=cycle.assigned_at, now=now, leave_from=rep.out_of_office_from,
                               leave_to=rep.out_of_office_to)
        if paused:
            cycle.sla_target_at = cycle.sla_target_at and cycle.sla_target_at + paused
            cycle.sla_maximum_at = cycle.sla_maximum_at and cycle.sla_maximum_at + paused
    return ""


def _routing_account(cycle: LeadCycle):
    """The lead's account as _cycle_locked locked it, ready for routing (or None)."""
    from apps.routing.services import account_locked_for_routing

    account = cycle.contact.account
    if account is not None:
        account_locked_for_routing(account, open_opportunity_owner_id=cycle.open_opportunity_owner_id,
                                   config_version=cycle.config_version)
    return account


def _leave_reassign(cycle: LeadCycle, *, now: dt.datetime, loads: TeamLoads | None) -> str:
    """The rep is away under a re-assigning policy: the lead moves on at once, no breach
    (the away rep breached nothing)."""
    new_rep = _next_rep_for(cycle, loads=loads, account=_routing_account(cycle))
    if new_rep is None:
        return "skipped"
    old_rep = cycle.rep
    if not _reassign(cycle, new_rep=new_rep, now=now, note="Rep out of office (SLA policy: re-assign on leave)",
                     account_note=f"Lead {cycle.contact}: {cycle.rep} out of office"):
        return "skipped"
    if loads is not None:
        loads.moved(from_rep=old_rep, to_rep=new_rep)
    events.lead_change_send(
        events.LEAD_ASSIGNED,
        lambda: {**events.cycle_data(cycle), "from_rep": events.rep_data(old_rep), "reason": "sla_reassignment"},
        now,
    )
    return "reassigned"


def _reassign(cycle: LeadCycle, *, new_rep: Rep, now: dt.datetime, note: str, account_note: str,
              breach: SlaBreach | None = None) -> bool:
    """Hand the cycle to `new_rep` with a new clock — the one way an SLA re-assignment is
    written, on leave or past the maximum: the account moves through account_owners_set
    (the one ownership path, with its receivers: follow-up tasks, the webhook outbox),
    then one statement (_cycle_sla_write) records `breach` if given, re-points the cycle,
    writes its REASSIGNED event (actor: the system; why: `note`) and hands the lead's active
    cadence enrolment over. Returns whether the cycle moved (not when another run already
    recorded the breach)."""
    # Lazy: apps.accounts.services reaches this module through the routing services.
    from apps.accounts.services import account_owners_set

    old_rep = cycle.rep
    account = cycle.contact.account
    if account is not None and account.owner_id != new_rep.pk:
        account_owners_set(changes=[(account.pk, new_rep.pk)], reason=OwnershipReason.SLA_REASSIGNMENT,
                           note=account_note)
        account.owner = new_rep
    previous_assigned_at, target_due = cycle.assigned_at, cycle.sla_target_at
    cycle.rep = new_rep
    cycle.assigned_at = now
    cycle.reassignment_count += 1
    sla_clock_start(cycle)
    return _cycle_sla_write(cycle, now=now, breach=breach, target_due=target_due,
                            move=(previous_assigned_at, old_rep, note))


def _escalate(cycle: LeadCycle, *, now: dt.datetime, loads: TeamLoads | None) -> str:
    old_rep = cycle.rep
    account = _routing_account(cycle)
    policy = cycle.sla_policy
    new_rep = _next_rep_for(cycle, loads=loads, account=account) if policy is None or policy.reassign else None
    breach = SlaBreach(cycle=cycle, kind=SlaBreach.Kind.MAXIMUM, rep=old_rep, assigned_at=cycle.assigned_at,
                       due_at=cycle.sla_maximum_at, breached_at=now)
    if new_rep is None:
        breach.note = "No available rep to re-assign to; manager notified."
        if not _cycle_sla_write(cycle, now=now, breach=breach, target_due=cycle.sla_target_at):
            return "skipped"
        events.lead_change_send(events.LEAD_SLA_BREACHED, lambda: events.breach_data(breach, cycle), now)
        transaction.on_commit(lambda: notifications.sla_escalation(breach_id=breach.pk))
        return "escalated"
    breach.reassigned_to = new_rep
    if not _reassign(cycle, new_rep=new_rep, now=now, note="Past maximum response time", breach=breach,
                     account_note=f"Lead {cycle.contact} untouched past the {cycle.sla_policy or 'SLA'} maximum"):
        return "skipped"
    if loads is not None:
        loads.moved(from_rep=old_rep, to_rep=new_rep)
    events.lead_change_send(events.LEAD_SLA_BREACHED, lambda: events.breach_data(breach, cycle), now)
    events.lead_change_send(
        events.LEAD_ASSIGNED,
        lambda: {**events.cycle_data(cycle), "from_rep": events.rep_data(old_rep), "reason": "sla_reassignment"},
        now,
    )
    transaction.on_commit(lambda: notifications.sla_escalation(breach_id=breach.pk))
    return "reassigned"


def _cycle_sla_write(cycle: LeadCycle, *, now: dt.datetime, breach: SlaBreach | None = None, target_due=None,
                     move: tuple[dt.datetime | None, Rep | None, str] | None = None) -> bool:
    """One statement for what SLA enforcement writes about a cycle, each part optional:

    - `breach`: the maximum breach, and the target one if this assignment never got its
      reminder (a lead found past both deadlines gets the escalation, not also a stale
      reminder), ON CONFLICT DO NOTHING — a breach already recorded means another run did it;
    - `move` = (assigned_at before, rep before, why): the re-assignment the caller set on
      `cycle` (new rep, assigned_at, count, clock) — the cycle re-pointed, its REASSIGNED
      event, and the lead's active cadence enrolment handed over (its remaining steps are
      the new rep's today list). With a breach, only if the maximum breach was written.

    Returns whether the breach (else the move) was written."""
    params = {"cycle": cycle.pk, "now": now, "maximum": SlaBreach.Kind.MAXIMUM, "target": SlaBreach.Kind.TARGET}
    ctes, result = [], ""
    if breach is not None:
        params.update({
            "assigned_at": breach.assigned_at, "rep": breach.rep_id, "max_due": breach.due_at,
            "target_due": target_due, "reassigned_to": breach.reassigned_to_id, "note": breach.note,
            "target_note": "Found past the maximum; escalated without a separate reminder.",
        })
        ctes.append("""written AS (
                INSERT INTO people_slabreach (cycle_id, kind, rep_id, assigned_at, due_at, breached_at, reassigned_to_id, note)
                SELECT %(cycle)s, k.kind, %(rep)s, %(assigned_at)s, k.due_at, %(now)s, k.reassigned_to, k.note
                  FROM (VALUES (%(maximum)s, %(max_due)s::timestamptz, %(reassigned_to)s::bigint, %(note)s),
                               (%(target)s, coalesce(%(target_due)s::timestamptz, %(max_due)s::timestamptz), NULL::bigint,
                                %(target_note)s)) AS k(kind, due_at, reassigned_to, note)
                ON CONFLICT DO NOTHING
                RETURNING id, kind
            )""")
        result = "SELECT id FROM written WHERE kind = %(maximum)s"
    if move is not None:
        previous_assigned_at, old_rep, why = move
        params.update({
            "previous_assigned_at": previous_assigned_at,
            "new_rep": cycle.rep_id, "new_assigned_at": cycle.assigned_at, "count": cycle.reassignment_count,
            "policy": cycle.sla_policy_id, "new_target": cycle.sla_target_at, "new_maximum": cycle.sla_maximum_at,
            "old_rep": getattr(old_rep, "pk", None), "state": cycle.state, "kind": LeadCycleEvent.Kind.REASSIGNED,
            "why": why[:255], "contact": cycle.contact_id, "active": Enrolment.State.ACTIVE,
        })
        gate = "AND EXISTS (SELECT 1 FROM written WHERE kind = %(maximum)s)" if breach is not None else ""
        ctes.append(f"""moved AS (
                UPDATE people_leadcycle SET rep_id = %(new_rep)s, assigned_at = %(new_assigned_at)s,
                       reassignment_count = %(count)s, sla_policy_id = %(policy)s, sla_target_at = %(new_target)s,
                       sla_maximum_at = %(new_maximum)s
                 WHERE id = %(cycle)s AND assigned_at IS NOT DISTINCT FROM %(previous_assigned_at)s {gate}
                RETURNING id
            ), event AS (
                INSERT INTO people_leadcycleevent
                       (cycle_id, kind, from_state, to_state, from_rep_id, to_rep_id, actor_id, occurred_at, note)
                SELECT id, %(kind)s, %(state)s, %(state)s, %(old_rep)s, %(new_rep)s, NULL, %(now)s, %(why)s FROM moved
            ), handed_over AS (
                UPDATE {Enrolment._meta.db_table} SET rep_id = %(new_rep)s
                 WHERE contact_id = %(contact)s AND state = %(active)s AND EXISTS (SELECT 1 FROM moved)
            )""")
        result = result or "SELECT id FROM moved"
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(ctes)} {result}", params)  # noqa: S608 (table names from the models)
        row = cursor.fetchone()
    if row is None:
        return False
    if breach is not None:
        breach.pk = row[0]
        breach._state.adding = False
    return True
