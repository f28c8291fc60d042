"""The SDR scorecard for 1:1s: one SDR against the team averages on every metric, with the
funnel stage that drops most and the coaching hint for it."""

from __future__ import annotations

import dataclasses

from apps.people.models import Rep
from apps.reporting import balance
from apps.reporting import selectors as s
from apps.reporting.models import FunnelTargets
from apps.reporting.reports.attainment import attainment_table
from apps.reporting.reports.base import Report, pct_text, register
from apps.reporting.reports.lead_response import LEAD_RESPONSE_ZERO, finish_lead_response
from apps.reporting.reports.sales import meetings_by, pipeline_generated
from apps.reporting.reports.team_dashboard import funnel_rows
from apps.reporting.tables import Column, Result, Table, bar_chart, format_value, rate
from sdrops.access import rep_for_user

COACHING = {
    "mql_sql": ("MQL → SQL", "Qualification technique (seed: low MQL→SQL — review ICP targeting and qualification)"),
    "sql_opp": ("SQL → Opp", "Discovery / BANT execution (seed: low SQL→Opp — train on BANT)"),
}


def team_scope(scope, rep):
    """The reps the SDR is compared with: the active SDRs of the SDR's team, all of them even
    when the viewer may see only some (an SDR sees only themselves): the page shows the team
    as averages, never another rep's own figures, and an SDR's 1:1 needs the real team."""

    qs = Rep.objects.filter(role=Rep.Role.SDR, active=True)
    qs = qs.filter(team_id=rep.team_id) if rep.team_id else qs.filter(pk=rep.pk)
    ids = set(qs.values_list("pk", flat=True)) | {rep.pk}
    return dataclasses.replace(scope, rep_ids=tuple(sorted(ids)))


def biggest_drop(row: dict, thresholds: dict) -> tuple[str, str]:
    """The stage furthest below its target, relative to the target (None rates are skipped)."""
    gaps = []
    for key in ("mql_sql", "sql_opp"):
        value = row.get(key)
        target = thresholds[key][0]
        if value is not None and value <= target and target > 0:
            gaps.append(((target - value) / target, key))
    if not gaps:
        return "none below target", "—"
    _, key = max(gaps)
    return COACHING[key]


