"""Every write of routing: lead routing, distributions, retrievals, returns and swaps, the
first-come queue and the recorded rules of engagement.

Owner changes always go through apps.accounts.services.account_owners_set (one set-based
call per job, so query counts stay flat), in the same transaction as this app's own rows.
Locks: reps before accounts, each in ascending id order; queues and retrieval skip rows
another transaction holds.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from apps.accounts.domains import email_domain, is_webmail, normalize_domain, registrable_domain
from apps.accounts.models import Account, DomainAlias, OwnershipReason
from apps.accounts.selectors import accounts_visible_to, webmail_extra_domains
from apps.accounts.services import account_create, account_owners_set
from apps.leads.models import LeadType
from apps.leads.selectors import lead_cycle_current
from apps.leads.services import lead_cycle_open
from apps.people.actors import actor_scope_user, actor_user
from apps.people.models import Contact, Rep
from apps.routing import selectors
from apps.routing.models import (
    AccountRest,
    Distribution,
    DistributionLine,
    QueueItem,
    ReturnOutcome,
    ReturnReason,
    ReturnRequest,
    RoutingDecision,
    RoutingRule,
    RoutingRuleMember,
    RulesChange,
    Strategy,
)

logger = logging.getLogger(__name__)

SKIP_LABELS = {
    selectors.SKIP_INACTIVE: "inactive",
    selectors.SKIP_OUT_OF_OFFICE: "out of office",
    selectors.SKIP_UNRAMPED: "not ramped yet",
    selectors.SKIP_AT_CAPACITY: "at capacity",
    selectors.SKIP_EXCLUDED: "excluded (e.g. the rep whose SLA lapsed)",
    selectors.SKIP_NOT_POD: "not this account's pod",
    "zero_weight": "routing weight 0",
}


class RoutingError(ValidationError):
    """A routing rule cannot be applied as asked (message is user-facing)."""


class DistributionStale(ValidationError):
    """The pool or the books changed since the preview; preview again."""


# =========================================================================================
# Rules of engagement: every change recorded
# =========================================================================================


def _plain(value):
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, int | float | str | bool | dict):
        return value
    return str(value)


def rules_save(*, instance, actor=None, fields: list[str] | None = None):
    """Save a rules-of-engagement, capacity or routing-rule object and record what changed
    (field → [old, new]) in RulesChange, in one transaction."""
    model = type(instance)
    names = fields or [f.attname for f in model._meta.concrete_fields if not f.primary_key]
    with transaction.atomic():
        old = model.objects.filter(pk=instance.pk).values(*names).first() if instance.pk else None
        instance.full_clean()
        instance.save()
        new = {name: getattr(instance, name) for name in names}
        if old is None:
            changes = {name: [None, _plain(value)] for name, value in new.items()}
            action = "added"
        else:
            changes = {name: [_plain(old[name]), _plain(new[name])] for name in names if _plain(old[name]) != _plain(new[name])}
            action = "changed"
        if changes:
            RulesChange.objects.create(
                object_type=model._meta.verbose_name, object_id=instance.pk, object_repr=str(instance)[:200],
                action=action, changes=changes, actor=actor_user(actor),
            )
    return instance


def rules_delete(*, instance, actor=None) -> None:
    with transaction.atomic():
        RulesChange.objects.create(
            object_type=type(instance)._meta.verbose_name, object_id=instance.pk, object_repr=str(instance)[:200],
            action="deleted", changes={}, actor=actor_user(actor),
        )
        instance.delete()


# =========================================================================================
# Lead-to-account matching and routing
# =========================================================================================


@dataclass
class _Pick:
    member: RoutingRuleMember | None
    skipped: list[dict] = field(default_factory=list)
    note: str = ""


def _skip_entry(rep: Rep, reason: str) -> dict:
    return {"rep_id": rep.pk, "rep": rep.owner_name, "reason": reason}


def _eligible(members, *, on, exclude) -> tuple[list[RoutingRuleMember], list[dict]]:
    eligible, skipped = [], []
    for member in members:
        reason = selectors.rep_skip_reason(
            rep=member.rep, base_capacity=member.base_capacity, load=member.load, on=on, exclude=exclude
        )
        if reason:
            skipped.append(_skip_entry(member.rep, reason))
        else:
            eligible.append(member)
    return eligible, skipped


def _pick_rotation(rule: RoutingRule, members, *, on, exclude, weighted: bool) -> _Pick:
    """Smooth weighted round robin (nginx): each eligible member gains its weight, the
    highest is picked and loses the round's total. Only eligible members take part, so a rep
    back from leave rejoins the rotation where they left it — no burst of catch-up leads.
    Plain round robin is the same with every weight 1. The state is stored per member."""
    eligible, skipped = _eligible(members, on=on, exclude=exclude)
    if weighted:
        for member in [m for m in eligible if m.weight == 0]:
            skipped.append(_skip_entry(member.rep, "zero_weight"))
        eligible = [m for m in eligible if m.weight > 0]
    if not eligible:
        return _Pick(None, skipped)
    weight = (lambda m: m.weight) if weighted else (lambda m: 1)
    total = sum(weight(m) for m in eligible)
    for member in eligible:
        member.current_weight += weight(member)
    chosen = max(eligible, key=lambda m: (m.current_weight, -m.order, -m.pk))
    chosen.current_weight -= total
    # Reps before the chosen one in the rotation who were eligible were passed over by
    # turn, not skipped; only ineligible reps are recorded.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE routing_routingrulemember AS m SET current_weight = v.w "
            "FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, w) WHERE m.id = v.id",
            [[m.pk for m in eligible], [m.current_weight for m in eligible]],
        )
    return _Pick(chosen, skipped)


def _pick_capacity(members, *, on, exclude) -> _Pick:
    """The rep with the lowest load ÷ effective capacity, so books even out — but a rep who
    received two of the rule's last n leads (n = the reps taking part) waits a turn while
    another has room. A rep back from leave with a small book thus catches up at about two
    leads a round instead of taking every lead in a burst."""
    eligible, skipped = _eligible(members, on=on, exclude=exclude)
    if not eligible:
        return _Pick(None, skipped)

    def ratio(m):
        capacity = selectors.effective_capacity(rep=m.rep, base_capacity=m.base_capacity, on=on)
        return (m.load / capacity, m.order, m.pk)

    ranked = sorted(eligible, key=ratio)
    recent = list(getattr(ranked[0], "recent_reps", None) or [])[: len(eligible)]
    held_back = {rep_id for rep_id in recent if recent.count(rep_id) >= 2}
    chosen = next((m for m in ranked if m.rep_id not in held_back), ranked[0])
    note = f"lowest load ÷ capacity ({chosen.load} open)"
    if chosen is not ranked[0]:
        lowest = ranked[0]
        note += (f"; {lowest.rep} (lower) had {recent.count(lowest.rep_id)} of the rule's last {len(recent)} leads "
                 "and waits a turn")
    return _Pick(chosen, skipped, note=note)


def _pick_territory(members, *, on, exclude) -> _Pick:
    eligible, skipped = _eligible(members, on=on, exclude=exclude)
    return _Pick(eligible[0] if eligible else None, skipped)


def _pick_pod(members, *, account: Account, on, exclude) -> _Pick:
    """The SDR paired with the account's AE (opportunity owner, else CSM); with no pod
    partner available, the least-loaded eligible rep of the rule."""
    ae_ids = {pk for pk in (account.opportunity_owner_id, account.cs_owner_id) if pk}
    partner_ids = (
        set(Rep.ae_partners.through.objects.filter(to_rep_id__in=ae_ids).values_list("from_rep_id", flat=True))
        if ae_ids
        else set()
    )
    eligible, skipped = _eligible(members, on=on, exclude=exclude)
    pod = [m for m in eligible if m.rep_id in partner_ids]
    if pod:
        skipped += [_skip_entry(m.rep, selectors.SKIP_NOT_POD) for m in eligible if m.rep_id not in partner_ids]
        return _Pick(pod[0], skipped, note="the account's pod partner")
    pick = _pick_capacity([m for m in members if m in eligible], on=on, exclude=exclude)
    return _Pick(pick.member, skipped, note="no pod partner available; " + pick.note)


def _describe_skips(skipped: list[dict]) -> str:
    if not skipped:
        return ""
    return " Skipped: " + "; ".join(f"{s['rep']} ({SKIP_LABELS.get(s['reason'], s['reason'])})" for s in skipped) + "."


def _lead_account(*, contact: Contact, account_domain: str, actor) -> tuple[Account | None, bool, str]:
    """The account a lead belongs to, locked: (account, created, why-unmatched)."""
    if contact.account_id:
        account = Account.objects.select_for_update(no_key=True, of=("self",)).select_related(
            "owner", "opportunity_owner", "cs_owner"
        ).get(pk=contact.account_id)
        return account, False, ""
    try:
        domain = normalize_domain(account_domain) if account_domain else email_domain(contact.email)
    except ValidationError as error:
        return None, False, f"No usable domain: {' '.join(error.messages)}"
    if not account_domain and is_webmail(domain):
        return None, False, f"{domain} is a webmail domain and the lead has no account domain."
    keys = {domain, registrable_domain(domain)}
    candidates = list(
        Account.objects.select_for_update(no_key=True, of=("self",))
        .select_related("owner", "opportunity_owner", "cs_owner")
        # A UNION of two index look-ups: an OR across the alias join made PostgreSQL scan every account.
        .filter(pk__in=RawSQL(
            "SELECT id FROM accounts_account WHERE matching_key = ANY(%s) "
            "UNION SELECT account_id FROM accounts_domainalias WHERE matching_key = ANY(%s)",
            [sorted(keys), sorted(keys)],
        ))
        .order_by("pk")
    )
    if candidates:
        # An account that keeps its subdomain (shop.example.co.uk) beats its parent domain.
        candidates.sort(key=lambda a: (a.matching_key != domain, a.pk))
        return candidates[0], False, ""
    if is_webmail(domain, webmail_extra_domains()):
        return None, False, f"{domain} is a webmail domain and the lead has no account domain."
    root = registrable_domain(domain)
    name = root.split(".", 1)[0].replace("-", " ").title() or root
    try:
        account = account_create(name=name, domain=root, actor=actor)
    except ValidationError as error:
        return None, False, f"Could not create an account for {root}: {' '.join(error.messages)}"
    return account, True, ""


def _route_account(
    *,
    account: Account,
    contact: Contact | None,
    source: str,
    lead_type: str,
    exclude: frozenset[int],
    reason: str,
    actor,
    on: dt.date,
    created: bool = False,
) -> tuple[RoutingDecision, Rep | None, bool]:
    """Decide who gets `account` (and its lead); move the account when a rule picks a rep.
    Returns (unsaved decision, rep for the lead, whether the account moved). An account
    `created` for this lead has no opportunity yet, so none is looked up."""
    decision = RoutingDecision(contact=contact, account=account, reason=reason, actor=actor_user(actor))
    opportunity_owner = None if created else selectors.account_open_opportunity_owner(account=account)
    if opportunity_owner is not None and selectors.rep_available(rep=opportunity_owner, on=on, exclude=exclude):
        decision.outcome, decision.rep = RoutingDecision.Outcome.OPPORTUNITY_OWNER, opportunity_owner
        decision.explanation = f"{account} has an open opportunity owned by {opportunity_owner}."
        return decision, opportunity_owner, False
    if account.status == Account.Status.CUSTOMER:
        for candidate in (account.opportunity_owner, account.cs_owner):
            if candidate is not None and candidate.role != Rep.Role.SDR and selectors.rep_available(rep=candidate, on=on, exclude=exclude):
                decision.outcome, decision.rep = RoutingDecision.Outcome.CUSTOMER_OWNER, candidate
                decision.explanation = f"{account} is a customer: its lead goes to its AE/CSM {candidate}, never to an SDR."
                return decision, candidate, False
        decision.outcome = RoutingDecision.Outcome.NO_REP
        decision.explanation = f"{account} is a customer with no available AE/CSM; ops must assign the lead."
        return decision, None, False
    owner = account.owner
    if owner is not None and selectors.rep_available(rep=owner, on=on, exclude=exclude):
        decision.outcome, decision.rep = RoutingDecision.Outcome.CURRENT_OWNER, owner
        decision.explanation = f"{account} is in {owner}'s book."
        return decision, owner, False
    if owner is not None:
        if owner.pk in exclude:
            why = selectors.SKIP_EXCLUDED
        elif not owner.active:
            why = selectors.SKIP_INACTIVE
        else:
            why = selectors.SKIP_OUT_OF_OFFICE
        decision.skipped = [_skip_entry(owner, why)]
    candidate = selectors.routing_rule_for(account=account, source=source, lead_type=lead_type)
    if candidate is None:
        decision.outcome = RoutingDecision.Outcome.NO_REP
        decision.explanation = "No routing rule matches (add a fallback rule with no conditions); ops must assign it."
        return decision, None, False
    rule = candidate.rule
    decision.rule, decision.strategy = rule, rule.strategy
    if rule.strategy == Strategy.QUEUE and reason == OwnershipReason.SLA_REASSIGNMENT:
        # A lead whose clock already lapsed must not wait again for someone to claim it.
        decision.outcome = RoutingDecision.Outcome.NO_REP
        decision.explanation = f"Rule “{rule}” is a claim queue; an SLA re-assignment needs a rep now."
        return decision, None, False
    if rule.strategy == Strategy.QUEUE:
        decision.outcome = RoutingDecision.Outcome.QUEUED
        decision.explanation = f"Rule “{rule}”: queued for its reps to claim, oldest first."
        return decision, None, False
    if rule.strategy in (Strategy.ROUND_ROBIN, Strategy.WEIGHTED_ROUND_ROBIN):
        pick = _pick_rotation(rule, candidate.members, on=on, exclude=exclude, weighted=rule.strategy == Strategy.WEIGHTED_ROUND_ROBIN)
    elif rule.strategy == Strategy.CAPACITY_AWARE:
        pick = _pick_capacity(candidate.members, on=on, exclude=exclude)
    elif rule.strategy == Strategy.POD:
        pick = _pick_pod(candidate.members, account=account, on=on, exclude=exclude)
    else:
        pick = _pick_territory(candidate.members, on=on, exclude=exclude)
    decision.skipped = decision.skipped + pick.skipped
    strategy_label = Strategy(rule.strategy).label
    if pick.member is None:
        decision.outcome = RoutingDecision.Outcome.NO_REP
        decision.explanation = f"Rule “{rule}” ({strategy_label}): no rep available.{_describe_skips(decision.skipped)}"
        return decision, None, False
    rep = pick.member.rep
    decision.outcome, decision.rep = RoutingDecision.Outcome.RULE, rep
    extra = f" ({pick.note})" if pick.note else ""
    decision.explanation = f"Rule “{rule}” ({strategy_label}) picked {rep}{extra}.{_describe_skips(decision.skipped)}"
    account_owners_set(changes=[(account.pk, rep.pk)], reason=reason, actor=actor, note=f"Routing rule “{rule}”")
    return decision, rep, True


def lead_route(
    *,
    contact: Contact,
    actor=None,
    exclude_reps=(),
    reason: str = OwnershipReason.SIGNAL,
    lead_type: str = LeadType.INBOUND,
    account_domain: str = "",
    open_cycle: bool | None = None,
) -> RoutingDecision:
    """Route one lead: match it to its account, pick its rep, record why. Stable API.

    Matching: the contact's account if it has one, else the account whose domain or alias
    has the lead email's matching key (an account that keeps its subdomain wins), else a
    new account from the email's registrable domain. A webmail address needs
    `account_domain`; without it the lead goes to the unmatched queue (outcome unmatched).

    Then, in order: an open opportunity's owner; a customer's AE/CSM (never an SDR); the
    account's current owner if active and not out of office; otherwise the first matching
    routing rule's strategy picks a rep and the account moves to them with ownership
    reason `reason` (signal by default; sla_reassignment for SLA re-assignment).

    `exclude_reps` (reps or ids) are never picked: the SLA job passes the rep whose clock
    lapsed. A lead cycle is opened (assigned_at = now) for the chosen rep unless
    `open_cycle` is False; by default it is False only for reason sla_reassignment, where
    the caller re-points its existing cycle at `decision.rep`.

    Returns the saved RoutingDecision (`rep` is None when queued or left for ops).
    """
    exclude = frozenset(getattr(r, "pk", r) for r in exclude_reps)
    if open_cycle is None:
        open_cycle = reason != OwnershipReason.SLA_REASSIGNMENT
    on = selectors.today()
    with transaction.atomic():
        account, created, unmatched = _lead_account(contact=contact, account_domain=account_domain, actor=actor)
        if account is None:
            return RoutingDecision.objects.create(
                contact=contact, outcome=RoutingDecision.Outcome.UNMATCHED, reason=reason, explanation=unmatched,
                actor=actor_user(actor),
            )
        if contact.account_id != account.pk:
            Contact.objects.filter(pk=contact.pk).update(account=account)
            contact.account = account
        decision, rep, _moved = _route_account(
            account=account, contact=contact, source=contact.source, lead_type=lead_type,
            exclude=exclude, reason=reason, actor=actor, on=on, created=created,
        )
        decision.account_created = created
        if created:
            decision.explanation = f"New account {account} created from {account.domain}. " + decision.explanation
        decision.save()
        if decision.outcome == RoutingDecision.Outcome.QUEUED:
            QueueItem.objects.get_or_create(contact=contact, claimed_at=None, defaults={"rule": decision.rule, "account": account})
        if rep is not None and open_cycle:
            lead_cycle_open(contact=contact, rep=rep, lead_type=lead_type, source=contact.source)
    return decision


def account_route(*, account: Account, actor=None, reason: str = OwnershipReason.SIGNAL, exclude_reps=()) -> RoutingDecision:
    """Route an account with a new timing signal (no lead) through the same precedence and rules."""
    exclude = frozenset(getattr(r, "pk", r) for r in exclude_reps)
    with transaction.atomic():
        locked = Account.objects.select_for_update(no_key=True, of=("self",)).select_related(
            "owner", "opportunity_owner", "cs_owner"
        ).get(pk=account.pk)
        decision, _rep, _moved = _route_account(
            account=locked, contact=None, source="", lead_type=LeadType.OUTBOUND,
            exclude=exclude, reason=reason, actor=actor, on=selectors.today(),
        )
        decision.save()
    return decision


def accounts_route_signalled(*, account_ids, now: dt.datetime | None = None) -> list[RoutingDecision]:
    """Route pool accounts that a new timing signal put in the Good Place (an ICP fit, in
    market) to a rep with capacity now, through the routing rules (ownership reason signal),
    instead of leaving them for the next distribution. Accounts owned, resting, held for
    data fixing, disqualified, customers or not in the Good Place stay where they are, so a
    second run routes nothing. Each account is routed in its own transaction."""
    from apps.icps.models import Quadrant

    now = now or timezone.now()
    ids = sorted({int(pk) for pk in account_ids})
    if not ids:
        return []
    candidates = (
        selectors.pool_accounts(segment=None, now=now)
        .filter(pk__in=ids, quadrant=Quadrant.GOOD_PLACE)
        .values_list("pk", flat=True)
    )
    decisions = []
    for pk in list(candidates):
        with transaction.atomic():
            # Still in the pool under the lock: a distribution or a lead may have taken it.
            account = Account.objects.select_for_update(no_key=True, of=("self",)).filter(pk=pk, owner__isnull=True).first()
            if account is not None:
                decisions.append(account_route(account=account, reason=OwnershipReason.SIGNAL))
    return decisions


def signalled_accounts_route_later(account_ids: list[int]) -> None:
    """Hooked to apps.icps (runs after a signal commits): queue the routing of the accounts."""
    from django_q.tasks import async_task

    async_task("apps.routing.tasks.route_signalled_accounts", list(account_ids), task_name="route signalled accounts")


def pick_rep(*, account: Account, source: str = "", lead_type: str = LeadType.INBOUND, exclude_reps=()) -> Rep | None:
    """Preview only: who the routing rules would pick for `account` now, without moving
    anything or advancing round-robin positions (runs inside a rolled-back savepoint)."""
    exclude = frozenset(getattr(r, "pk", r) for r in exclude_reps)
    candidate = selectors.routing_rule_for(account=account, source=source, lead_type=lead_type)
    if candidate is None or candidate.rule.strategy == Strategy.QUEUE:
        return None
    on = selectors.today()
    with transaction.atomic():
        sid = transaction.savepoint()
        try:
            if candidate.rule.strategy in (Strategy.ROUND_ROBIN, Strategy.WEIGHTED_ROUND_ROBIN):
                pick = _pick_rotation(candidate.rule, candidate.members, on=on, exclude=exclude,
                                      weighted=candidate.rule.strategy == Strategy.WEIGHTED_ROUND_ROBIN)
            elif candidate.rule.strategy == Strategy.CAPACITY_AWARE:
                pick = _pick_capacity(candidate.members, on=on, exclude=exclude)
            elif candidate.rule.strategy == Strategy.POD:
                pick = _pick_pod(candidate.members, account=account, on=on, exclude=exclude)
            else:
                pick = _pick_territory(candidate.members, on=on, exclude=exclude)
        finally:
            transaction.savepoint_rollback(sid)
    return pick.member.rep if pick.member else None


def routing_decision_retry(*, decision: RoutingDecision, actor=None) -> RoutingDecision:
    """Route a lead from the ops queue again (after ops set its account, added a rule or
    a rep came back). The old decision is marked dealt with once the lead found a rep or
    a queue; the new decision is returned either way."""
    with transaction.atomic():
        locked = RoutingDecision.objects.select_for_update(of=("self",)).select_related("contact").get(pk=decision.pk)
        if locked.resolved_at is not None:
            raise RoutingError("This lead was already dealt with.")
        if locked.contact is None:
            raise RoutingError("This decision has no lead to route.")
        if lead_cycle_current(contact=locked.contact) is not None:
            raise RoutingError(f"{locked.contact} is already assigned.")
        retried = lead_route(contact=locked.contact, actor=actor)
        if retried.outcome not in (RoutingDecision.Outcome.UNMATCHED, RoutingDecision.Outcome.NO_REP):
            locked.resolved_at = timezone.now()
            locked.save(update_fields=["resolved_at"])
    return retried


# =========================================================================================
# The first-come queue
# =========================================================================================


def queue_claim_next(*, rep: Rep, actor=None) -> QueueItem | None:
    """Hand `rep` the oldest unclaimed lead of the queues they belong to. Two reps clicking
    at once never get the same one (SKIP LOCKED); a rep at capacity or away cannot claim."""
    on = selectors.today()
    with transaction.atomic():
        Rep.objects.select_for_update(no_key=True).filter(pk=rep.pk).first()
        current = selectors.reps_with_capacity(Rep.objects.filter(pk=rep.pk)).get()
        reason = selectors.rep_skip_reason(rep=current, base_capacity=current.base_capacity, load=current.load, on=on)
        if reason:
            raise RoutingError(f"{rep} cannot claim a lead now: {SKIP_LABELS[reason]}.")
        item = (
            QueueItem.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(claimed_at__isnull=True, rule__members__rep=rep)
            .select_related("contact", "rule")
            .order_by("created_at", "id")
            .first()
        )
        if item is None:
            return None
        now = timezone.now()
        item.claimed_by, item.claimed_at = rep, now
        item.save(update_fields=["claimed_by", "claimed_at"])
        if item.account_id:
            account_owners_set(changes=[(item.account_id, rep.pk)], reason=OwnershipReason.SIGNAL, actor=actor,
                               note=f"Claimed from queue “{item.rule}”")
        RoutingDecision.objects.create(
            contact=item.contact, account_id=item.account_id, rep=rep, outcome=RoutingDecision.Outcome.RULE,
            rule=item.rule, strategy=Strategy.QUEUE, explanation=f"{rep} claimed it from queue “{item.rule}”.",
            actor=actor_user(actor),
        )
        if lead_cycle_current(contact=item.contact) is None:
            lead_cycle_open(contact=item.contact, rep=rep, lead_type=LeadType.INBOUND, source=item.contact.source)
    return item


# =========================================================================================
# Distributions
# =========================================================================================


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


def distribution_plan(*, team=None, segment: str | None = None, now: dt.datetime | None = None, lock: bool = False) -> list[PlanRow]:
    """Who gets which pool accounts: each eligible SDR filled up to effective capacity from
    the pool of their segment (an SDR with no segment draws from every segment, after the
    others). A fixed number of queries per segment, whatever the number of accounts."""
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
        pool = selectors.pool_accounts(segment=seg or None, now=now)
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


def _save_distribution(*, rows, status, team, segment, actor, note="") -> Distribution:
    distribution = Distribution.objects.create(
        status=status, team=team, segment=segment or "", summary=[r.summary() for r in rows],
        created_by=actor_user(actor), note=note,
        committed_at=timezone.now() if status == Distribution.Status.COMMITTED else None,
    )
    DistributionLine.objects.bulk_create(
        [DistributionLine(distribution=distribution, account_id=pk, rep=row.rep, tier=tier, score=score)
         for row in rows for pk, tier, score in row.adds],
        batch_size=5000,
    )
    return distribution


def distribution_preview(*, actor=None, team=None, segment: str | None = None) -> Distribution:
    """Plan a distribution and store it as a preview: committing it assigns exactly this."""
    with transaction.atomic():
        rows = distribution_plan(team=team, segment=segment)
        return _save_distribution(rows=rows, status=Distribution.Status.PREVIEW, team=team, segment=segment, actor=actor)


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
            selectors.pool_accounts(segment=None, now=timezone.now())
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
                               note=f"Distribution {locked.pk}")
            distribution_transition(distribution=locked, to_status=Distribution.Status.COMMITTED,
                                    committed_at=timezone.now())
    if problem:
        raise DistributionStale(problem)
    return locked


def distribution_run(*, actor=None, team=None, segment: str | None = None, dry_run: bool = False) -> Distribution | list[PlanRow]:
    """Plan and commit in one transaction (the schedule and `distribute`). Reps are locked
    first and pool rows are taken with SKIP LOCKED, so parallel runs never hand one account
    twice or push a rep over capacity. A dry run returns the plan and writes nothing."""
    if dry_run:
        return distribution_plan(team=team, segment=segment)
    with transaction.atomic():
        rows = distribution_plan(team=team, segment=segment, lock=True)
        distribution = _save_distribution(rows=rows, status=Distribution.Status.COMMITTED, team=team, segment=segment, actor=actor)
        account_owners_set(changes=_changes(rows), reason=OwnershipReason.DISTRIBUTION, actor=actor,
                           note=f"Distribution {distribution.pk}")
    return distribution


# =========================================================================================
# Retrievals and rest periods
# =========================================================================================


@dataclass
class Retrieved:
    account_id: int
    account: str
    rep_id: int
    last_worked_at: dt.datetime | None


def _notify(subject: str, body: str, to: list[str]) -> None:
    to = [address for address in to if address]
    if to:
        transaction.on_commit(lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to, fail_silently=True))


def retrieval_run(*, actor=None, dry_run: bool = False, now: dt.datetime | None = None) -> list[Retrieved]:
    """Send owned accounts with no meaningful activity for the inactivity days back to the
    pool (reason retrieval), rest them, and mail each rep one digest. Rows another
    transaction holds are skipped (next run takes them); a second run finds nothing."""
    now = now or timezone.now()
    roe = selectors.roe_get()
    qs = selectors.retrieval_candidates(now=now, roe=roe)
    if dry_run:
        return [Retrieved(pk, name, owner, last) for pk, name, owner, last in qs.values_list("pk", "name", "owner_id", "last_worked_at")]
    with transaction.atomic():
        rows = [
            Retrieved(pk, name, owner, last)
            for pk, name, owner, last in qs.select_for_update(no_key=True, skip_locked=True, of=("self",)).values_list(
                "pk", "name", "owner_id", "last_worked_at"
            )
        ]
        if not rows:
            return []
        note = f"No meaningful activity for {roe.inactivity_days} days"
        account_owners_set(changes=[(r.account_id, None) for r in rows], reason=OwnershipReason.RETRIEVAL,
                           actor=actor, note=note, occurred_at=now)
        until = now + dt.timedelta(days=selectors.rest_days_for(roe=roe, reason=ReturnReason.RETRIEVAL))
        AccountRest.objects.bulk_create(
            [AccountRest(account_id=r.account_id, kind=AccountRest.Kind.REST, until=until, reason=ReturnReason.RETRIEVAL,
                         created_at=now) for r in rows],
            update_conflicts=True, unique_fields=["account"], update_fields=["kind", "until", "reason", "signal_on",
                                                                              "signal_added_at", "created_at"],
            batch_size=5000,
        )
        ReturnRequest.objects.bulk_create(
            [ReturnRequest(account_id=r.account_id, account_name=r.account, rep_id=r.rep_id, reason=ReturnReason.RETRIEVAL,
                           note=note, status=ReturnRequest.Status.APPROVED, outcome=ReturnOutcome.REST,
                           rest_days=selectors.rest_days_for(roe=roe, reason=ReturnReason.RETRIEVAL),
                           reviewed_at=now, created_at=now) for r in rows],
            batch_size=5000,
        )
        by_rep: dict[int, list[Retrieved]] = defaultdict(list)
        for row in rows:
            by_rep[row.rep_id].append(row)
        for rep in Rep.objects.filter(pk__in=list(by_rep)).select_related("user"):
            lines = [
                f"- {r.account}: last worked {r.last_worked_at:%Y-%m-%d}" if r.last_worked_at else f"- {r.account}"
                for r in sorted(by_rep[rep.pk], key=lambda r: r.account)
            ]
            _notify(
                f"{len(lines)} account(s) retrieved from your book",
                f"Hello {rep.owner_name},\n\nThese accounts had no meaningful activity (calls, emails, social, meetings) "
                f"for {roe.inactivity_days} days and went back to the pool:\n\n" + "\n".join(lines)
                + f"\n\nThey rest for {selectors.rest_days_for(roe=roe, reason=ReturnReason.RETRIEVAL)} days before they can be distributed again.\n",
                [rep.user.email],
            )
    return rows


def rest_periods_process(*, now: dt.datetime | None = None) -> int:
    """Ended rests leave the table; a get-back-to-me date that has come adds its readiness
    signal (once). Returns how many signals were added."""
    now = now or timezone.now()
    added = 0
    with transaction.atomic():
        due = list(
            AccountRest.objects.select_for_update(skip_locked=True)
            .filter(signal_on__lte=selectors.today(now), signal_added_at__isnull=True)
            .order_by("pk")
        )
        for rest in due:
            if _readiness_signal_add(account_id=rest.account_id, on=rest.signal_on, now=now):
                added += 1
            rest.signal_added_at = now
            rest.save(update_fields=["signal_added_at"])
        AccountRest.objects.filter(kind=AccountRest.Kind.REST, until__lte=now).filter(
            Q(signal_on__isnull=True) | Q(signal_added_at__isnull=False)
        ).delete()
    return added


def _readiness_signal_add(*, account_id: int, on: dt.date, now: dt.datetime) -> bool:
    """A "get back to me" date reached is a timing signal: recorded through the scoring
    app's service, which rescores the account (so its readiness rises on its own)."""
    from apps.icps.models import SignalType
    from apps.icps.services import signal_record

    signal_type = SignalType.objects.filter(key="get_back_to_me_date").first()
    account = Account.objects.filter(pk=account_id).first()
    if signal_type is None or account is None:
        logger.warning("No get-back-to-me signal added for account %s: signal type or account missing", account_id)
        return False
    signal_record(account=account, type=signal_type, occurred_at=now, date=on, source="return",
                  note="Get back to me date reached")
    return True


