"""Distributions: plan (snake deal of the best pool accounts to reps with room), preview and
commit, or run both in one transaction."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import OwnershipReason
from apps.accounts.services import account_owners_set
from apps.people.actors import actor_user
from apps.people.models import Rep
from apps.routing import selectors
from apps.routing.models import (
    Distribution,
    DistributionLine,
)
from apps.routing.services.common import DistributionStale

logger = logging.getLogger(__name__)


@dataclass
class PlanRow:
    rep: Rep
    capacity: int
    book_before: int
    adds: list[tuple[int, str, int]] = field(default_factory=list)  # (account id, tier, score)

    @property
    def book_after(self) -> int:
        return self.book_before + len(self.adds)

    def summary(self) -> dict:
        tiers: dict[str, int] = defaultdict(int)
        for _pk, tier, _score in self.adds:
            tiers[tier or "-"] += 1
        scores = [s for _pk, _t, s in self.adds]
        return {
            "rep_id": self.rep.pk, "rep": self.rep.owner_name, "segment": self.rep.segment, "capacity": self.capacity,
            "book_before": self.book_before, "adds": len(self.adds), "tiers": dict(sorted(tiers.items())),
            "book_after": self.book_after, "average_score": round(sum(scores) / len(scores), 1) if scores else None,
        }


def _eligible_sdrs(*, team=None, segment: str | None = None, lock: bool = False):
    qs = Rep.objects.filter(role=Rep.Role.SDR, active=True)
    if team is not None:
        qs = qs.filter(team=team)
    if segment:
        qs = qs.filter(segment=segment)
    if lock:
        # Reps first, ascending: two distributions over the same reps run one after the other.
        list(Rep.objects.select_for_update(no_key=True).filter(pk__in=qs.values("pk")).order_by("pk").values_list("pk"))
    return list(selectors.reps_with_capacity(qs).order_by("pk"))


def snake_deal(rows: list[PlanRow], slots: dict[int, int], accounts: list[tuple[int, str, int]]) -> None:
    """Deal best-first accounts in a snake draft over reps ordered by open slots (most
    first): 1..n, n..1, 1..n… so every rep gets a fair mix of tiers and scores."""
    order = sorted(rows, key=lambda r: (-slots[r.rep.pk], r.rep.pk))
    it = iter(accounts)
    forward = True
    while True:
        active = [r for r in order if len(r.adds) < slots[r.rep.pk]]
        if not active:
            return
        for row in active if forward else reversed(active):
            try:
                row.adds.append(next(it))
            except StopIteration:
                return
        forward = not forward


def distribution_plan(*, team=None, segment: str | None = None, now: dt.datetime | None = None, lock: bool = False,
                      play=None) -> list[PlanRow]:
    """Who gets which pool accounts: each eligible SDR filled up to effective capacity from
    the pool of their segment (an SDR with no segment draws from every segment, after the
    others). The pool is the enrolled accounts, or a targeted play's set (`play`). A fixed
    number of queries per segment, whatever the number of accounts."""
    now = now or timezone.now()
    on = selectors.today(now)
    rows_by_segment: dict[str, list[PlanRow]] = defaultdict(list)
    slots: dict[int, int] = {}
    all_rows = []
    for rep in _eligible_sdrs(team=team, segment=segment, lock=lock):
        capacity = selectors.effective_capacity(rep=rep, base_capacity=rep.base_capacity, on=on)
        row = PlanRow(rep=rep, capacity=capacity, book_before=rep.load)
        all_rows.append(row)
        slots[rep.pk] = max(0, capacity - rep.load)
        if slots[rep.pk]:
            rows_by_segment[rep.segment].append(row)
    taken: set[int] = set()
    for seg in sorted(rows_by_segment, key=lambda s: (s == "", s)):
        rows = rows_by_segment[seg]
        need = sum(slots[r.rep.pk] for r in rows)
        pool = selectors.pool_accounts(segment=seg or None, now=now, play=play)
        if not seg and taken:
            pool = pool.exclude(pk__in=list(taken))
        if lock:
            pool = pool.select_for_update(no_key=True, skip_locked=True, of=("self",))
        accounts = list(pool.values_list("pk", "tier", "total_score")[:need])
        taken.update(pk for pk, _t, _s in accounts)
        snake_deal(rows, slots, accounts)
    return all_rows


def _changes(rows: list[PlanRow]) -> list[tuple[int, int]]:
    return [(pk, row.rep.pk) for row in rows for pk, _t, _s in row.adds]


def _save_distribution(*, rows, status, team, segment, actor, note="", play=None) -> Distribution:
    distribution = Distribution.objects.create(
        status=status, team=team, segment=segment or "", summary=[r.summary() for r in rows],
        created_by=actor_user(actor), note=note, play=play,
        committed_at=timezone.now() if status == Distribution.Status.COMMITTED else None,
    )
    DistributionLine.objects.bulk_create(
        [DistributionLine(distribution=distribution, account_id=pk, rep=row.rep, tier=tier, score=score)
         for row in rows for pk, tier, score in row.adds],
        batch_size=5000,
    )
    return distribution


def _event_note(distribution: Distribution) -> str:
    """The ownership events' note: a targeted play says so on every account it handed out."""
    if distribution.play_id:
        return f"Distribution {distribution.pk}, targeted play “{distribution.play}”"
    return f"Distribution {distribution.pk}"


