"""The team dashboard: the MQL → SQL → Opp funnel against the targets, with diagnoses."""

from __future__ import annotations

import dataclasses
import datetime as dt

from apps.meetings.models import Opportunity
from apps.reporting import rollup_reads as kept
from apps.reporting import sales_reads
from apps.reporting import selectors as s
from apps.reporting.models import FunnelTargets
from apps.reporting.reports.attainment import attainment_table
from apps.reporting.reports.base import Report, pct_text, register
from apps.reporting.tables import Column, Result, Table, bar_chart, rate

RATES = (("mql_sql", "sql", "mql"), ("sql_opp", "opp", "sql"), ("mql_opp", "opp", "mql"))


def rate_status(value, target: float, warning: float) -> str:
    """Above the target: good; below the warning threshold: bad; between: warn."""
    if value is None:
        return ""
    if value > target:
        return "good"
    if value < warning:
        return "bad"
    return "warn"


def diagnose(row: dict, thresholds: dict, *, average_mql: float | None) -> list[str]:
    """The seed's diagnosis table, applied to one row's numbers."""
    hints = []
    if row["mql_sql"] is not None and row["mql_sql"] < thresholds["mql_sql"][1]:
        hints.append("Low MQL→SQL: poor ICP targeting — review ICP criteria")
    if row["sql_opp"] is not None and row["sql_opp"] < thresholds["sql_opp"][1]:
        hints.append("Low SQL→Opp: weak discovery/qualification — train on BANT")
    if average_mql and row["mql_opp"] is not None:
        if row["mql"] > average_mql and row["mql_opp"] < thresholds["mql_opp"][1]:
            hints.append("High volume, low conversion: quantity over quality — focus on personalization")
        if row["mql"] < average_mql and row["mql_opp"] > thresholds["mql_opp"][0]:
            hints.append("High conversion, low volume: capacity issue — expand territory/team")
    return hints


FUNNEL_ZERO = {"mql": 0, "sql": 0, "opp": 0, "campaigns": 0}


def funnel_rows(*, scope, stats: dict | None = None) -> tuple[list[dict], dict]:
    """Per-rep and team funnel rows with rates, accounts and activity volume (5 queries; 4 when
    the cohort's `stats` are given)."""
    by_rep, total = s.funnel_sets(scope=scope, stats=stats)
    roster = s.roster(scope=scope)
    names = s.rep_names({r["rep_id"] for r in by_rep} - {r["pk"] for r in roster})
    for row in by_rep:
        row["rep__owner_name"] = names.get(row["rep_id"])
    rows = s.merge_by_rep(reps=roster, rows=by_rep, zero=FUNNEL_ZERO)
    total = {**FUNNEL_ZERO, **total, "rep": "Team"}
    accounts = s.accounts_by_owner(scope=scope)
    activities = s.activities_by_rep(scope=scope)
    weeks = scope.days / 7
    for row in rows:
        row["accounts"] = accounts.get(row["rep_id"], 0)
        row["activities"] = activities.get(row["rep_id"], 0)
    total["accounts"] = sum(accounts.values()) if scope.rep_ids is None else sum(r["accounts"] for r in rows)
    total["activities"] = sum(activities.values()) if scope.rep_ids is None else sum(r["activities"] for r in rows)
    for row in [*rows, total]:
        for key, numerator, denominator in RATES:
            row[key] = rate(row[numerator], row[denominator])
        row["per_day"] = row["activities"] / scope.days
        row["per_week"] = row["activities"] / weeks
    return rows, total


