"""ICP refinement from returns and results (issue 19 item 6; seed 003, the SPA framework).

"Feedback without action means no more feedback": this page reads what reps and results say
about the scoring — returns by reason and conversion by tier — and turns the seed's three
refinement triggers into rule edits that open in the ICP impact preview (nothing changes until
ops confirm there):

1. **Returned as not an ICP fit** — "if there are a lot returned because they're not an ICP
   fit, you may need to review ICP criteria": a scoring rule whose accounts were returned
   *No ICP fit* at least RETURN_RATIO × as often as the ICP's other accounts (and at least
   MIN_RETURNS times) → halve its points (never below 1: a scoring rule gives at least one).
2. **Low scores outperforming high ones** — "have the highly-scored accounts turned into
   qualified opportunities?": when a lower tier converts at least TIER_RATIO × as well as a
   higher one (each with at least MIN_ACCOUNTS accounts), the rules whose accounts convert
   WORSE_RATIO × worse than the ICP's other accounts (or not at all while they do) are lifting
   the wrong accounts → halve their points. The ratios keep noise out: on the demo data tier B
   converting 15.5% against tier A's 15.1% is no inversion to act on.
3. **Include what converts** — "you'll likely find some things you should include that you
   didn't at first": a rule whose accounts convert at least LIFT_RATIO × as well as the ICP's
   other accounts (at least MIN_CONVERSIONS conversions) → raise its points by half (at least
   1, at most the category's cap).

One proposal per rule: the first trigger that fires, in that order.

Definitions (shown on the page): a *return* is a return filed in the period, not rejected by
ops (a rejected return said the account was fine) and not a retrieval (automatic, not a rep's
word). An account *converted* when one of its opportunities reached the pipeline stage (SAO)
in the period. Tiers and rule matches are the accounts' as scored now (the rules are
evaluated with the same compiled SQL the rescoring uses, apps.icps.scoring), over the accounts
matched to the rule's ICP. Every number is computed by PostgreSQL: three statements whatever
the number of accounts, ICPs or rules (plus the active ICPs, cached per process).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection
from django.urls import reverse
from django.utils import timezone

from apps.icps.models import CATEGORY_CAPS, Rule
from apps.icps.scoring import Params, active_icp_specs, compile_specs
from apps.reporting.tables import rate
from apps.routing.models import ReturnReason, ReturnRequest

RETURN_RATIO = 2.0
MIN_RETURNS = 3
MIN_ACCOUNTS = 10
LIFT_RATIO = 2.0
TIER_RATIO = 1.25
WORSE_RATIO = 1.5
MIN_CONVERSIONS = 3
TIERS = [("A", "Tier A"), ("B", "Tier B"), ("C", "Tier C"), ("", "No ICP match")]
COUNTED_RETURNS = "r.status <> %(rejected)s AND r.reason <> %(retrieval)s AND r.created_at >= %(start)s AND r.created_at < %(end)s"

TRIGGER_LABELS = {
    "returned_no_icp": "Returned as not an ICP fit",
    "low_outperforms_high": "Low scores outperform high ones",
    "include_what_converts": "Include what converts",
}


def _fetch(sql: str, params: dict) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _window(date_from: dt.date, date_to: dt.date) -> dict:
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(date_from, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return {"start": start, "end": end, "rejected": ReturnRequest.Status.REJECTED, "retrieval": ReturnReason.RETRIEVAL,
            "no_icp": ReturnReason.NO_ICP_FIT}


def returns_by_reason(*, date_from: dt.date, date_to: dt.date) -> list[dict]:
    """Per reason: returns in the period by the returned account's tier now."""
    rows = _fetch(
        f"""SELECT r.reason, coalesce(a.tier, '') AS tier, count(*)
              FROM routing_returnrequest r LEFT JOIN accounts_account a ON a.id = r.account_id
             WHERE {COUNTED_RETURNS}
             GROUP BY 1, 2""",
        _window(date_from, date_to),
    )
    labels = dict(ReturnReason.choices)
    total = sum(n for _r, _t, n in rows)
    out: dict[str, dict] = {}
    for reason, tier, n in rows:
        row = out.setdefault(reason, {"reason": labels.get(reason, reason), "returns": 0,
                                      **{f"tier_{code or 'none'}": 0 for code, _l in TIERS}})
        row["returns"] += n
        row[f"tier_{tier or 'none'}"] += n
    for row in out.values():
        row["share"] = rate(row["returns"], total)
    return sorted(out.values(), key=lambda r: (-r["returns"], r["reason"]))


