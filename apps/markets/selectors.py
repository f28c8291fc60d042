"""Reads for market segments: the enrolment wall, rules as SQL conditions, the segment view.

`accounts_enrolled` is the one enrolment filter: apps.routing.selectors.pool_accounts (which
distributions, swaps, signal routing and every re-introduction after a rest or a data fix
read) calls it, so no other code decides what is inside the wall.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import BooleanField, Case, Count, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Lower, TruncWeek

from apps.accounts.models import Account
from apps.icps.models import ScoringSettings
from apps.icps.scoring import Thresholds
from apps.markets.models import (
    ENROLLED,
    AccountMarket,
    MarketSegment,
    MarketSegmentChange,
    MarketSegmentRule,
    TargetedPlay,
)
from apps.routing.models import ReturnOutcome, ReturnReason, ReturnRequest
from sdrops import config_cache
from sdrops.kept_sql import kept_list

# -- the wall ---------------------------------------------------------------------------------


def accounts_enrolled(qs: QuerySet[Account] | None = None, *, play: TargetedPlay | None = None) -> QuerySet[Account]:
    """`qs` (all accounts by default) cut to the enrolled ones (market segment B) — or, for a
    targeted play, to the play's set instead: accounts whose segment is one of the play's
    segments or that the play names."""
    qs = Account.objects.all() if qs is None else qs
    if play is None:
        return qs.filter(pk__in=AccountMarket.objects.filter(segment__in=ENROLLED).values("account_id"))
    in_play = Q(pk__in=TargetedPlay.accounts.through.objects.filter(targetedplay_id=play.pk).values("account_id"))
    if play.segments:
        in_play |= Q(pk__in=AccountMarket.objects.filter(segment__in=list(play.segments)).values("account_id"))
    return qs.filter(in_play)


# -- rules as conditions ----------------------------------------------------------------------

INCOMPLETE = Q(domain__isnull=True) | Q(domain="") | Q(industry="") | Q(employees__isnull=True) | Q(country="")


def rule_condition(rule: MarketSegmentRule, *, fit_threshold: int) -> Q:
    """The rule as one condition on Account (every set field must hold)."""
    q = Q()
    if rule.statuses:
        q &= Q(status__in=rule.statuses)
    if rule.size_segments:
        q &= Q(segment__in=rule.size_segments)
    if rule.industries:
        q &= Q(industry_lower__in=[v.strip().lower() for v in rule.industries])
    if rule.countries:
        q &= Q(country_lower__in=[v.strip().lower() for v in rule.countries])
    if rule.employees_min is not None:
        q &= Q(employees__gte=rule.employees_min)
    if rule.employees_max is not None:
        q &= Q(employees__lte=rule.employees_max)
    if rule.revenue_min is not None:
        q &= Q(annual_revenue__gte=rule.revenue_min)
    if rule.revenue_max is not None:
        q &= Q(annual_revenue__lte=rule.revenue_max)
    fit = rule.IcpFit
    if rule.icp_fit == fit.FIT:
        q &= Q(matched_icp__isnull=False, fit_score__gte=fit_threshold)
    elif rule.icp_fit == fit.MATCHED:
        q &= Q(matched_icp__isnull=False)
    elif rule.icp_fit == fit.WEAK:
        q &= Q(matched_icp__isnull=False, fit_score__lt=fit_threshold)
    elif rule.icp_fit == fit.NONE:
        q &= Q(matched_icp__isnull=True)
    if rule.data_quality == rule.DataQuality.COMPLETE:
        q &= ~INCOMPLETE
    elif rule.data_quality == rule.DataQuality.INCOMPLETE:
        q &= INCOMPLETE
    return q


def rule_describe(rule: MarketSegmentRule) -> str:
    """The rule's conditions in words (the admin list and the segment view show this)."""
    parts = []
    if rule.statuses:
        parts.append("status " + "/".join(rule.statuses))
    if rule.size_segments:
        parts.append("size " + "/".join(rule.size_segments))
    if rule.industries:
        parts.append("industry " + ", ".join(rule.industries))
    if rule.countries:
        parts.append("country " + ", ".join(rule.countries))
    if rule.employees_min is not None or rule.employees_max is not None:
        parts.append(f"employees {rule.employees_min if rule.employees_min is not None else '…'}–"
                     f"{rule.employees_max if rule.employees_max is not None else '…'}")
    if rule.revenue_min is not None or rule.revenue_max is not None:
        parts.append(f"revenue {rule.revenue_min if rule.revenue_min is not None else '…'}–"
                     f"{rule.revenue_max if rule.revenue_max is not None else '…'}")
    if rule.icp_fit:
        parts.append(rule.get_icp_fit_display().lower())
    if rule.data_quality:
        parts.append(f"data {rule.data_quality}")
    return "; ".join(parts) or "every account left (no conditions)"


def _load_active_segment_rules() -> tuple[MarketSegmentRule, ...]:
    return tuple(MarketSegmentRule.objects.filter(active=True).order_by("position", "id"))


def active_segment_rules() -> tuple[MarketSegmentRule, ...]:
    """The active rules in their order, kept per process under the configuration version
    (migration sdrops 0015); shared by every thread, so read them, never change them."""
    return config_cache.cached("markets.active_segment_rules", _load_active_segment_rules)


