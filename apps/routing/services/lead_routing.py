"""Lead-to-account matching and routing: the rule, the pick (rotation, weighted, capacity,
territory, pod), the owner change and the recorded decision; signalled accounts routed at once."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, FilteredRelation, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from apps.accounts.domains import email_domain, is_webmail, normalize_domain, registrable_domain
from apps.accounts.models import Account, OwnershipReason
from apps.accounts.services import account_create, account_owners_set
from apps.icps.models import Quadrant
from apps.leads.models import LeadType
from apps.leads.selectors import lead_cycle_current
from apps.leads.services import lead_cycle_open
from apps.people.actors import actor_user
from apps.people.models import Contact, Rep
from apps.routing import selectors
from apps.routing.models import (
    QueueItem,
    RoutingDecision,
    RoutingRule,
    RoutingRuleMember,
    Seniority,
    Strategy,
)
from apps.routing.services.common import SKIP_LABELS, RoutingError
from sdrops import config_cache

logger = logging.getLogger(__name__)


@dataclass
class _Pick:
    member: RoutingRuleMember | None
    skipped: list[dict] = field(default_factory=list)
    note: str = ""
    rep: Rep | None = None  # a pick outside the rule's members (partner AE)

    @property
    def picked(self) -> Rep | None:
        return self.rep if self.rep is not None else (self.member.rep if self.member else None)


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


# Turns owed below this are repaid (float rounding of fractional leave shares).
OWED_EPSILON = 1e-6


def _rotation_weight(member: RoutingRuleMember, *, on, weighted: bool) -> int:
    """The member's turns per round in hundredths: the rep's own routing weight (one weight,
    Rep.routing_weight; 1 in plain round robin) × the ramp's inbound weight."""
    base = member.rep.routing_weight if weighted else 1
    return int(round(float(base) * 100 * selectors.ramp_inbound_weight(rep=member.rep, on=on)))


def _owed(member: RoutingRuleMember) -> float:
    return (member.leave_turns or 0) + (member.credit_turns or 0)


