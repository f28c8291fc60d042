"""The ICP coverage page: matched accounts, tiers and how much of tier A was contacted."""

from __future__ import annotations

from apps.reporting import selectors as s
from apps.reporting.reports.base import Report, pct_text, register
from apps.reporting.reports.team_dashboard import RATES
from apps.reporting.tables import Column, Result, Table, bar_chart, rate


@register
class IcpCoverage(Report):
    slug = "icp-coverage"
    title = "ICP coverage"
    description = "ICP match rate, score of worked accounts, tier-A accounts contacted, score distribution and conversion by tier."
    filters = ("date", "team", "rep", "segment")
    segment_filters_reps = False

    def compute(self, *, scope, params) -> Result:
        zero = {"accounts": 0, "matched": 0, "worked_accounts": 0, "avg_score_worked": None, "tier_a": 0, "tier_a_contacted": 0}
        coverage = s.icp_coverage_by_owner(scope=scope)
        roster = s.roster(scope=scope)
        names = s.rep_names({r["owner_id"] for r in coverage} - {r["pk"] for r in roster})
        for row in coverage:
            row["owner__owner_name"] = names.get(row["owner_id"]) or ("(pool)" if row["owner_id"] is None else None)
        rows = s.merge_by_rep(reps=roster, rows=coverage, key="owner_id", name="owner__owner_name", zero=zero)
        total = {k: sum(r[k] for r in rows) for k in ("accounts", "matched", "worked_accounts", "tier_a", "tier_a_contacted")}
        worked_score = sum((r["avg_score_worked"] or 0) * r["worked_accounts"] for r in rows)
        total.update(rep="All", avg_score_worked=rate(worked_score, total["worked_accounts"]))
        statuses = {}
        for index, row in [*enumerate(rows), ("total", total)]:
            row["matched_share"] = rate(row["matched"], row["accounts"])
            row["tier_a_contacted_share"] = rate(row["tier_a_contacted"], row["tier_a"])
            for key, ok in (("matched_share", lambda v: v > 0.8), ("avg_score_worked", lambda v: v > 60),
                            ("tier_a_contacted_share", lambda v: v >= 1)):
                if row[key] is not None:
                    statuses[(index, key)] = "good" if ok(row[key]) else "bad"
        owners = Table("owners", "Coverage per owner", [
            Column("rep", "Owner", "text"),
            Column("accounts", "Accounts", "int", "Accounts owned now (in the segment, if chosen); for ops unfiltered, the pool too."),
            Column("matched", "ICP matched", "int", "Accounts with a matched ICP."),
            Column("matched_share", "ICP match %", "pct", "ICP matched ÷ accounts; target > 80%.", 0),
            Column("worked_accounts", "Worked", "int", "Accounts with a non-automated activity in the period."),
            Column("avg_score_worked", "Avg score worked", "num", "Mean total score (0-100) of worked accounts; target > 60."),
            Column("tier_a", "Tier A", "int", "Accounts in tier A."),
            Column("tier_a_contacted", "Tier A contacted", "int", "Tier A accounts with a non-automated call, email, social touch or meeting in the period."),
            Column("tier_a_contacted_share", "Tier A contacted %", "pct", "Tier A contacted ÷ tier A; target 100%.", 0),
        ], rows, total=total if rows else None, statuses=statuses)
        hist = {r["band"]: r["n"] for r in s.icp_score_histogram(scope=scope)}
        hist_rows = [{"band": f"{b * 10}-{b * 10 + 9 if b < 9 else 100}", "accounts": hist.get(b, 0)} for b in range(10)]
        histogram = Table("histogram", "Total score distribution", [
            Column("band", "Total score", "text"), Column("accounts", "Accounts", "int", "Accounts whose total score falls in the band."),
        ], hist_rows if any(r["accounts"] for r in hist_rows) else [])
        tables = [owners, histogram]
        tables.extend(self._conversion_by_tier(scope=scope))
        chart = bar_chart(labels=[r["band"] for r in hist_rows], datasets=[("Accounts", [r["accounts"] for r in hist_rows])])
        summary = [
            ("ICP match", pct_text(total.get("matched_share"))),
            ("Avg score worked", "no data" if total["avg_score_worked"] is None else f"{total['avg_score_worked']:.1f}"),
            ("Tier A contacted", pct_text(total.get("tier_a_contacted_share"))),
        ]
        return Result(tables=tables, chart=chart, summary=summary)

    def _conversion_by_tier(self, *, scope) -> list[Table]:
        found = {r["contact__account__tier"] or "": r for r in s.funnel_by_tier(scope=scope)}
        rows = []
        for tier in (*s.TIERS, ""):
            row = found.get(tier)
            if row is None and tier == "":
                continue
            row = {"mql": 0, "sql": 0, "opp": 0, **(row or {}), "tier": f"Tier {tier}" if tier else "Unscored"}
            for key, numerator, denominator in RATES:
                row[key] = rate(row[numerator], row[denominator])
            rows.append(row)
        # Other tier letters (if the bands are ever renamed) are folded into "Unscored" above.
        note = ""
        scored = [r for r in rows if r["tier"] != "Unscored" and r["mql_opp"] is not None]
        if len(scored) >= 2 and scored[0]["tier"] == "Tier A" and any(r["mql_opp"] > scored[0]["mql_opp"] for r in scored[1:]):
            note = "ICP refinement trigger: lower tiers convert to opportunities better than tier A — review the ICP's scoring."
        return [Table("by-tier", "Conversion by tier (do high scores convert better?)", [
            Column("tier", "Tier", "text"),
            Column("mql", "MQLs", "int", "Lead cycles assigned in the period whose account is in the tier (now)."),
            Column("sql", "SQLs", "int", "Of those, with a Completed – Qualified meeting."),
            Column("opp", "Opps", "int", "Of those SQLs, with an opportunity that reached the pipeline stage."),
            Column("mql_sql", "MQL→SQL", "pct", "SQLs ÷ MQLs."),
            Column("sql_opp", "SQL→Opp", "pct", "Opps ÷ SQLs."),
            Column("mql_opp", "MQL→Opp", "pct", "Opps ÷ MQLs."),
        ], rows if any(r["mql"] for r in rows) else [], note=note)]