def classification_queryset(*, rules: list[MarketSegmentRule] | None = None) -> QuerySet:
    """Every account with what the active rules say: `new_segment` ('' when none matches) and
    `new_rule_id`. One statement; the classification job embeds it in its upsert."""
    if rules is None:
        rules = list(active_segment_rules())
    fit_threshold = ScoringSettings.load().fit_threshold
    conditions = [(rule_condition(rule, fit_threshold=fit_threshold), rule) for rule in rules]
    segment = Case(*[When(q, then=Value(r.segment)) for q, r in conditions], default=Value(""))
    rule_id = Case(*[When(q, then=Value(r.pk)) for q, r in conditions], default=Value(None), output_field=IntegerField())
    return (Account.objects.order_by().annotate(industry_lower=Lower("industry"), country_lower=Lower("country"))
            .annotate(new_segment=segment, new_rule_id=rule_id).values("id", "new_segment", "new_rule_id"))


def account_market_explain(*, account: Account) -> dict:
    """An account's segment with its reason: the override (who, why) or the rule that
    decided, and the rule that would decide now; plus its last changes."""
    market = AccountMarket.objects.filter(account=account).select_related("rule", "override_by").first()
    rules = active_segment_rules()
    # The scoring settings as the scoring code caches them (sdrops.config_cache): no statement
    # of its own on the record page.
    fit_threshold = Thresholds.load().fit_threshold
    now_rule = None
    if rules:
        # One query: which rule (if any) matches this account now; compiled once per
        # configuration version (sdrops.kept_sql), as the rules are.
        def matches(account_id: int) -> QuerySet:
            conditions = {f"r{r.pk}": Case(When(rule_condition(r, fit_threshold=fit_threshold), then=Value(True)),
                                            default=Value(False), output_field=BooleanField()) for r in rules}
            return (Account.objects.filter(pk=account_id)
                    .annotate(industry_lower=Lower("industry"), country_lower=Lower("country"))
                    .annotate(**conditions).values(*conditions))

        flags = next(iter(kept_list("markets.account_rule_now", matches, account_id=account.pk)), {})
        now_rule = next((r for r in rules if flags.get(f"r{r.pk}")), None)
    changes = list(MarketSegmentChange.objects.filter(account=account).select_related("actor").order_by("-occurred_at", "-id")[:10])
    return {"market": market, "segment": market.segment if market else "", "now_rule": now_rule, "changes": changes,
            "enrolled": bool(market and market.enrolled)}


# -- the segment view -------------------------------------------------------------------------


@dataclass
class SegmentCounts:
    by_segment: dict[str, int]
    unclassified: int
    overridden: int


def _within(qs: QuerySet, accounts: QuerySet[Account] | None, field: str = "account_id") -> QuerySet:
    return qs if accounts is None else qs.filter(**{f"{field}__in": accounts.values("pk")})


def segment_counts(*, accounts: QuerySet[Account] | None = None) -> SegmentCounts:
    """Accounts per effective segment among `accounts` (all by default): one GROUP BY over the
    classification rows and one aggregate."""
    markets = _within(AccountMarket.objects.all(), accounts)
    rows = dict(markets.exclude(segment="").values_list("segment").annotate(n=Count("pk")).order_by())
    classified = sum(rows.values())
    totals = (Account.objects.all() if accounts is None else accounts).aggregate(n=Count("pk"))
    overridden = markets.exclude(override_segment="").count()
    return SegmentCounts(by_segment={s: rows.get(s, 0) for s in MarketSegment.values},
                         unclassified=totals["n"] - classified, overridden=overridden)


def segment_movements(*, date_from: dt.date, date_to: dt.date, accounts: QuerySet[Account] | None = None) -> list[dict]:
    """Moves between segments in the period: from, to, how many, by rules or by hand."""
    return list(
        _within(MarketSegmentChange.objects.all(), accounts).filter(occurred_at__date__gte=date_from, occurred_at__date__lte=date_to)
        .values("from_segment", "to_segment")
        .annotate(moves=Count("pk"), by_rules=Count("pk", filter=Q(source=MarketSegmentChange.Source.RULES)),
                  by_hand=Count("pk", filter=~Q(source=MarketSegmentChange.Source.RULES)))
        .order_by("from_segment", "to_segment")
    )


def segment_weekly_arrivals(*, date_from: dt.date, date_to: dt.date, accounts: QuerySet[Account] | None = None) -> list[dict]:
    """Per week and segment: accounts that moved into it."""
    return list(
        _within(MarketSegmentChange.objects.all(), accounts).filter(occurred_at__date__gte=date_from, occurred_at__date__lte=date_to)
        .annotate(week=TruncWeek("occurred_at")).values("week", "to_segment").annotate(n=Count("pk"))
        .order_by("week", "to_segment")
    )


def b_accounts_waiting_for_data_fix(*, limit: int = 200, accounts: QuerySet[Account] | None = None) -> QuerySet:
    """Segment B accounts a rep returned for bad data that ops have not fixed yet: a pending
    bad-data return, or an approved one held for data fixing (no fix recorded)."""
    waiting = ReturnRequest.objects.filter(reason=ReturnReason.BAD_DATA).filter(
        Q(status=ReturnRequest.Status.PENDING)
        | Q(status=ReturnRequest.Status.APPROVED, outcome=ReturnOutcome.DATA_FIX, data_fixed_at__isnull=True)
    )
    return (_within(waiting, accounts).filter(account__market__segment="B").select_related("account", "rep")
            .order_by("created_at", "pk")[:limit])


def g_accounts_proposed_for_removal(*, limit: int = 200, accounts: QuerySet[Account] | None = None) -> QuerySet[Account]:
    """Segment G (garbage) accounts: proposed for removal, oldest classification first."""
    return ((Account.objects.all() if accounts is None else accounts).filter(market__segment="G").select_related("owner", "market", "market__rule")
            .order_by("market__classified_at", "pk")[:limit])