def _pick_rotation(rule: RoutingRule, members, *, on, exclude, weighted: bool) -> _Pick:
    """Smooth weighted round robin (nginx): each eligible member gains its weight, the
    highest is picked and loses the round's total. The state is stored per member.

    Weights are the reps' own (Rep.routing_weight; every weight 1 in plain round robin),
    times the ramp's inbound weight (RulesOfEngagement.ramp_inbound). A member skipped for
    being out of office is owed the share of the pick they would have had (leave_turns); a
    credit owes a whole turn (credit_turns). A member owing turns takes part at double
    weight, and the debt stays exact — fair share minus leads received: each lead adds their
    share, each lead they get takes one off — so a rep back from leave catches up over the
    next rounds instead of in a burst, and never takes two leads in a row while catching up."""
    eligible, skipped = _eligible(members, on=on, exclude=exclude)
    if weighted:
        for member in [m for m in eligible if m.rep.routing_weight == 0]:
            skipped.append(_skip_entry(member.rep, "zero_weight"))
        eligible = [m for m in eligible if m.rep.routing_weight > 0]
    if not eligible:
        return _Pick(None, skipped)
    normal = {m.pk: _rotation_weight(m, on=on, weighted=weighted) for m in eligible}
    normal_total = sum(normal.values())
    away_ids = {s["rep_id"] for s in skipped if s["reason"] == selectors.SKIP_OUT_OF_OFFICE}
    away = [m for m in members if m.rep_id in away_ids]
    for member in away:
        weight = _rotation_weight(member, on=on, weighted=weighted)
        if weight > 0:
            member.leave_turns = (member.leave_turns or 0) + weight / (normal_total + weight)
    boosted = {m.pk: normal[m.pk] * 2 if _owed(m) > OWED_EPSILON else normal[m.pk] for m in eligible}
    boosted_total = sum(boosted.values())
    without_boost = max(eligible, key=lambda m: (m.current_weight + normal[m.pk], -m.order, -m.pk))
    for member in eligible:
        member.current_weight += boosted[member.pk]
    ranked = sorted(eligible, key=lambda m: (-m.current_weight, m.order, m.pk))
    chosen = ranked[0]
    notes = []
    last = (list(getattr(chosen, "recent_reps", None) or []) or [None])[0]
    catching_up = boosted[chosen.pk] != normal[chosen.pk]
    hold_back = (catching_up and len(ranked) > 1) or (not weighted and len(ranked) > 2)
    if chosen.rep_id == last and hold_back:
        # No burst: a rep catching up never takes two leads in a row, nor does anyone in a
        # plain rotation of three or more (the state a catch-up leaves behind could allow it).
        notes.append(f"{chosen.rep}{' (catching up)' if catching_up else ''} had the rule's last lead and waits a turn")
        chosen = ranked[1]
    chosen.current_weight -= boosted_total
    # The debt is exact: fair share − leads received. Each lead, a member who owes gets
    # their share (weight ÷ the round's weights) added, and the one picked one lead taken off.
    for member in eligible:
        if boosted[member.pk] == normal[member.pk]:
            continue
        delta = normal[member.pk] / normal_total - (1 if member is chosen else 0)
        if member is chosen:
            why = " and ".join(w for w, v in (("leave", member.leave_turns), ("credits", member.credit_turns))
                               if v > OWED_EPSILON)
            notes.append(f"catching up {_owed(member):.1f} turn(s) owed for {why} at double weight")
            if without_boost is not chosen:
                notes.append(f"without the catch-up {without_boost.rep} was next")
            from_credit = min(-delta, member.credit_turns)
            member.credit_turns -= from_credit
            member.leave_turns = max(0.0, member.leave_turns - (-delta - from_credit))
        elif member.credit_turns > OWED_EPSILON:
            member.credit_turns += delta
        else:
            member.leave_turns += delta
        for name in ("credit_turns", "leave_turns"):
            if getattr(member, name) < OWED_EPSILON:
                setattr(member, name, 0.0)
    if weighted and len({m.rep.routing_weight for m in eligible}) > 1:
        notes.append(f"weight {chosen.rep.routing_weight:g}")
    ramp = selectors.ramp_inbound_weight(rep=chosen.rep, on=on)
    if ramp < 1:
        notes.append(f"ramping (ramp factor {chosen.rep.ramp_factor(on):.0%}): inbound weight ×{ramp:g}")
    changed = eligible + away
    # Reps before the chosen one in the rotation who were eligible were passed over by
    # turn, not skipped; only ineligible reps are recorded.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE routing_routingrulemember AS m SET current_weight = v.w, leave_turns = v.l, credit_turns = v.c "
            "FROM unnest(%s::bigint[], %s::bigint[], %s::float8[], %s::float8[]) AS v(id, w, l, c) WHERE m.id = v.id",
            [[m.pk for m in changed], [m.current_weight for m in changed], [float(m.leave_turns or 0) for m in changed],
             [float(m.credit_turns or 0) for m in changed]],
        )
    return _Pick(chosen, skipped, note="; ".join(notes))


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


def _pick_partner_ae(members, *, account: Account, on, exclude) -> _Pick:
    """Past the SDR: the account's AE (its opportunity owner) if available, else an AE
    partner of the SDR who owns the account (Rep → AE partners), else the first available
    AE among the rule's reps. The account stays in its book; the lead goes to the AE."""
    skipped = []
    candidates: list[tuple[Rep, str]] = []
    if account.opportunity_owner is not None and account.opportunity_owner.role == Rep.Role.AE:
        candidates.append((account.opportunity_owner, f"the account's AE {account.opportunity_owner}"))
    if account.owner_id:
        for partner in Rep.objects.filter(sdr_partners=account.owner_id, role=Rep.Role.AE).order_by("pk"):
            candidates.append((partner, f"{partner}, {account.owner}'s AE partner"))
    for rep, why in candidates:
        if selectors.rep_available(rep=rep, on=on, exclude=exclude):
            return _Pick(None, skipped, note=why, rep=rep)
        reason = selectors.SKIP_EXCLUDED if rep.pk in exclude else (
            selectors.SKIP_INACTIVE if not rep.active else selectors.SKIP_OUT_OF_OFFICE)
        skipped.append(_skip_entry(rep, reason))
    for member in members:
        reason = selectors.rep_skip_reason(rep=member.rep, base_capacity=10**9, load=0, on=on, exclude=exclude)
        if reason is None:
            return _Pick(member, skipped, note="no partner AE available; the rule's first available rep")
        skipped.append(_skip_entry(member.rep, reason))
    return _Pick(None, skipped)