# =========================================================================================
# Returns and swaps
# =========================================================================================

# Callbacks run inside the transaction of a return decision (approve or reject) with
# (event type, a function that builds the event's data, when); apps.integrations writes its
# webhook outbox here, so the notification commits or rolls back with the decision.
_in_transaction_return_decided: list = []

RETURN_DECIDED = "return.decided"


def in_transaction_on_return_decided(callback) -> object:
    if callback not in _in_transaction_return_decided:
        _in_transaction_return_decided.append(callback)
    return callback


def _return_data(request: ReturnRequest) -> dict:
    request = ReturnRequest.objects.select_related("rep__user", "reassign_to__user", "reviewed_by").get(pk=request.pk)

    def rep(r):
        return {"id": r.pk, "owner_name": r.owner_name, "email": r.user.email, "role": r.role} if r else None

    def iso(value):
        return value.isoformat() if value else None

    return {
        "return": {
            "id": request.pk, "status": request.status, "reason": request.reason, "outcome": request.outcome,
            "note": request.note, "review_note": request.review_note, "rest_days": request.rest_days,
            "get_back_on": iso(request.get_back_on), "created_at": iso(request.created_at),
            "reviewed_at": iso(request.reviewed_at),
            "reviewed_by": request.reviewed_by.get_username() if request.reviewed_by else None,
        },
        "account": {"id": request.account_id, "name": request.account_name},
        "duplicate_of": request.duplicate_of_id,
        "swap_account": request.swap_account_id,
        "rep": rep(request.rep),
        "reassign_to": rep(request.reassign_to),
    }


