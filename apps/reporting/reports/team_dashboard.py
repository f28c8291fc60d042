"""The team dashboard: the MQL → SQL → Opp funnel against the targets, with diagnoses."""

from __future__ import annotations

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
        attainment = attainment_table(rep_ids=[r["rep_id"] for r in sdr_rows], month=scope.date_to.replace(day=1))
        return Result(tables=[table, attainment], chart=chart, summary=summary,
                      notes=["Targets and warning thresholds are edited by ops under Reporting › Funnel targets."])


# Pages over the other apps' models, registered in the order managers read them.