def _once_per_reason(skipped: list[dict]) -> list[dict]:
    """A rep is listed once per skip reason (the account's away owner may also be a member)."""
    seen, kept = set(), []
    for entry in skipped:
        key = (entry["rep_id"], entry["reason"])
        if key not in seen:
            seen.add(key)
            kept.append(entry)
    return kept


def _describe_skips(skipped: list[dict]) -> str:
    if not skipped:
        return ""
    return " Skipped: " + "; ".join(f"{s['rep']} ({SKIP_LABELS.get(s['reason'], s['reason'])})" for s in skipped) + "."


_NOT_LOOKED_UP = object()


def _account_locked(pk: int) -> Account | None:
    """The account, locked (FOR NO KEY UPDATE), with its owners, its newest open
    opportunity's owner (a join on the open opportunities: no look-up of its own; see
    `_route_account`) and the configuration version (sdrops.config_cache) — one statement."""
    rows = list(
        Account.objects.filter(pk=pk)
        .select_for_update(no_key=True, of=("self",))
        .annotate(
            open_opportunity=FilteredRelation("opportunities", condition=Q(opportunities__is_open=True)),
            config_version=RawSQL(config_cache.version_sql(), []),
            # Whether a rule looks at the person (then the rules are read before the owner).
            person_rules=selectors.person_rule_exists(),
        )
        # Each rep with their user: the answer to the lead's sender names the rep's email.
        .select_related("owner__user", "opportunity_owner__user", "cs_owner__user", "open_opportunity__owner__user")
        .order_by(F("open_opportunity__id").desc(nulls_last=True))[:1]
    )
    if not rows:
        return None
    account = rows[0]
    opportunity = getattr(account, "open_opportunity", None)  # not set when the join found none
    account.open_opportunity_owner = opportunity.owner if opportunity is not None else None
    return account


def account_locked_for_routing(account: Account, *, open_opportunity_owner_id: int | None, config_version) -> Account:
    """Prepare an account the caller locked together with other rows (the SLA job locks
    it with the lead cycle, owners and their users selected) for `lead_route(locked_account=…)`."""
    known = {r.pk: r for r in (account.owner, account.opportunity_owner, account.cs_owner) if r is not None}
    if open_opportunity_owner_id is None:
        account.open_opportunity_owner = None
    else:
        # Almost always the account's AE, selected already; else one look-up.
        account.open_opportunity_owner = known.get(open_opportunity_owner_id) or (
            Rep.objects.select_related("user").get(pk=open_opportunity_owner_id)
        )
    account.config_version = config_version
    return account


def lead_unroutable_reason(contact: Contact) -> str:
    """Why routing would certainly record the lead as unmatched without asking the
    database (no account, and no usable or a webmail email domain); "" when it might route."""
    if contact.account_id:
        return ""
    try:
        domain = email_domain(contact.email)
    except ValidationError as error:
        return f"No usable domain: {' '.join(error.messages)}"
    if is_webmail(domain):
        return f"{domain} is a webmail domain and the lead has no account domain."
    return ""


