"""Reads: score explanations, impact previews, research completeness."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from apps.accounts.models import Account
from apps.icps.models import CATEGORY_CAPS, ResearchCategory, Rule
from apps.icps.scoring import ICPSpec, Params, Thresholds, active_icp_specs, compile_specs, tier_sql

CATEGORIES = ("fit", "opportunity", "readiness")


@dataclass
class RuleHit:
    rule_id: int | None
    category: str
    text: str
    points: int


@dataclass
class ICPExplanation:
    icp_id: int
    name: str
    qualified: bool
    failed_qualifiers: list[str] = field(default_factory=list)
    hits: list[RuleHit] = field(default_factory=list)
    raw: dict[str, int] = field(default_factory=dict)
    scores: dict[str, int] = field(default_factory=dict)
    # category → points the cap cut off
    cut: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.scores.values())


@dataclass
class Explanation:
    account_id: int
    icps: list[ICPExplanation]
    matched: ICPExplanation | None
    tier: str
    quadrant: str
    computed_at: dt.datetime

    @property
    def total(self) -> int:
        return self.matched.total if self.matched else 0

    def score(self, category: str) -> int:
        return self.matched.scores[category] if self.matched else 0


def account_score_explain(*, account: Account, now: dt.datetime | None = None) -> Explanation:
    """Which rules gave this account points under each active ICP, and the caps that cut them.

    Evaluates the same compiled SQL conditions the rescoring statement uses, for this one
    account; combining them (caps, best ICP, tier, quadrant) follows the same rules.
    """
    now = now or timezone.now()
    specs = active_icp_specs()
    p = Params()
    compiled = compile_specs(specs, p=p, now=now, today=timezone.localdate(now), name="x", account_ids=[account.pk])
    flat = [(spec, rule, sql) for spec, rules in compiled.conditions for rule, sql in rules]
    columns = ", ".join(sql for _spec, _rule, sql in flat) or "TRUE"
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH {compiled.ctes} SELECT {columns} FROM accounts_account a {compiled.sig_join} WHERE a.id = {p(account.pk)}",
            p.values,
        )
        row = cursor.fetchone() or ()
    met = {id(rule): bool(value) for (_spec, rule, _sql), value in zip(flat, row, strict=False)}
    explained = []
    for spec, rules in compiled.conditions:
        e = ICPExplanation(icp_id=spec.id, name=spec.name, qualified=True)
        for rule, _sql in rules:
            if rule.category == Rule.Category.QUALIFIER:
                if not met[id(rule)]:
                    e.qualified = False
                    e.failed_qualifiers.append(rule.label)
            elif met[id(rule)]:
                e.hits.append(RuleHit(rule.id, rule.category, rule.label, int(rule.points)))
        for category in CATEGORIES:
            raw = sum(h.points for h in e.hits if h.category == category)
            e.raw[category] = raw
            e.scores[category] = min(raw, CATEGORY_CAPS[category])
            e.cut[category] = raw - e.scores[category]
        explained.append(e)
    qualifying = [e for e in explained if e.qualified]
    matched = min(qualifying, key=lambda e: (-e.total, e.icp_id)) if qualifying else None
    thresholds = Thresholds.load()
    tier = thresholds.tier(matched.total) if matched else ""
    quadrant = thresholds.quadrant(matched.scores["fit"], matched.scores["readiness"]) if matched else ""
    return Explanation(account.pk, explained, matched, tier, quadrant, now)


@dataclass
class ImpactPreview:
    # tier ('' = no match) → (current, proposed)
    counts: dict[str, tuple[int, int]]
    # (current tier, proposed tier) → accounts moving, only for tiers that change
    moves: dict[tuple[str, str], int]
    accounts: int

    @property
    def changed(self) -> int:
        return sum(self.moves.values())


def icp_impact_preview(
    *, proposed: ICPSpec | None, replaces: int | None = None, proposed_active: bool = True,
    now: dt.datetime | None = None,
) -> ImpactPreview:
    """Tier counts over all accounts under the active ICPs now vs. with `proposed` in place of
    the ICP `replaces` (or added). Both sides are computed at the same instant with the same
    compiled rules, so the difference is the edit alone, not score decay since the last run."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    current = active_icp_specs()
    future = [s for s in current if s.id != replaces]
    if proposed is not None and proposed_active:
        future.append(proposed)
    p = Params()
    thresholds = Thresholds.load()
    cur = compile_specs(current, p=p, now=now, today=today, name="cur")
    new = compile_specs(future, p=p, now=now, today=today, name="new")
    sql = f"""
        WITH {cur.ctes}, {new.ctes}
        SELECT {tier_sql("cb", thresholds, p)}, {tier_sql("nb", thresholds, p)}, count(*)
          FROM accounts_account a
          LEFT JOIN cur_best cb ON cb.account_id = a.id
          LEFT JOIN new_best nb ON nb.account_id = a.id
         GROUP BY 1, 2
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, p.values)
        rows = cursor.fetchall()
    counts: dict[str, list[int]] = {tier: [0, 0] for tier in ("A", "B", "C", "")}
    moves: dict[tuple[str, str], int] = {}
    for old, new_tier, n in rows:
        counts[old][0] += n
        counts[new_tier][1] += n
        if old != new_tier:
            moves[(old, new_tier)] = n
    return ImpactPreview({k: (v[0], v[1]) for k, v in counts.items()}, moves, sum(n for *_x, n in rows))


def tier_counts() -> dict[str, int]:
    return dict(Account.objects.values_list("tier").annotate(n=Count("id")).order_by())


def research_category_count() -> int:
    return ResearchCategory.objects.filter(active=True).count()


def accounts_with_research_done(queryset: QuerySet[Account] | None = None) -> QuerySet[Account]:
    """Annotate `research_done`: ticked categories among the active ones."""
    queryset = Account.objects.all() if queryset is None else queryset
    return queryset.annotate(
        research_done=Count("research_items", filter=Q(research_items__category__active=True), distinct=True)
    )


def account_research_progress(*, account: Account) -> tuple[int, int]:
    done = account.research_items.filter(category__active=True).count()
    return done, research_category_count()