def _return_decided(request: ReturnRequest) -> None:
    for callback in _in_transaction_return_decided:
        callback(event_type=RETURN_DECIDED, build_data=lambda: _return_data(request), occurred_at=request.reviewed_at)


DEFAULT_OUTCOME = {
    ReturnReason.DUPLICATE: ReturnOutcome.MERGE,
    ReturnReason.GET_BACK_TO_ME: ReturnOutcome.REST,
    ReturnReason.NO_ICP_FIT: ReturnOutcome.DISQUALIFY,
    ReturnReason.NO_RELEVANT_CONTACT: ReturnOutcome.REST,
    ReturnReason.NOT_INTERESTED: ReturnOutcome.REST,
    ReturnReason.OUT_OF_BUSINESS: ReturnOutcome.DISQUALIFY,
    ReturnReason.BAD_DATA: ReturnOutcome.DATA_FIX,
    ReturnReason.RETRIEVAL: ReturnOutcome.REST,
}


def swap_replacement_pick(*, rep: Rep, now: dt.datetime) -> int | None:
    """The best pool account for `rep` by the distribution's rules (their segment, best
    score first), locked with SKIP LOCKED so two swaps never take the same one."""
    pool = selectors.pool_accounts(segment=rep.segment or None, now=now)
    return pool.select_for_update(no_key=True, skip_locked=True, of=("self",)).values_list("pk", flat=True).first()