def _lead_match(*, domain: str, keys: set[str], root: str) -> tuple[int | None, int | None, bool, tuple]:
    """One statement: the configuration version, the best account for the lead's matching
    keys (by domain or alias; an account that keeps its subdomain beats its parent), whether
    the admin's webmail list has the lead's domain, and the standing of the domain a new
    account would get (apps.accounts.selectors.domain_standing, for account_create)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT {config_cache.version_sql()},
                   (SELECT a.id FROM accounts_account a
                     -- A UNION of two index look-ups: an OR across the alias join made PostgreSQL scan every account.
                     WHERE a.id IN (SELECT id FROM accounts_account WHERE matching_key = ANY(%(keys)s)
                                    UNION SELECT account_id FROM accounts_domainalias WHERE matching_key = ANY(%(keys)s))
                     ORDER BY a.matching_key <> %(domain)s, a.id LIMIT 1),
                   EXISTS (SELECT 1 FROM accounts_webmaildomain w WHERE w.domain = ANY(%(webmail)s)),
                   EXISTS (SELECT 1 FROM accounts_webmaildomain w WHERE w.domain = ANY(%(root_keys)s)),
                   h.id, h.name
              FROM (SELECT %(root)s::varchar AS domain) d
              LEFT JOIN accounts_domain_registry r ON r.domain = d.domain
              LEFT JOIN accounts_account h ON h.id = r.account_id
            """,
            {"keys": sorted(keys), "domain": domain, "webmail": sorted({domain, registrable_domain(domain)}),
             "root": root, "root_keys": sorted({root, registrable_domain(root)})},
        )
        version, match_id, webmail_listed, root_listed, holder_id, holder_name = cursor.fetchone()
    return version, match_id, webmail_listed, (root_listed, holder_id, holder_name or "")


def _lead_account(*, contact: Contact, account_domain: str, actor) -> tuple[Account | None, bool, str, int | None]:
    """The account a lead belongs to, locked: (account, created, why-unmatched, config version).

    The first statement always reads the configuration version, so every cached setting
    the rest of the routing reads is checked without a statement of its own."""
    if contact.account_id:
        account = _account_locked(contact.account_id)
        if account is None:
            raise Account.DoesNotExist(f"Account {contact.account_id} of {contact} does not exist.")
        return account, False, "", account.config_version
    try:
        domain = normalize_domain(account_domain) if account_domain else email_domain(contact.email)
    except ValidationError as error:
        return None, False, f"No usable domain: {' '.join(error.messages)}", None
    if not account_domain and is_webmail(domain):
        return None, False, f"{domain} is a webmail domain and the lead has no account domain.", None
    keys = {domain, registrable_domain(domain)}
    root = registrable_domain(domain)
    version, match_id, webmail_listed, standing = _lead_match(domain=domain, keys=keys, root=root)
    if match_id is not None:
        account = _account_locked(match_id)
        if account is not None:  # else merged away since the match: a new account is not wanted either
            return account, False, "", version
        return None, False, f"The account matching {domain} was removed while the lead was routed.", version
    if webmail_listed or is_webmail(domain):
        return None, False, f"{domain} is a webmail domain and the lead has no account domain.", version
    name = root.split(".", 1)[0].replace("-", " ").title() or root
    try:
        with config_cache.checked(version):
            account = account_create(name=name, domain=root, actor=actor, standing=standing)
    except ValidationError as error:
        return None, False, f"Could not create an account for {root}: {' '.join(error.messages)}", version
    account.open_opportunity_owner = None  # created just now: it has none
    return account, True, "", version


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
    # Read with the account's lock (_account_locked), or none for an account just created.
    opportunity_owner = getattr(account, "open_opportunity_owner", _NOT_LOOKED_UP)
    if opportunity_owner is _NOT_LOOKED_UP:
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
    person_rule = general = None
    rules_read = False
    if contact is not None and getattr(account, "person_rules", True):
        # A rule on the person (a C-level lead straight to the partner AE) comes before the
        # account's owner; the same statement gives the general rule for later.
        person_rule, general = selectors.routing_rules_for(account=account, source=source, lead_type=lead_type,
                                                           contact=contact)
        rules_read = True
    if person_rule is not None:
        applied = _apply_rule(person_rule, decision=decision, account=account, contact=contact, exclude=exclude,
                              reason=reason, actor=actor, on=on)
        if applied is not None:
            return applied
        decision.rule, decision.strategy = None, ""
    owner = account.owner
    if owner is not None and selectors.rep_available(rep=owner, on=on, exclude=exclude):
        decision.outcome, decision.rep = RoutingDecision.Outcome.CURRENT_OWNER, owner
        decision.explanation = f"{account} is in {owner}'s book." + _describe_skips(decision.skipped)
        return decision, owner, False
    if owner is not None:
        if owner.pk in exclude:
            why = selectors.SKIP_EXCLUDED
        elif not owner.active:
            why = selectors.SKIP_INACTIVE
        else:
            why = selectors.SKIP_OUT_OF_OFFICE
        decision.skipped = _once_per_reason(decision.skipped + [_skip_entry(owner, why)])
    candidate = general if rules_read else selectors.routing_rule_for(
        account=account, source=source, lead_type=lead_type, contact=contact)
    if candidate is None:
        decision.outcome = RoutingDecision.Outcome.NO_REP
        decision.explanation = "No routing rule matches (add a fallback rule with no conditions); ops must assign it."
        return decision, None, False
    return _apply_rule(candidate, decision=decision, account=account, contact=contact, exclude=exclude, reason=reason,
                       actor=actor, on=on, final=True)