@register
class TeamDashboard(Report):
    slug = "team-dashboard"
    title = "Team dashboard"
    description = "MQL → SQL → Opportunity per SDR and team against targets, with the diagnosis; accounts, active campaigns, activity volume."

    def compute(self, *, scope, params) -> Result:

        thresholds = FunnelTargets.load().thresholds()
        rows, total = funnel_rows(scope=scope)
        sdr_rows = [r for r in rows if r["rep_id"] is not None]
        average_mql = (sum(r["mql"] for r in sdr_rows) / len(sdr_rows)) if sdr_rows else None
        statuses = {}
        for index, row in [*enumerate(rows), ("total", total)]:
            for key, _, _ in RATES:
                status = rate_status(row[key], *thresholds[key])
                if status:
                    statuses[(index, key)] = status
            hints = diagnose(row, thresholds, average_mql=average_mql if index != "total" else None)
            row["diagnosis"] = "; ".join(hints) if hints else ("no data" if not row["mql"] else "—")
        t = {key: (f"{target * 100:g}%", f"{warning * 100:g}%") for key, (target, warning) in thresholds.items()}
        columns = [
            Column("rep", "SDR", "text"),
            Column("mql", "MQLs", "int", "Lead cycles assigned in the period (cohort by assigned date; a recycled lead once per cycle)."),
            Column("sql", "SQLs", "int", "MQLs with a Completed – Qualified meeting booked in the cycle (whenever it was held)."),
            Column("opp", "Opps", "int", "SQLs whose opportunity reached the pipeline stage (SAO)."),
            Column("mql_sql", "MQL→SQL", "pct", f"SQLs ÷ MQLs; target > {t['mql_sql'][0]}, warning < {t['mql_sql'][1]}."),
            Column("sql_opp", "SQL→Opp", "pct", f"Opps ÷ SQLs; target > {t['sql_opp'][0]}, warning < {t['sql_opp'][1]}."),
            Column("mql_opp", "MQL→Opp", "pct", f"Opps ÷ MQLs; target > {t['mql_opp'][0]}, warning < {t['mql_opp'][1]}."),
            Column("diagnosis", "Diagnosis", "text", "From the seed's table: low MQL→SQL → review ICP criteria; low SQL→Opp → train on BANT; MQLs above the team's average per SDR with MQL→Opp below warning → focus on personalization; below average with MQL→Opp above target → expand territory/team."),
            Column("accounts", "Accounts", "int", "Accounts the rep owns now."),
            Column("campaigns", "Active campaigns", "int", "Distinct campaign records (admin → Campaigns) the period's picked-up lead cycles arrived with (the team figure counts each campaign once)."),
            Column("activities", "Activities", "int", "Non-automated activities in the period."),
            Column("per_day", "Per day", "num", "Activities ÷ days in the period."),
            Column("per_week", "Per week", "num", "Activities ÷ (days in the period ÷ 7)."),
        ]
        table = Table("funnel", "Funnel per SDR", columns, rows, total=total, statuses=statuses)
        chart = bar_chart(labels=[r["rep"] for r in rows] + ["Team"], percent=True, datasets=[
            (label, [None if r[key] is None else r[key] * 100 for r in [*rows, total]])
            for key, label in (("mql_sql", "MQL→SQL %"), ("sql_opp", "SQL→Opp %"), ("mql_opp", "MQL→Opp %"))])
        summary = [("MQLs", str(total["mql"])), ("SQLs", str(total["sql"])), ("Opps", str(total["opp"])),
                   ("MQL→SQL", pct_text(total["mql_sql"])), ("SQL→Opp", pct_text(total["sql_opp"])),
                   ("MQL→Opp", pct_text(total["mql_opp"])), ("Activities per day", f"{total['per_day']:.1f}")]
        comparison = period_comparison(scope=scope, total=total)
        attainment = attainment_table(rep_ids=[r["rep_id"] for r in sdr_rows], month=scope.date_to.replace(day=1))
        return Result(tables=[table, attainment, comparison], chart=chart, summary=summary,
                      notes=["Targets and warning thresholds are edited by ops under Reporting › Funnel targets."])


TRAILING_PERIODS = 4


def _shifted(scope, *, periods: int, length: int = 1):
    """The scope moved back `periods` period lengths, spanning `length` periods."""
    days = dt.timedelta(days=scope.days)
    start = scope.start - days * periods
    return dataclasses.replace(scope, date_from=scope.date_from - days * periods,
                               date_to=scope.date_from - days * periods + days * length - dt.timedelta(days=1),
                               start=start, end=start + days * length)


def period_comparison(*, scope, total: dict) -> Table:
    """The weekly review's comparison (seed 000: "MQL volume vs history", "deal value
    averages"): this period against the one before it and the trailing average of the
    TRAILING_PERIODS periods before this one, the previous included (same length each). Counts of the trailing window
    are divided by its periods; its rates are pooled (its SQLs ÷ its MQLs). Three statements."""
    previous_scope = _shifted(scope, periods=1)
    trailing_scope = _shifted(scope, periods=TRAILING_PERIODS, length=TRAILING_PERIODS)
    windows = {"now": scope, "previous": previous_scope, "trailing": trailing_scope}
    if s.history_mode():
        totals, deals = _comparison_history(scope, previous_scope, trailing_scope, windows, total)
    else:  # from the daily cycle and opportunity rollups (apps.reporting.rollup_reads, sales_reads): one statement
        cohorts, params = kept.cohort_totals_sql({"previous": previous_scope, "trailing": trailing_scope})
        deal_sql, deal_params = sales_reads.deals_by_window_sql(scope, windows={
            "now": (scope.start, scope.end), "previous": (previous_scope.start, previous_scope.end),
            "trailing": (trailing_scope.start, scope.start)})
        rows = s.fetch_dicts(f"""WITH c AS ({cohorts}), d AS ({deal_sql})
            SELECT 'cohort' AS kind, name, mql, sql, opp, NULL::numeric AS avg FROM c
            UNION ALL SELECT 'deals', label, n, 0, 0, avg FROM d""", {**params, **deal_params})
        totals = {"now": total, **{r["name"]: {k: r[k] for k in ("mql", "sql", "opp")} for r in rows if r["kind"] == "cohort"}}
        found = {r["name"]: r for r in rows if r["kind"] == "deals"}
        deals = {f"{key}_{what}": found[key][field] if key in found else (None if what == "avg" else 0)
                 for key in windows for what, field in (("avg", "avg"), ("n", "mql"))}
    return _comparison_table(scope, previous_scope, trailing_scope, totals, deals)