def reassign_refusal(pk) -> str:
    """The one answer for a reassign target the reviewer may not use, whether it exists or not."""
    return f"No SDR with id {pk} that you may reassign to."


def duplicate_refusal(pk) -> str:
    """The one answer for a duplicate's survivor outside the filer's scope, or missing."""
    return f"No account with id {pk} in your scope."


def return_file(
    *,
    account: Account,
    rep: Rep,
    reason: str,
    note: str = "",
    duplicate_of: Account | None = None,
    get_back_on: dt.date | None = None,
    swap: bool = False,
    actor=None,
) -> ReturnRequest:
    """An SDR returns an account from their own book for review; with `swap` they get the
    best available replacement at once, so their book never shrinks while it waits."""
    if reason not in ReturnReason.values or reason == ReturnReason.RETRIEVAL:
        allowed = ", ".join(v for v in ReturnReason.values if v != ReturnReason.RETRIEVAL)
        raise ValidationError({"reason": f"Unknown return reason “{reason}”; expected one of {allowed}."})
    if reason == ReturnReason.DUPLICATE:
        if duplicate_of is None:
            raise ValidationError({"duplicate_of": "Name the account this one duplicates."})
        if duplicate_of.pk == account.pk:
            raise ValidationError({"duplicate_of": "An account cannot duplicate itself."})
        # The survivor must be one the filer sees: a hidden account is answered as a missing one.
        user = actor_scope_user(actor)
        if user is not None and not accounts_visible_to(user=user).filter(pk=duplicate_of.pk).exists():
            raise ValidationError({"duplicate_of": duplicate_refusal(duplicate_of.pk)})
    else:
        duplicate_of = None
    if reason == ReturnReason.GET_BACK_TO_ME:
        if get_back_on is None:
            raise ValidationError({"get_back_on": "Give the date to get back to them."})
        if get_back_on <= selectors.today():
            raise ValidationError({"get_back_on": "The get-back-to-me date must be in the future."})
    else:
        get_back_on = None
    now = timezone.now()
    with transaction.atomic():
        locked = Account.objects.select_for_update(no_key=True).get(pk=account.pk)
        if not selectors.account_in_own_book(account=locked, rep=rep):
            raise ValidationError(selectors.OWN_BOOK_ONLY)
        if ReturnRequest.objects.filter(account=locked, status=ReturnRequest.Status.PENDING).exists():
            raise ValidationError(f"{locked} already has a return waiting for review.")
        try:
            with transaction.atomic():
                request = ReturnRequest.objects.create(
                    account=locked, account_name=locked.name, rep=rep, reason=reason, note=note,
                    duplicate_of=duplicate_of, get_back_on=get_back_on, created_at=now,
                )
        except IntegrityError:
            raise ValidationError(f"{locked} already has a return waiting for review.") from None
        if swap:
            replacement = swap_replacement_pick(rep=rep, now=now)
            if replacement is not None:
                account_owners_set(changes=[(replacement, rep.pk)], reason=OwnershipReason.SWAP, actor=actor,
                                   note=f"Swap for {locked.name}")
                request.swap_account_id = replacement
                request.save(update_fields=["swap_account"])
    return request