def _person_match(rule: RoutingRule, contact: Contact | None) -> str:
    if contact is None or not selectors.rule_has_person_conditions(rule):
        return ""
    parts = []
    if rule.seniorities:
        parts.append(f"title seniority {Seniority(selectors.title_seniority(contact.title)).label} (“{contact.title}”)")
    if rule.personas:
        parts.append(f"persona “{contact.persona}”")
    return " matched the lead's " + " and ".join(parts)


def _strategy_pick(candidate, *, account: Account, on, exclude) -> _Pick:
    rule = candidate.rule
    if rule.strategy in (Strategy.ROUND_ROBIN, Strategy.WEIGHTED_ROUND_ROBIN):
        return _pick_rotation(rule, candidate.members, on=on, exclude=exclude,
                              weighted=rule.strategy == Strategy.WEIGHTED_ROUND_ROBIN)
    if rule.strategy == Strategy.CAPACITY_AWARE:
        return _pick_capacity(candidate.members, on=on, exclude=exclude)
    if rule.strategy == Strategy.POD:
        return _pick_pod(candidate.members, account=account, on=on, exclude=exclude)
    if rule.strategy == Strategy.PARTNER_AE:
        return _pick_partner_ae(candidate.members, account=account, on=on, exclude=exclude)
    return _pick_territory(candidate.members, on=on, exclude=exclude)