def _comparison_history(scope, previous_scope, trailing_scope, windows, total):
    # One statement: the trailing window's cohort (the previous period is its last part) and
    # the deals that reached the pipeline in each window.
    with_sql, params = s.cohort_sql(trailing_scope)
    deal_rep = "" if scope.rep_ids is None else "AND sourcing_sdr_id = ANY(%(deal_reps)s)"
    params.update(deal_reps=list(scope.rep_ids or []), p_start=previous_scope.start, p_end=previous_scope.end,
                  d_start=trailing_scope.start, d_end=scope.end, n_start=scope.start)
    window_filters = {"now": "pipeline_at >= %(n_start)s", "previous": "pipeline_at >= %(p_start)s AND pipeline_at < %(p_end)s",
                      "trailing": "pipeline_at < %(n_start)s"}
    deal_columns = ", ".join(
        f"(SELECT avg(amount) FILTER (WHERE {f}) FROM deals) AS {key}_avg, (SELECT count(*) FILTER (WHERE {f}) FROM deals) AS {key}_n"
        for key, f in window_filters.items())
    sql = f"""{with_sql},
        deals AS (SELECT amount, pipeline_at FROM {Opportunity._meta.db_table}
                  WHERE pipeline_at >= %(d_start)s AND pipeline_at < %(d_end)s {deal_rep})
        SELECT count(*) AS trailing_mql, count(*) FILTER (WHERE is_sql) AS trailing_sql,
               count(*) FILTER (WHERE is_opp) AS trailing_opp,
               count(*) FILTER (WHERE assigned_at >= %(p_start)s) AS previous_mql,
               count(*) FILTER (WHERE is_sql AND assigned_at >= %(p_start)s) AS previous_sql,
               count(*) FILTER (WHERE is_opp AND assigned_at >= %(p_start)s) AS previous_opp,
               {deal_columns}
        FROM cohort"""
    row = s.fetch_dicts(sql, params)[0]
    totals = {"now": total, **{key: {what: row[f"{key}_{what}"] for what in ("mql", "sql", "opp")} for key in ("previous", "trailing")}}
    deals = {f"{key}_{what}": row[f"{key}_{what}"] for key in windows for what in ("avg", "n")}
    return totals, deals


def _comparison_table(scope, previous_scope, trailing_scope, totals, deals) -> Table:
    def values(key):
        row = totals[key]
        divide = TRAILING_PERIODS if key == "trailing" else 1
        return {"mql": row["mql"] / divide, "sql": row["sql"] / divide, "opp": row["opp"] / divide,
                "mql_sql": rate(row["sql"], row["mql"]), "sql_opp": rate(row["opp"], row["sql"]),
                "deals": deals[f"{key}_n"] / divide, "deal_value": deals[f"{key}_avg"]}

    now, previous, trailing = values("now"), values("previous"), values("trailing")
    labels = {"mql": ("MQLs", "num"), "sql": ("SQLs", "num"), "opp": ("Opps", "num"), "mql_sql": ("MQL→SQL", "pct"),
              "sql_opp": ("SQL→Opp", "pct"), "deals": ("Opportunities in the pipeline", "num"),
              "deal_value": ("Average deal value", "num")}

    def change(a, b):
        return None if a is None or b is None else float(a) - float(b)

    rows = [{"metric": label, "now": now[key], "previous": previous[key], "change": change(now[key], previous[key]),
             "trailing": trailing[key], "vs_trailing": change(now[key], trailing[key])}
            for key, (label, kind) in labels.items()]
    for row, (_key, (_label, kind)) in zip(rows, labels.items(), strict=True):
        if kind == "pct":
            for field in ("now", "previous", "change", "trailing", "vs_trailing"):
                row[field] = None if row[field] is None else round(row[field] * 100, 1)
    return Table("comparison", "This period against the previous one and the trailing average", [
        Column("metric", "Measure", "text"),
        Column("now", "This period", "num", f"{scope.date_from} – {scope.date_to}. Rates in %.", 1),
        Column("previous", "Previous period", "num", f"{previous_scope.date_from} – {previous_scope.date_to}, as long as this one.", 1),
        Column("change", "Change", "num", "This period − previous (rates: percentage points).", 1),
        Column("trailing", f"Trailing average ({TRAILING_PERIODS} periods)", "num",
               f"{trailing_scope.date_from} – {trailing_scope.date_to}: counts ÷ {TRAILING_PERIODS}; rates pooled over the "
               "window (its SQLs ÷ its MQLs); the average deal value over all its opportunities.", 1),
        Column("vs_trailing", "vs trailing", "num", "This period − trailing average (rates: percentage points).", 1),
    ], rows, note="MQLs, SQLs and Opps as in the funnel (cycles assigned in each window); opportunities in the pipeline "
                  "and their average amount by the day they reached the pipeline stage, sourced by the SDRs in scope.")


# Pages over the other apps' models, registered in the order managers read them.