def _rest(account_id: int, *, until: dt.datetime | None, kind: str, reason: str, signal_on: dt.date | None = None) -> None:
    AccountRest.objects.update_or_create(
        account_id=account_id,
        defaults={"kind": kind, "until": until, "reason": reason, "signal_on": signal_on, "signal_added_at": None,
                  "created_at": timezone.now()},
    )


def return_approve(
    *,
    return_request: ReturnRequest,
    actor=None,
    outcome: str | None = None,
    rest_days: int | None = None,
    reassign_to: Rep | None = None,
    note: str = "",
) -> ReturnRequest:
    """Approve a pending return with an outcome (default per reason): rest then pool;
    disqualify; merge into the named duplicate; data fixing then pool; reassign.

    Scope (the actor's; None is the system): a reassign target must be an SDR the reviewer
    may assign to (selectors.reps_assignable_by) and a merge survivor an account the reviewer
    sees; anything else is answered exactly as a target or survivor that does not exist."""
    now = timezone.now()
    with transaction.atomic():
        request = ReturnRequest.objects.select_for_update().get(pk=return_request.pk)
        if request.status != ReturnRequest.Status.PENDING:
            raise ValidationError(f"This return was already {request.get_status_display().lower()}.")
        outcome = outcome or DEFAULT_OUTCOME[request.reason]
        if outcome not in ReturnOutcome.values:
            raise ValidationError({"outcome": f"Unknown outcome “{outcome}”."})
        if request.account_id is None:
            raise ValidationError("The returned account no longer exists.")
        roe = selectors.roe_get()
        account = Account.objects.select_for_update(no_key=True).get(pk=request.account_id)
        reason_note = f"Return approved: {request.get_reason_display()}"
        if outcome == ReturnOutcome.REST:
            if request.reason == ReturnReason.GET_BACK_TO_ME and rest_days is None:
                until = timezone.make_aware(dt.datetime.combine(request.get_back_on, dt.time.min))
                days = max(0, (request.get_back_on - selectors.today(now)).days)
                signal_on = request.get_back_on
            else:
                days = rest_days if rest_days is not None else selectors.rest_days_for(roe=roe, reason=request.reason)
                until, signal_on = now + dt.timedelta(days=days), None
            account_owners_set(changes=[(account.pk, None)], reason=OwnershipReason.RETURN, actor=actor, note=reason_note)
            _rest(account.pk, until=until, kind=AccountRest.Kind.REST, reason=request.reason, signal_on=signal_on)
            request.rest_days = days
        elif outcome == ReturnOutcome.DISQUALIFY:
            account_owners_set(changes=[(account.pk, None)], reason=OwnershipReason.RETURN, actor=actor, note=reason_note)
            Account.objects.filter(pk=account.pk).update(status=Account.Status.DISQUALIFIED, updated_at=now)
        elif outcome == ReturnOutcome.DATA_FIX:
            account_owners_set(changes=[(account.pk, None)], reason=OwnershipReason.RETURN, actor=actor, note=reason_note)
            _rest(account.pk, until=None, kind=AccountRest.Kind.DATA_FIX, reason=request.reason)
        elif outcome == ReturnOutcome.REASSIGN:
            if reassign_to is None:
                raise ValidationError({"reassign_to": "Choose the rep to reassign the account to."})
            if not selectors.reps_assignable_by(user=actor_scope_user(actor)).filter(pk=reassign_to.pk).exists():
                raise ValidationError({"reassign_to": reassign_refusal(reassign_to.pk)})
            if reassign_to.pk == request.rep_id:
                raise ValidationError({"reassign_to": "Reassign to a different rep than the one returning it."})
            account_owners_set(changes=[(account.pk, reassign_to.pk)], reason=OwnershipReason.RETURN, actor=actor,
                               note=reason_note)
            request.reassign_to = reassign_to
        elif outcome == ReturnOutcome.MERGE:
            # A survivor outside the reviewer's scope is answered as a missing one.
            survivor = selectors.return_survivor_visible(user=actor_scope_user(actor), return_request=request)
            if survivor is None:
                raise ValidationError({"outcome": "Only a return that names the duplicate can be merged."})
            account_merge(duplicate=account, survivor=survivor, actor=actor)
            request.account = None  # The duplicate is gone; account_name keeps what it was.
        request.outcome = outcome
        return_request_transition(return_request=request, to_status=ReturnRequest.Status.APPROVED, actor=actor,
                                  at=now, note=note)
    return request