_FLAGS = """
    conv AS MATERIALIZED (SELECT DISTINCT o.account_id FROM meetings_opportunity o
                           WHERE o.pipeline_at >= %(start)s AND o.pipeline_at < %(end)s),
    ret AS MATERIALIZED (SELECT DISTINCT r.account_id FROM routing_returnrequest r
                          WHERE r.reason = %(no_icp)s AND r.account_id IS NOT NULL AND """ + COUNTED_RETURNS + ")"


def conversion_by_tier(*, date_from: dt.date, date_to: dt.date) -> list[dict]:
    """Per tier (as scored now): accounts, converted in the period, returned No ICP fit."""
    rows = _fetch(
        f"""WITH {_FLAGS}
            SELECT a.tier, count(*), count(conv.account_id), count(ret.account_id)
              FROM accounts_account a
              LEFT JOIN conv ON conv.account_id = a.id
              LEFT JOIN ret ON ret.account_id = a.id
             GROUP BY a.tier""",
        _window(date_from, date_to),
    )
    found = {tier: (n, converted, returned) for tier, n, converted, returned in rows}
    out = []
    for code, label in TIERS:
        n, converted, returned = found.get(code, (0, 0, 0))
        out.append({"tier": code, "label": label, "accounts": n, "converted": converted,
                    "conversion": rate(converted, n), "returned_no_icp": returned, "returned_rate": rate(returned, n)})
    return out


def rule_stats(*, date_from: dt.date, date_to: dt.date, now: dt.datetime | None = None) -> list[dict]:
    """Per scoring rule (points > 0) of every active ICP, over the accounts matched to its ICP:
    accounts where the rule holds and the others, their No-ICP-fit returns and conversions."""
    now = now or timezone.now()
    specs = [s for s in active_icp_specs() if any(r.category != Rule.Category.QUALIFIER and r.points for r in s.rules)]
    if not specs:
        return []
    p = Params("r")
    compiled = compile_specs(specs, p=p, now=now, today=timezone.localdate(now), name="ref")
    params = {**_window(date_from, date_to), **p.values}
    columns, rules = [], []
    for spec, compiled_rules in compiled.conditions:
        icp = f"a.matched_icp_id = {int(spec.id)}"
        columns += [f"count(*) FILTER (WHERE {icp})", f"count(ret.account_id) FILTER (WHERE {icp})",
                    f"count(conv.account_id) FILTER (WHERE {icp})"]
        for rule, sql in compiled_rules:
            if rule.category == Rule.Category.QUALIFIER or not rule.points:
                continue
            rules.append((spec, rule))
            columns += [f"count(*) FILTER (WHERE {icp} AND {sql})", f"count(ret.account_id) FILTER (WHERE {icp} AND {sql})",
                        f"count(conv.account_id) FILTER (WHERE {icp} AND {sql})"]
    ids = ", ".join(str(int(spec.id)) for spec, _r in compiled.conditions)
    [values] = _fetch(
        f"""WITH {compiled.ctes}, {_FLAGS}
            SELECT {', '.join(columns)}
              FROM accounts_account a {compiled.sig_join}
              LEFT JOIN conv ON conv.account_id = a.id
              LEFT JOIN ret ON ret.account_id = a.id
             WHERE a.matched_icp_id IN ({ids})""",
        params,
    )
    out, i, icp_totals = [], 0, {}
    for spec, compiled_rules in compiled.conditions:
        icp_totals[spec.id] = values[i:i + 3]
        i += 3
        for rule, _sql in compiled_rules:
            if rule.category == Rule.Category.QUALIFIER or not rule.points:
                continue
            n, returned, converted = values[i:i + 3]
            i += 3
            all_n, all_returned, all_converted = icp_totals[spec.id]
            others, others_returned, others_converted = all_n - n, all_returned - returned, all_converted - converted
            out.append({
                "icp_id": spec.id, "icp": spec.name, "rule_id": rule.id, "rule": rule.label, "category": rule.category,
                # "Fit (max 40)" → "Fit": the cap is the category's, not this rule's.
                "category_label": Rule.Category(rule.category).label.split(" (")[0],
                "points": rule.points, "accounts": n, "returned": returned, "returned_rate": rate(returned, n),
                "others": others, "others_returned_rate": rate(others_returned, others),
                "converted": converted, "conversion": rate(converted, n), "others_conversion": rate(others_converted, others),
            })
    return out