@register
class Scorecard(Report):
    slug = "scorecard"
    title = "SDR scorecard"
    description = "One SDR against the team averages on every metric, the funnel stage that drops most and the coaching hint for 1:1s."
    filters = ("date", "rep", "lead_type")
    rep_roles = ("sdr",)  # the rep list offers SDRs only: the scorecard compares SDRs

    def compute(self, *, scope, params) -> Result:

        rep = scope.rep
        if rep is None:
            own = rep_for_user(scope.user)
            if own is not None and own.role == own.Role.SDR:
                rep = own
        if rep is None:
            return Result(tables=[], notes=["Choose the SDR (Rep filter) to see their scorecard."])
        if rep.role != rep.Role.SDR:
            return Result(tables=[], notes=[f"{rep} is not an SDR ({rep.get_role_display()}): the scorecard compares SDRs. "
                                            "Choose an SDR."])
        team = team_scope(scope, rep)
        n = len(team.rep_ids)
        thresholds = FunnelTargets.load().thresholds()
        sets = s.cohort_stats(scope=team, breakdowns=("rep",), campaigns=True)
        funnel, funnel_total = funnel_rows(scope=team, stats=sets)
        mine = next((r for r in funnel if r["rep_id"] == rep.pk), None) or {}
        lr = {r["rep_id"]: finish_lead_response({**LEAD_RESPONSE_ZERO, **r}) for r in sets["rep"]}
        lr_mine = lr.get(rep.pk) or finish_lead_response(dict(LEAD_RESPONSE_ZERO))
        lr_team = finish_lead_response({**LEAD_RESPONSE_ZERO, **(sets["total"][0] if sets["total"] else {})})
        meetings = {r["sdr_id"]: r for r in meetings_by(scope=team, who="sdr")}
        m_mine = meetings.get(rep.pk, {})
        m_team = {k: sum(r.get(k, 0) for r in meetings.values()) for k in ("held", "no_show", "qualified")}
        research = {r["rep_id"]: r for r in s.activity_research_first(scope=team)}
        r_mine = research.get(rep.pk, {})
        r_team = {k: sum(r[k] for r in research.values()) for k in ("first_outreach", "researched")}
        pipeline = {r["sourcing_sdr_id"]: r for r in pipeline_generated(scope=team)}
        p_mine = pipeline.get(rep.pk, {})
        p_team = sum((r["amount"] or 0) for r in pipeline.values())

        def per_rep(total):
            return total / n if n else None

        # Inbound / outbound balance (issue 22 item 2): per working day, against the team's goals.
        split = balance.activity_split(scope=team)
        weekdays = len(s.weekdays_between(team.date_from, team.date_to)) or 1
        mine_split = split.get(rep.pk, {"inbound": 0, "outbound": 0})
        team_split = {k: sum(r[k] for r in split.values() if r["rep_id"] in team.rep_ids) for k in ("inbound", "outbound")}
        goal = balance.goals_by_team().get(rep.team_id)
        in_goal = f"goal {goal.inbound_per_day} a day" if goal else "no team goal set"
        out_goal = f"goal {goal.outbound_per_day} a day" if goal else "no team goal set"
        open_inbound = balance.open_inbound_leads(rep_ids=team.rep_ids)

        rows = [
            ("MQLs", "int", mine.get("mql", 0), per_rep(funnel_total["mql"]), "Lead cycles assigned in the period; team: mean per SDR."),
            ("SQLs", "int", mine.get("sql", 0), per_rep(funnel_total["sql"]), "MQLs with a Completed – Qualified meeting; team: mean per SDR."),
            ("Opps", "int", mine.get("opp", 0), per_rep(funnel_total["opp"]), "SQLs whose opportunity reached the pipeline stage; team: mean per SDR."),
            ("MQL→SQL", "pct", mine.get("mql_sql"), funnel_total["mql_sql"], f"SQLs ÷ MQLs; team: pooled; target > {thresholds['mql_sql'][0]:.0%}."),
            ("SQL→Opp", "pct", mine.get("sql_opp"), funnel_total["sql_opp"], f"Opps ÷ SQLs; team: pooled; target > {thresholds['sql_opp'][0]:.0%}."),
            ("MQL→Opp", "pct", mine.get("mql_opp"), funnel_total["mql_opp"], f"Opps ÷ MQLs; team: pooled; target > {thresholds['mql_opp'][0]:.0%}."),
            ("Pick-up rate", "pct", lr_mine["pick_up_rate"], lr_team["pick_up_rate"], "Picked up ÷ assigned."),
            ("Median response (h)", "num", lr_mine["median_h"], lr_team["median_h"], "Median first real touch − assigned at (policy clock); team: over all the team's cycles."),
            ("P90 response (h)", "num", lr_mine["p90_h"], lr_team["p90_h"], "90th percentile of the same."),
            ("Qualified rate", "pct", lr_mine["qualified_rate"], lr_team["qualified_rate"], "Qualified ÷ picked up."),
            ("SLA breaches", "int", lr_mine["breaches"], per_rep(lr_team["breaches"]), "Cycles past their SLA maximum; team: mean per SDR."),
            ("Dispositioned without touch", "int", lr_mine["no_touch"], per_rep(lr_team["no_touch"]), "Bypassed cycles; team: mean per SDR."),
            ("Activities per day", "num", mine.get("per_day"), per_rep(funnel_total["per_day"]), "Non-automated activities ÷ days; team: mean per SDR."),
            ("Inbound activities per working day", "num", mine_split["inbound"] / weekdays,
             per_rep(team_split["inbound"] / weekdays),
             f"Non-automated activities on inbound leads ÷ weekdays ({in_goal}); team: mean per SDR."),
            ("Outbound activities per working day", "num", mine_split["outbound"] / weekdays,
             per_rep(team_split["outbound"] / weekdays),
             f"Every other non-automated activity (outbound, target-account, account work) ÷ weekdays ({out_goal}); "
             "team: mean per SDR."),
            ("Inbound share of activity", "pct", rate(mine_split["inbound"], mine_split["inbound"] + mine_split["outbound"]),
             rate(team_split["inbound"], team_split["inbound"] + team_split["outbound"]), "Inbound ÷ all activities."),
            ("Accounts", "int", mine.get("accounts", 0), per_rep(funnel_total["accounts"]), "Accounts owned now; team: mean per SDR."),
            ("Open inbound leads", "int", open_inbound.get(rep.pk, 0), per_rep(sum(open_inbound.values())),
             "Inbound lead cycles assigned or working, held now (the book's inbound side); team: mean per SDR."),
            ("Meetings held", "int", m_mine.get("held", 0), per_rep(m_team["held"]), "Meetings scheduled in the period and held; team: mean per SDR."),
            ("No-show rate", "pct", rate(m_mine.get("no_show", 0), m_mine.get("held", 0) + m_mine.get("no_show", 0)),
             rate(m_team["no_show"], m_team["held"] + m_team["no_show"]), "No-shows ÷ (held + no-shows)."),
            ("Meeting qualified rate", "pct", rate(m_mine.get("qualified", 0), m_mine.get("held", 0)),
             rate(m_team["qualified"], m_team["held"]), "Meetings qualified ÷ held."),
            ("Research before first outreach", "pct", rate(r_mine.get("researched", 0), r_mine.get("first_outreach", 0)),
             rate(r_team["researched"], r_team["first_outreach"]),
             "Accounts first reached in the period researched (an “Intelligence run” activity) before the first outreach ÷ accounts first reached."),
            ("Pipeline generated", "money", p_mine.get("amount") or 0, per_rep(p_team), "Amount of sourced opportunities that reached the pipeline stage in the period; team: mean per SDR."),
        ]
        table_rows = []
        for metric, kind, value, team_value, definition in rows:
            table_rows.append({"metric": metric, "kind": kind, "value": value, "team": team_value, "definition": definition})
        columns = [Column("metric", "Metric", "text"),
                   Column("value_text", rep.owner_name, "text", "The SDR's own figure for the period."),
                   Column("team_text", "Team average", "text", "Counts: the mean per SDR of the SDR's team (its active SDRs); "
                          "rates: the team's pooled rate."),
                   Column("definition", "Definition", "text", "How the metric is computed.")]

        for row in table_rows:
            row["value_text"] = format_value(row["value"], Column("x", "x", row["kind"]))
            # A team average of a count is a mean per SDR: it keeps its decimal.
            row["team_text"] = format_value(row["team"], Column("x", "x", "num" if row["kind"] == "int" else row["kind"]))
        stage, hint = biggest_drop(mine, thresholds) if mine else ("no data", "—")
        summary = [("Biggest drop", stage), ("Coaching", hint), ("Compared with", f"{n} SDR{'s' if n != 1 else ''} of {rep.team or 'no team'}")]
        rates = [r for r in table_rows if r["kind"] == "pct"]
        chart = bar_chart(labels=[r["metric"] for r in rates], percent=True, datasets=[
            (rep.owner_name, [None if r["value"] is None else r["value"] * 100 for r in rates]),
            ("Team", [None if r["team"] is None else r["team"] * 100 for r in rates])])
        # Targets and attainment for the month of the period's end (issue 18).
        month = scope.date_to.replace(day=1)
        attainment = attainment_table(rep_ids=[rep.pk], month=month, title=f"{rep.owner_name}: targets and attainment")
        for row in attainment.rows:
            pace = (f"pace {pct_text(row['meetings_held_pace'])}" if row["meetings_held_pace"] is not None
                    else f"early in the month, {row['meetings_held_expected']:.0f} expected by today")
            summary.append(("Meetings held vs target", f"{row['meetings_held_done']:.0f} of {row['meetings_held_target']:.0f} "
                            f"({pct_text(row['meetings_held_pct'])}; {pace})"))
        return Result(tables=[Table("scorecard", f"{rep.owner_name} vs the team", columns, table_rows), attainment],
                      summary=summary, chart=chart)