def return_request_transition(*, return_request: ReturnRequest, to_status: str, actor, at, note: str) -> ReturnRequest:
    """The one way a return's status changes (its review), on the caller's locked copy:
    refuses a move ReturnRequest.TRANSITIONS does not allow (IllegalTransition) before
    anything is written, then records who reviewed it, when and why on the row and tells
    other apps (the return-decided hooks) in the same transaction."""
    ReturnRequest.TRANSITIONS.check(return_request.status, to_status)
    return_request.status = to_status
    return_request.reviewed_by, return_request.reviewed_at, return_request.review_note = actor_user(actor), at, note
    return_request.save()
    _return_decided(return_request)
    return return_request


def return_reject(*, return_request: ReturnRequest, actor=None, note: str) -> ReturnRequest:
    """The account stays with the rep; the rep is told why (mail after commit)."""
    if not (note or "").strip():
        raise ValidationError({"review_note": "Tell the rep why the return is rejected."})
    with transaction.atomic():
        request = ReturnRequest.objects.select_for_update().select_related("rep__user").get(pk=return_request.pk)
        if request.status != ReturnRequest.Status.PENDING:
            raise ValidationError(f"This return was already {request.get_status_display().lower()}.")
        return_request_transition(return_request=request, to_status=ReturnRequest.Status.REJECTED, actor=actor,
                                  at=timezone.now(), note=note.strip())
        _notify(
            f"Return of {request.account_name} rejected",
            f"Hello {request.rep.owner_name},\n\nYour return of {request.account_name} ({request.get_reason_display()}) "
            f"was rejected; the account stays in your book.\n\nWhy: {request.review_note}\n",
            [request.rep.user.email],
        )
    return request