def _apply_rule(candidate, *, decision: RoutingDecision, account: Account, contact, exclude, reason, actor, on,
                final: bool = False):
    """Apply one matching rule. Returns (decision, rep, moved); a person rule that finds
    nobody returns None (not `final`), so the owner and the general rules still apply."""
    rule = candidate.rule
    decision.rule, decision.strategy = rule, rule.strategy
    matched = _person_match(rule, contact)
    if rule.strategy == Strategy.QUEUE and reason == OwnershipReason.SLA_REASSIGNMENT:
        if not final:
            return None
        # A lead whose clock already lapsed must not wait again for someone to claim it.
        decision.outcome = RoutingDecision.Outcome.NO_REP
        decision.explanation = f"Rule “{rule}” is a claim queue; an SLA re-assignment needs a rep now."
        return decision, None, False
    if rule.strategy == Strategy.QUEUE:
        decision.outcome = RoutingDecision.Outcome.QUEUED
        decision.explanation = f"Rule “{rule}”{matched}: queued for its reps to claim, oldest first."
        return decision, None, False
    pick = _strategy_pick(candidate, account=account, on=on, exclude=exclude)
    decision.skipped = _once_per_reason(decision.skipped + pick.skipped)
    strategy_label = Strategy(rule.strategy).label
    rep = pick.picked
    if rep is None:
        if not final:
            return None
        decision.outcome = RoutingDecision.Outcome.NO_REP
        decision.explanation = f"Rule “{rule}” ({strategy_label}): no rep available.{_describe_skips(decision.skipped)}"
        return decision, None, False
    decision.outcome, decision.rep = RoutingDecision.Outcome.RULE, rep
    extra = f" ({pick.note})" if pick.note else ""
    decision.explanation = f"Rule “{rule}” ({strategy_label}){matched} picked {rep}{extra}.{_describe_skips(decision.skipped)}"
    if rule.strategy == Strategy.PARTNER_AE:
        # Past the SDR: the lead goes to the AE, the account stays in its book.
        return decision, rep, False
    account_owners_set(changes=[(account.pk, rep.pk)], reason=reason, actor=actor, note=f"Routing rule “{rule}”")
    account.owner = rep  # as the database has it now (callers decide who may see the account from it)
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
    locked_account: Account | None = None,
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

    `locked_account`: the contact's account, already locked by the caller in its
    transaction (FOR NO KEY UPDATE, owners selected, `open_opportunity_owner` and
    `config_version` set, as `account_locked_for_routing` leaves it): the SLA job locks it
    with the cycle, so routing does not look it up again.

    Returns the saved RoutingDecision (`rep` is None when queued or left for ops).
    """
    exclude = frozenset(getattr(r, "pk", r) for r in exclude_reps)
    if open_cycle is None:
        open_cycle = reason != OwnershipReason.SLA_REASSIGNMENT
    on = selectors.today()
    # No savepoint: nothing here is caught and retried inside the transaction, so a failure
    # rolls back with the caller's transaction (or this one, when called on its own).
    with transaction.atomic(savepoint=False):
        if locked_account is not None:
            account, created, unmatched, version = locked_account, False, "", locked_account.config_version
        else:
            account, created, unmatched, version = _lead_account(contact=contact, account_domain=account_domain, actor=actor)
        if account is None:
            return RoutingDecision.objects.create(
                contact=contact, outcome=RoutingDecision.Outcome.UNMATCHED, reason=reason, explanation=unmatched,
                actor=actor_user(actor),
            )
        with config_cache.checked(version):
            move_contact = contact.account_id != account.pk
            if move_contact:
                contact.account = account
            decision, rep, _moved = _route_account(
                account=account, contact=contact, source=contact.source, lead_type=lead_type,
                exclude=exclude, reason=reason, actor=actor, on=on, created=created,
            )
            decision.account_created = created
            if created:
                decision.explanation = f"New account {account} created from {account.domain}. " + decision.explanation
            _decision_insert(decision, contact_account=account.pk if move_contact else None)
            if decision.outcome == RoutingDecision.Outcome.QUEUED:
                QueueItem.objects.get_or_create(contact=contact, claimed_at=None, defaults={"rule": decision.rule, "account": account})
            if rep is not None and open_cycle:
                decision.cycle = lead_cycle_open(contact=contact, rep=rep, lead_type=lead_type, source=contact.source)
    return decision


def _decision_insert(decision: RoutingDecision, *, contact_account: int | None) -> None:
    """Save the new decision; with `contact_account`, point the lead's contact at that
    account in the same statement (a data-modifying CTE)."""
    if contact_account is None:
        decision.save()
        return
    fields = [f for f in RoutingDecision._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    params = [contact_account, decision.contact_id]
    params += [f.get_db_prep_save(f.pre_save(decision, add=True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH contact AS (UPDATE people_contact SET account_id = %s WHERE id = %s) "
            f"INSERT INTO routing_routingdecision ({columns}) VALUES ({', '.join(['%s'] * len(fields))}) RETURNING id",  # noqa: S608
            params,
        )
        decision.pk = cursor.fetchone()[0]
    decision._state.adding = False
    decision._state.db = connection.alias


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
            pick = _strategy_pick(candidate, account=account, on=on, exclude=exclude)
        finally:
            transaction.savepoint_rollback(sid)
    return pick.picked


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
