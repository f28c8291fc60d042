"""Rules → SQL. The one place where ICP rules are turned into something that runs.

Each rule compiles to one SQL boolean over an account row `a` and one row of per-account
signal aggregates `<name>_sig`. The rescoring statement (services.accounts_rescore), the
explanation (selectors.account_score_explain) and the impact preview all use these
compiled expressions, so what the explanation shows is by construction what was scored.

Known limits: text comparisons ignore case; a signal dated in the future (occurred_at after
now) does not count yet; equal totals between ICPs go to the ICP created first (lowest id).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch

from apps.icps.models import CATEGORY_CAPS, ICP, Quadrant, Rule, ScoringSettings

# A not-yet-saved ICP in an impact preview sorts after every saved one.
UNSAVED_ICP_ID = 2**62
# Packing of (total, ICP preference, fit, opportunity, readiness) into one bigint:
# total × 10^12 + (999,999 − rank) × 10^6 + fit × 10^4 + opportunity × 10^2 + readiness.
PACK_TOTAL = 10**12
PACK_SCORES = 10**6
PACK_RANK = 999_999


@dataclass(frozen=True)
class RuleSpec:
    category: str
    condition: str
    points: int = 0
    values: tuple[str, ...] = ()
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    signal_type_id: int | None = None
    days: int | None = None
    id: int | None = None
    label: str = ""

    @classmethod
    def from_rule(cls, rule: Rule) -> RuleSpec:
        return cls(
            id=rule.pk, category=rule.category, condition=rule.condition, points=rule.points or 0,
            values=tuple(v.strip() for v in (rule.values or []) if v.strip()), minimum=rule.minimum,
            maximum=rule.maximum, signal_type_id=rule.signal_type_id, days=rule.days, label=rule.describe(),
        )


@dataclass(frozen=True)
class ICPSpec:
    id: int
    name: str
    rules: tuple[RuleSpec, ...] = field(default_factory=tuple)

    @classmethod
    def from_icp(cls, icp: ICP, rules=None) -> ICPSpec:
        rules = list(icp.rules.select_related("signal_type")) if rules is None else rules
        return cls(id=icp.pk or UNSAVED_ICP_ID, name=icp.name, rules=tuple(RuleSpec.from_rule(r) for r in rules))


def active_icp_specs() -> list[ICPSpec]:
    # Rules come with their signal types in one query (two statements in all): every account
    # created or changed compiles the scoring, a new inbound company included.
    rules = Prefetch("rules", queryset=Rule.objects.select_related("signal_type"))
    icps = ICP.objects.filter(active=True).prefetch_related(rules).order_by("pk")
    return [ICPSpec.from_icp(icp, list(icp.rules.all())) for icp in icps]


@dataclass(frozen=True)
class Thresholds:
    tier_a_min: int = 70
    tier_b_min: int = 40
    fit_threshold: int = 24
    readiness_threshold: int = 15

    @classmethod
    def load(cls) -> Thresholds:
        s = ScoringSettings.load()
        return cls(s.tier_a_min, s.tier_b_min, s.fit_threshold, s.readiness_threshold)

    def tier(self, total: int) -> str:
        return "A" if total >= self.tier_a_min else "B" if total >= self.tier_b_min else "C"

    def quadrant(self, fit: int, readiness: int) -> str:
        is_fit, in_market = fit >= self.fit_threshold, readiness >= self.readiness_threshold
        if is_fit:
            return Quadrant.GOOD_PLACE if in_market else Quadrant.GET_BACK_TO_ME
        return Quadrant.FALSE_HOPE if in_market else Quadrant.BAD_PLACE


class Params:
    """Named parameters, so SQL fragments can be assembled in any order."""

    def __init__(self, prefix: str = "p"):
        self.prefix = prefix
        self.values: dict[str, Any] = {}

    def __call__(self, value: Any) -> str:
        name = f"{self.prefix}{len(self.values)}"
        self.values[name] = value
        return f"%({name})s"


@dataclass
class Compiled:
    """CTEs `<name>_sig` (signal aggregates per account) and `<name>_best` (the best
    qualifying ICP per account: account_id, icp_id, fit, opp, rdy, total)."""

    ctes: str
    # [(icp spec, [(rule spec, SQL boolean), ...])]
    conditions: list[tuple[ICPSpec, list[tuple[RuleSpec, str]]]]
    sig_join: str


def _lower(values) -> list[str]:
    return [v.lower() for v in values]


def compile_specs(
    specs: list[ICPSpec], *, p: Params, now: dt.datetime, today: dt.date, name: str = "c",
    account_ids: list[int] | None = None, carry: dict[str, str] | None = None,
) -> Compiled:
    """`carry`: output column → SQL over the account row `a`, passed through to `<name>_best`
    (the rescoring compares the stored scores there, so it reads the accounts table once)."""
    C = Rule.Condition
    carried = "".join(f", {sql} AS {column}" for column, sql in (carry or {}).items())
    passed = "".join(f", {column}" for column in (carry or {}))
    specs = sorted(specs, key=lambda spec: spec.id)  # rank = age: equal totals go to the older ICP
    sig = f"{name}_sig"
    aggregates: list[str] = []
    signal_types: set[int] = set()
    conditions: list[tuple[ICPSpec, list[tuple[RuleSpec, str]]]] = []

    # Rules that look at the same signals over the same window share one aggregate.
    shared: dict[tuple, str] = {}

    def agg(key: tuple, build) -> str:
        if key not in shared:
            column = f"s{len(aggregates)}"
            aggregates.append(f"{build()} AS {column}")
            shared[key] = f"{sig}.{column}"
        return shared[key]

    for spec in specs:
        compiled_rules = []
        for rule in spec.rules:
            cond = rule.condition
            if cond in (C.INDUSTRY_IN, C.COUNTRY_IN, C.REGION_IN):
                column = {C.INDUSTRY_IN: "industry", C.COUNTRY_IN: "country", C.REGION_IN: "region"}[cond]
                sql = f"lower(a.{column}) = ANY({p(_lower(rule.values))})" if rule.values else "FALSE"
            elif cond == C.INDUSTRY_NOT_IN:
                sql = f"NOT (lower(a.industry) = ANY({p(_lower(rule.values))}))" if rule.values else "TRUE"
            elif cond == C.SEGMENT_IN:
                sql = f"a.segment = ANY({p(list(rule.values))})" if rule.values else "FALSE"
            elif cond == C.TECHNOLOGY_PRESENT:
                sql = (
                    f"EXISTS (SELECT 1 FROM unnest(a.technologies) AS tech WHERE lower(tech) = ANY({p(_lower(rule.values))}))"
                    if rule.values else "FALSE"
                )
            elif cond in (C.EMPLOYEES_BETWEEN, C.REVENUE_BETWEEN):
                column = "a.employees" if cond == C.EMPLOYEES_BETWEEN else "a.annual_revenue"
                parts = [f"{column} IS NOT NULL"]
                if rule.minimum is not None:
                    parts.append(f"{column} >= {p(rule.minimum)}")
                if rule.maximum is not None:
                    parts.append(f"{column} <= {p(rule.maximum)}")
                sql = " AND ".join(parts)
            elif cond in Rule.SIGNAL_CONDITIONS:
                if rule.signal_type_id is None:
                    sql = "FALSE"
                else:
                    signal_types.add(rule.signal_type_id)
                    key = (cond, rule.signal_type_id, rule.days)

                    def type_match(rule=rule) -> str:
                        return f"s.type_id = {p(rule.signal_type_id)}"

                    if cond == C.SIGNAL_COUNT:
                        since = now - dt.timedelta(days=rule.days or 0)
                        column = agg(
                            key, lambda t=type_match, since=since: f"count(*) FILTER (WHERE {t()} AND s.occurred_at >= {p(since)})"
                        )
                        sql = f"coalesce({column}, 0) >= {p(int(rule.minimum or 1))}"
                    elif cond == C.SIGNAL_DATE_UPCOMING:
                        until = today + dt.timedelta(days=rule.days or 0)
                        column = agg(
                            key, lambda t=type_match, until=until: f"bool_or(s.date BETWEEN {p(today)} AND {p(until)}) FILTER (WHERE {t()})"
                        )
                        sql = f"coalesce({column}, FALSE)"
                    elif cond == C.SIGNAL_DATE_REACHED:
                        window = f" AND s.date >= {p(today - dt.timedelta(days=rule.days))}" if rule.days is not None else ""
                        column = agg(key, lambda t=type_match, w=window: f"bool_or(s.date <= {p(today)}{w}) FILTER (WHERE {t()})")
                        sql = f"coalesce({column}, FALSE)"
                    else:  # latest value at or above a threshold
                        column = agg(
                            (cond, rule.signal_type_id),
                            lambda t=type_match: f"(array_agg(s.value ORDER BY s.occurred_at DESC, s.id DESC) FILTER (WHERE {t()} AND s.value IS NOT NULL))[1]",
                        )
                        sql = f"coalesce({column} >= {p(rule.minimum)}, FALSE)" if rule.minimum is not None else "FALSE"
            else:  # an unknown condition never gives points
                sql = "FALSE"
            compiled_rules.append((rule, f"coalesce(({sql}), FALSE)"))
        conditions.append((spec, compiled_rules))

    scope_signals = f" AND s.account_id = ANY({p(account_ids)})" if account_ids is not None else ""
    if aggregates:
        sig_cte = (
            f"{sig} AS (SELECT s.account_id, {', '.join(aggregates)}"
            f" FROM icps_signal s JOIN icps_signaltype t ON t.id = s.type_id"
            f" WHERE s.type_id = ANY({p(sorted(signal_types))}) AND s.occurred_at <= {p(now)}"
            f" AND (t.lifetime_days IS NULL OR s.occurred_at >= {p(now)} - t.lifetime_days * interval '1 day')"
            f"{scope_signals} GROUP BY s.account_id)"
        )
        sig_join = f"LEFT JOIN {sig} ON {sig}.account_id = a.id"
    else:
        sig_cte = f"{sig} AS (SELECT NULL::bigint AS account_id WHERE FALSE)"
        sig_join = ""

    # One row per account. Each ICP's three capped sums are computed once, behind an
    # OFFSET 0 fence (otherwise the planner inlines them into every reference), packed into
    # one number fit × 10^4 + opportunity × 10^2 + readiness under one test of the
    # qualifiers. The best ICP is then picked with GREATEST over a packed bigint — total,
    # then the older ICP (lower rank), then fit / opportunity / readiness — so no rows are
    # multiplied or sorted.
    columns = []
    packed = []
    for rank, (_spec, compiled_rules) in enumerate(conditions):
        qualifiers = [sql for rule, sql in compiled_rules if rule.category == Rule.Category.QUALIFIER]
        qualified = " AND ".join(qualifiers) or "TRUE"
        sums = []
        for scale, category in ((10000, "fit"), (100, "opportunity"), (1, "readiness")):
            terms = [
                f"CASE WHEN {sql} THEN {int(rule.points)} ELSE 0 END"
                for rule, sql in compiled_rules if rule.category == category
            ]
            capped = f"LEAST({CATEGORY_CAPS[category]}, {' + '.join(terms)})" if terms else "0"
            sums.append(f"{capped} * {scale}" if scale != 1 else capped)
        # Points are only worth computing for accounts that meet the qualifiers.
        columns.append(f"CASE WHEN {qualified} THEN {' + '.join(sums)} END AS s{rank}")
        packed.append(
            f"(s{rank} / 10000 + mod(s{rank} / 100, 100) + mod(s{rank}, 100))::bigint * {PACK_TOTAL}"
            f" + {PACK_RANK - rank}::bigint * {PACK_SCORES} + s{rank}"
        )
    scope_accounts = f" WHERE a.id = ANY({p(account_ids)})" if account_ids is not None else ""
    if conditions:
        ids = ", ".join(str(int(spec.id)) for spec, _rules in conditions)
        best_packed = f"GREATEST({', '.join(packed)})" if len(packed) > 1 else packed[0]
        best_cte = (
            f"{name}_per AS (SELECT a.id AS account_id{carried}, {', '.join(columns)} FROM accounts_account a {sig_join}"
            f"{scope_accounts} OFFSET 0), "
            f"{name}_packed AS (SELECT account_id{passed}, {best_packed} AS packed FROM {name}_per OFFSET 0), "
            f"{name}_best AS (SELECT account_id{passed},"
            f" (ARRAY[{ids}]::bigint[])[{PACK_RANK} - mod(packed / {PACK_SCORES}, {PACK_SCORES}) + 1] AS icp_id,"
            f" coalesce(mod(packed / 10000, 100)::int, 0) AS fit, coalesce(mod(packed / 100, 100)::int, 0) AS opp,"
            f" coalesce(mod(packed, 100)::int, 0) AS rdy, coalesce((packed / {PACK_TOTAL})::int, 0) AS total"
            f" FROM {name}_packed)"
        )
    else:
        best_cte = (
            f"{name}_best AS (SELECT a.id AS account_id{carried}, NULL::bigint AS icp_id, 0 AS fit, 0 AS opp,"
            f" 0 AS rdy, 0 AS total FROM accounts_account a{scope_accounts})"
        )
    return Compiled(ctes=f"{sig_cte}, {best_cte}", conditions=conditions, sig_join=sig_join)


def tier_sql(best: str, t: Thresholds, p: Params) -> str:
    return (
        f"CASE WHEN {best}.icp_id IS NULL THEN '' WHEN {best}.total >= {p(t.tier_a_min)} THEN 'A'"
        f" WHEN {best}.total >= {p(t.tier_b_min)} THEN 'B' ELSE 'C' END"
    )


def quadrant_sql(best: str, t: Thresholds, p: Params) -> str:
    fit, ready = f"{best}.fit >= {p(t.fit_threshold)}", f"{best}.rdy >= {p(t.readiness_threshold)}"
    return (
        f"CASE WHEN {best}.icp_id IS NULL THEN ''"
        f" WHEN {fit} AND {ready} THEN '{Quadrant.GOOD_PLACE.value}'"
        f" WHEN {fit} THEN '{Quadrant.GET_BACK_TO_ME.value}'"
        f" WHEN {ready} THEN '{Quadrant.FALSE_HOPE.value}'"
        f" ELSE '{Quadrant.BAD_PLACE.value}' END"
    )