def return_data_fixed(*, return_request: ReturnRequest, actor=None) -> ReturnRequest:
    """Ops fixed the data: the account goes back to the pool."""
    with transaction.atomic():
        request = ReturnRequest.objects.select_for_update().get(pk=return_request.pk)
        if request.outcome != ReturnOutcome.DATA_FIX or request.data_fixed_at is not None:
            raise ValidationError("This return is not waiting for data fixing.")
        AccountRest.objects.filter(account_id=request.account_id, kind=AccountRest.Kind.DATA_FIX).delete()
        request.data_fixed_at = timezone.now()
        request.save(update_fields=["data_fixed_at"])
    return request


def account_merge(*, duplicate: Account, survivor: Account, actor=None) -> Account:
    """Merge `duplicate` into `survivor`: contacts, activities, signals, aliases, ownership
    history and every other row pointing at the duplicate move to the survivor; the
    duplicate's domain becomes the survivor's alias; the duplicate is deleted. Rows that
    would collide with the survivor's own (a one-to-one, a unique signal) are dropped."""
    if duplicate.pk == survivor.pk:
        raise ValidationError("An account cannot be merged into itself.")
    with transaction.atomic():
        first, second = sorted([duplicate.pk, survivor.pk])
        list(Account.objects.select_for_update(no_key=True).filter(pk__in=[first, second]).order_by("pk").values_list("pk"))
        duplicate = Account.objects.get(pk=duplicate.pk)
        if duplicate.owner_id is not None:
            account_owners_set(changes=[(duplicate.pk, None)], reason=OwnershipReason.RETURN, actor=actor,
                               note=f"Merged into {survivor.name}")
        for relation in Account._meta.get_fields(include_hidden=True):
            if not (relation.auto_created and not relation.concrete and (relation.one_to_many or relation.one_to_one)):
                continue
            model, field_name = relation.related_model, relation.field.name
            if model is ReturnRequest and field_name == "account":
                continue  # Returns keep their own name snapshot; this one records the merge.
            rows = model._base_manager.filter(**{field_name: duplicate})
            if relation.one_to_one:
                rows.delete()  # Describes the duplicate only (its rest period, its own score…).
                continue
            try:
                with transaction.atomic():
                    rows.update(**{field_name: survivor})
            except IntegrityError:
                for pk in list(rows.values_list("pk", flat=True)):
                    try:
                        with transaction.atomic():
                            model._base_manager.filter(pk=pk).update(**{field_name: survivor})
                    except IntegrityError:
                        model._base_manager.filter(pk=pk).delete()
        old_domain = duplicate.domain
        Account.objects.filter(pk=duplicate.pk).update(domain=None, matching_key="")
        if old_domain and old_domain != survivor.domain:
            DomainAlias(account=survivor, domain=old_domain).save()
        ReturnRequest.objects.filter(account=duplicate).update(account=None)
        Account.objects.filter(pk=duplicate.pk).delete()
    return survivor