def distribution_preview(*, actor=None, team=None, segment: str | None = None, play=None) -> Distribution:
    """Plan a distribution and store it as a preview: committing it assigns exactly this.
    With `play`, a targeted play: it hands out the play's set and is recorded as such."""
    with transaction.atomic():
        rows = distribution_plan(team=team, segment=segment, play=play)
        return _save_distribution(rows=rows, status=Distribution.Status.PREVIEW, team=team, segment=segment, actor=actor,
                                  play=play)


def distribution_transition(*, distribution: Distribution, to_status: str, **fields) -> Distribution:
    """The one way a distribution's status changes, on the caller's locked copy: refuses a move
    Distribution.TRANSITIONS does not allow (IllegalTransition) before anything is written. Its
    audit is the ownership events the commit writes (one per account, reason distribution)
    and the refusal note."""
    Distribution.TRANSITIONS.check(distribution.status, to_status)
    for name, value in fields.items():
        setattr(distribution, name, value)
    distribution.status = to_status
    distribution.save(update_fields=["status", *fields])
    return distribution


def distribution_commit(*, distribution: Distribution, actor=None) -> Distribution:
    """Assign exactly what the preview showed, or refuse (status refused, DistributionStale)
    if any planned account left the pool or any rep's book changed since."""
    problem = ""
    with transaction.atomic():
        locked = Distribution.objects.select_for_update().get(pk=distribution.pk)
        if locked.status == Distribution.Status.COMMITTED:
            return locked  # Committing twice does no harm.
        if locked.status != Distribution.Status.PREVIEW:
            raise DistributionStale("This preview was refused because the pool changed; preview again.")
        lines = list(locked.lines.values_list("account_id", "rep_id"))
        rep_ids = sorted({r["rep_id"] for r in locked.summary})
        list(Rep.objects.select_for_update(no_key=True).filter(pk__in=rep_ids).order_by("pk").values_list("pk"))
        loads = dict(selectors.reps_with_capacity(Rep.objects.filter(pk__in=rep_ids)).values_list("pk", "load"))
        changed = [r["rep"] for r in locked.summary if loads.get(r["rep_id"]) != r["book_before"]]
        account_ids = sorted(pk for pk, _rep in lines)
        available = set(
            selectors.pool_accounts(segment=None, now=timezone.now(), play=locked.play)
            .filter(pk__in=account_ids)
            .select_for_update(no_key=True, of=("self",))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        gone = len(account_ids) - len(available)
        if gone or changed:
            parts = []
            if gone:
                parts.append(f"{gone} planned account(s) are no longer in the pool")
            if changed:
                parts.append(f"the book of {', '.join(changed[:5])} changed")
            problem = "The pool changed since the preview: " + " and ".join(parts) + ". Preview again."
            distribution_transition(distribution=locked, to_status=Distribution.Status.REFUSED, note=problem[:300])
        else:
            account_owners_set(changes=lines, reason=OwnershipReason.DISTRIBUTION, actor=actor,
                               note=_event_note(locked))
            distribution_transition(distribution=locked, to_status=Distribution.Status.COMMITTED,
                                    committed_at=timezone.now())
    if problem:
        raise DistributionStale(problem)
    return locked


def distribution_run(*, actor=None, team=None, segment: str | None = None, dry_run: bool = False,
                     play=None) -> Distribution | list[PlanRow]:
    """Plan and commit in one transaction (the schedule and `distribute`). Reps are locked
    first and pool rows are taken with SKIP LOCKED, so parallel runs never hand one account
    twice or push a rep over capacity. A dry run returns the plan and writes nothing."""
    if dry_run:
        return distribution_plan(team=team, segment=segment, play=play)
    with transaction.atomic():
        rows = distribution_plan(team=team, segment=segment, lock=True, play=play)
        distribution = _save_distribution(rows=rows, status=Distribution.Status.COMMITTED, team=team, segment=segment, actor=actor,
                                          play=play)
        account_owners_set(changes=_changes(rows), reason=OwnershipReason.DISTRIBUTION, actor=actor,
                           note=_event_note(distribution))
    return distribution