@dataclass
class Proposal:
    trigger: str
    icp_id: int
    icp: str
    rule_id: int
    rule: str
    points: int
    proposed: int
    why: str

    @property
    def trigger_label(self) -> str:
        return TRIGGER_LABELS[self.trigger]

    @property
    def preview_url(self) -> str:
        return (reverse("admin:icps_icp_propose", args=[self.icp_id])
                + f"?rule={self.rule_id}&points={self.proposed}&trigger={self.trigger}")


def _pct(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _against(value: float, others: float) -> str:
    if others:
        return f"{value / others:.1f}× the rate of the ICP's other accounts ({_pct(others)})"
    return "against 0.0% of the ICP's other accounts"


def tier_inversion(tiers: list[dict]) -> str | None:
    """"Tier C converts 20.0% vs Tier A 5.0%" when a lower tier converts at least TIER_RATIO ×
    as well as a higher one (each with at least MIN_ACCOUNTS accounts), else None."""
    ranked = [t for t in tiers if t["tier"] and t["accounts"] >= MIN_ACCOUNTS]
    for high_index, high in enumerate(ranked):
        for low in ranked[high_index + 1:]:
            if (low["conversion"] or 0) > 0 and (low["conversion"] or 0) >= TIER_RATIO * (high["conversion"] or 0):
                return f"{low['label']} converts {_pct(low['conversion'])} vs {high['label']} {_pct(high['conversion'])}"
    return None


def proposals_from(*, rules: list[dict], tiers: list[dict]) -> list[Proposal]:
    inverted = tier_inversion(tiers)
    out = []
    for r in rules:
        halved = max(1, r["points"] // 2)  # a scoring rule gives at least 1 point (Rule.clean)
        base = {"icp_id": r["icp_id"], "icp": r["icp"], "rule_id": r["rule_id"], "rule": r["rule"], "points": r["points"]}
        returned, others_rate = r["returned_rate"] or 0, r["others_returned_rate"] or 0
        conversion, others_conversion = r["conversion"] or 0, r["others_conversion"] or 0
        if r["returned"] >= MIN_RETURNS and returned >= RETURN_RATIO * others_rate and halved < r["points"]:
            out.append(Proposal("returned_no_icp", proposed=halved, **base, why=(
                f"{r['returned']} of its {r['accounts']} accounts ({_pct(returned)}) were returned as No ICP fit, "
                f"{_against(returned, others_rate)}: halve its points.")))
        elif (inverted and r["accounts"] >= MIN_ACCOUNTS and r["others"] and others_conversion > 0
              and conversion * WORSE_RATIO <= others_conversion and halved < r["points"]):
            out.append(Proposal("low_outperforms_high", proposed=halved, **base, why=(
                f"{inverted}; accounts with this rule convert {_pct(conversion)} vs {_pct(others_conversion)} "
                f"without it: halve its points.")))
        elif r["converted"] >= MIN_CONVERSIONS and conversion >= LIFT_RATIO * others_conversion:
            cap = CATEGORY_CAPS.get(r["category"], r["points"])
            proposed = min(cap, r["points"] + max(1, r["points"] // 2))
            if proposed == r["points"]:
                continue
            out.append(Proposal("include_what_converts", proposed=proposed, **base, why=(
                f"{r['converted']} of its {r['accounts']} accounts ({_pct(conversion)}) converted, "
                f"{_against(conversion, others_conversion)}: weigh it more.")))
    return out
