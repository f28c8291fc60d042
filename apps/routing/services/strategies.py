"""The picks a routing rule makes among its members — rotation (weighted, with the leave
catch-up and credits), capacity-aware, territory, pod, partner AE — and how skips are told."""

from __future__ import annotations

from dataclasses import dataclass, field

from apps.accounts.models import Account
from apps.people.models import Rep
from apps.routing import selectors
from apps.routing.models import (
    RoutingRule,
    RoutingRuleMember,
    Strategy,
)
from apps.routing.services.common import SKIP_LABELS


@dataclass
class _Pick:
    member: RoutingRuleMember | None
    skipped: list[dict] = field(default_factory=list)
    note: str = ""
    rep: Rep | None = None  # a pick outside the rule's members (partner AE)
    # A rotation's new state for these members, stored by the statement that records the
    # decision (member_ledger_sql): the pick and its ledger commit together.
    ledger: list[RoutingRuleMember] = field(default_factory=list)

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
    # Reps before the chosen one in the rotation who were eligible were passed over by
    # turn, not skipped; only ineligible reps are recorded.
    return _Pick(chosen, skipped, note="; ".join(notes), ledger=eligible + away)


def member_ledger_sql(members: list[RoutingRuleMember]) -> tuple[str, list]:
    """The rotation state of `members` (current weight, leave and credit debts: the fair-books
    weight ledger) as a data-modifying CTE named `ledger`, for the statement that records the
    decision (apps.routing.services.lead_routing._decision_insert) — no statement of its own,
    and never written without the decision it belongs to. The values are the members' whole
    new state, as the pick computed it from the members it read."""
    return (
        "ledger AS (UPDATE routing_routingrulemember AS m SET current_weight = v.w, leave_turns = v.l, "
        "credit_turns = v.c FROM unnest(%s::bigint[], %s::bigint[], %s::float8[], %s::float8[]) AS v(id, w, l, c) "
        "WHERE m.id = v.id)",
        [[m.pk for m in members], [m.current_weight for m in members], [float(m.leave_turns or 0) for m in members],
         [float(m.credit_turns or 0) for m in members]],
    )


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


def _pick_partner_ae(members, *, owner_ae_partners: list[Rep], account: Account, on, exclude) -> _Pick:
    """Past the SDR: the account's AE (its opportunity owner) if available, else an AE
    partner of the SDR who owns the account (Rep → AE partners), else the first available
    AE among the rule's reps. The account stays in its book; the lead goes to the AE."""
    skipped = []
    candidates: list[tuple[Rep, str]] = []
    if account.opportunity_owner is not None and account.opportunity_owner.role == Rep.Role.AE:
        candidates.append((account.opportunity_owner, f"the account's AE {account.opportunity_owner}"))
    for partner in owner_ae_partners:
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
        return _pick_partner_ae(candidate.members, owner_ae_partners=candidate.owner_ae_partners, account=account,
                                on=on, exclude=exclude)
    return _pick_territory(candidate.members, on=on, exclude=exclude)
