"""The nurture report page: who is in nurture and for how long, and what came back.

"In nurture" is a lead whose latest cycle was dispositioned nurture (a snapshot now, by the
rep who nurtured it; summed from the day rollups of reporting_nurturefact, kept by triggers:
nurture_rollups). "Recycled" is a cycle assigned in the period whose contact's previous cycle
ended in nurture — from a program's recycle or a lead that came back by itself (the period's
later cycles only, SQL_RECYCLED_KEPT). Both computed by PostgreSQL, one statement each; under
from_history() both are the from-scratch statements."""

from __future__ import annotations

from django.utils import timezone

from apps.campaigns.models import NurtureEntry
from apps.campaigns.nurture_rollups import in_nurture_rows_kept
from apps.leads.models import LeadCycle
from apps.meetings.models import Meeting, OpportunityStage
from apps.reporting.reports import Report, register
from apps.reporting.rollup_reads import history_mode
from apps.reporting.rollups_programs import nurture_source
from apps.reporting.selectors import _cycle_where, cohort_sql, fetch_dicts
from apps.reporting.tables import Column, Result, Table, bar_chart, rate

AGE_BANDS = ((0, 30, "< 30 days"), (30, 90, "30-89 days"), (90, 180, "90-179 days"), (180, None, "180+ days"))


def in_nurture_rows(*, scope) -> list[dict]:
    params = {"nurture": LeadCycle.Disposition.NURTURE.value, "now": timezone.now(),
              "waiting": NurtureEntry.State.WAITING.value}
    where = []
    if scope.rep_ids is not None:
        where.append("c.rep_id = ANY(%(rep_ids)s)")
        params["rep_ids"] = list(scope.rep_ids)
    if scope.lead_type:
        where.append("c.lead_type = %(lead_type)s")
        params["lead_type"] = scope.lead_type
    if not history_mode():  # the day rollups of the facts kept by triggers
        return in_nurture_rows_kept(scope=scope, params=params, bands=AGE_BANDS)
    source, columns = nurture_source(history=True)
    bands = ",\n".join(
        f"count(*) FILTER (WHERE age_d >= {lo}{'' if hi is None else f' AND age_d < {hi}'}) AS age_{i}"
        for i, (lo, hi, _label) in enumerate(AGE_BANDS))
    sql = f"""
        WITH m AS MATERIALIZED (SELECT {columns} FROM {source}{"".join(f" AND {w}" for w in where)}),
        n AS (SELECT reason, EXTRACT(EPOCH FROM %(now)s - dispositioned_at) / 86400 AS age_d, in_program, recycle_due_at
              FROM m)
        SELECT GROUPING(reason) AS g_reason, reason, count(*) AS leads,
               count(*) FILTER (WHERE in_program) AS in_program,
               count(*) FILTER (WHERE in_program AND recycle_due_at < %(now)s + interval '30 days') AS due_30,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY age_d) AS median_age_d,
               {bands}
        FROM n GROUP BY GROUPING SETS ((reason), ()) ORDER BY GROUPING(reason), count(*) DESC, reason"""
    return fetch_dicts(sql, params)


# A recycled cycle (its contact's previous cycle, number - 1, ended in nurture), with the
# cycle's kept Opp flag, from the window's later cycles only: a recycled cycle has number >= 2,
# or is number 1 after a cycle 0 (the column allows 0). Two small partial indexes of migration
# 0029_camp_report_indexes give both slices, so the read follows the period's recycled leads,
# not all of its cycles (the cohort).
SQL_RECYCLED_KEPT = """
    SELECT lc.id, lc.is_opp, lc.rep_id IS DISTINCT FROM p.rep_id AS reassigned, p.disposition_reason AS reason,
           EXTRACT(EPOCH FROM lc.assigned_at - p.dispositioned_at) / 86400 AS days_in_nurture
    FROM people_leadcycle lc
    JOIN people_leadcycle p ON p.contact_id = lc.contact_id AND p.number = lc.number - 1 AND p.disposition = %(nurture)s
    WHERE {where} AND lc.number >= 2
    UNION ALL
    SELECT lc.id, lc.is_opp, lc.rep_id IS DISTINCT FROM p.rep_id, p.disposition_reason,
           EXTRACT(EPOCH FROM lc.assigned_at - p.dispositioned_at) / 86400
    FROM people_leadcycle p
    JOIN people_leadcycle lc ON lc.contact_id = p.contact_id AND lc.number = 1
    WHERE p.number = 0 AND p.disposition = %(nurture)s AND {where}"""


def recycled_rows(*, scope) -> list[dict]:
    if history_mode():
        with_sql, params = cohort_sql(scope)
        recycled = f"""{with_sql},
        r AS MATERIALIZED (
            SELECT co.id, co.is_opp, co.rep_id IS DISTINCT FROM p.rep_id AS reassigned, p.disposition_reason AS reason,
                   EXTRACT(EPOCH FROM lc.assigned_at - p.dispositioned_at) / 86400 AS days_in_nurture
            FROM cohort co
            JOIN people_leadcycle lc ON lc.id = co.id
            JOIN people_leadcycle p ON p.contact_id = lc.contact_id AND p.number = lc.number - 1
                                    AND p.disposition = %(nurture)s)"""
    else:
        where, params = _cycle_where(scope, alias="lc")
        recycled = f"WITH r AS MATERIALIZED ({SQL_RECYCLED_KEPT.format(where=where)})"
    params.update(nurture=LeadCycle.Disposition.NURTURE.value,
                  held=[Meeting.Status.COMPLETED_QUALIFIED.value, Meeting.Status.COMPLETED_UNQUALIFIED.value],
                  meeting_qualified=Meeting.Status.COMPLETED_QUALIFIED.value, won=OpportunityStage.Outcome.WON.value)
    sql = f"""{recycled}
        SELECT GROUPING(r.reason) AS g_reason, r.reason, count(*) AS recycled,
               count(*) FILTER (WHERE r.reassigned) AS reassigned,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY r.days_in_nurture) AS median_days,
               count(*) FILTER (WHERE EXISTS (SELECT 1 FROM meetings_meeting m
                                              WHERE m.lead_cycle_id = r.id AND m.status = ANY(%(held)s))) AS meetings,
               count(*) FILTER (WHERE r.is_opp) AS opps,
               count(*) FILTER (WHERE EXISTS (
                   SELECT 1 FROM meetings_meeting m
                   JOIN meetings_opportunity o ON o.id = m.opportunity_id
                   JOIN meetings_opportunitystage st ON st.id = o.stage_id
                   WHERE m.lead_cycle_id = r.id AND m.status = %(meeting_qualified)s AND st.outcome = %(won)s)) AS won
        FROM r GROUP BY GROUPING SETS ((r.reason), ()) ORDER BY GROUPING(r.reason), count(*) DESC, r.reason"""
    return fetch_dicts(sql, params)


def _split(rows):
    body = [r for r in rows if not r["g_reason"]]
    total = next((r for r in rows if r["g_reason"]), None)
    return body, total


@register
class NurtureReport(Report):
    slug = "nurture"
    title = "Nurture"
    description = ("Leads in nurture by reason and age, and leads recycled from nurture: re-assigned, time in "
                   "nurture, reactivated into meetings, opportunities and won deals.")
    filters = ("date", "team", "rep", "lead_type")

    def compute(self, *, scope, params) -> Result:
        now_rows, now_total = _split(in_nurture_rows(scope=scope))
        back_rows, back_total = _split(recycled_rows(scope=scope))
        for row in [*now_rows, *([now_total] if now_total else [])]:
            row["median_age_d"] = None if row["median_age_d"] is None else float(row["median_age_d"])
        for row in [*back_rows, *([back_total] if back_total else [])]:
            row["median_days"] = None if row["median_days"] is None else float(row["median_days"])
            row["reassigned_rate"] = rate(row["reassigned"], row["recycled"])
            row["opp_rate"] = rate(row["opps"], row["recycled"])
        now_table = Table("in-nurture", "In nurture now, by reason", [
            Column("reason", "Nurture reason", "text"),
            Column("leads", "Leads", "int", "Leads whose latest lead cycle was dispositioned nurture (now, whatever the dates), by the rep who nurtured them."),
            Column("in_program", "In a program", "int", "Of those, waiting in a nurture program (admin → Nurture programs)."),
            Column("due_30", "Recycle due in 30 days", "int", "Waiting in a program whose recycle date is within 30 days (or past)."),
            Column("median_age_d", "Median days in nurture", "num", "Median of now − the nurture disposition, in days."),
            *[Column(f"age_{i}", label, "int", "Leads in nurture for that long." if i == 0 else "") for i, (_lo, _hi, label) in enumerate(AGE_BANDS)],
        ], now_rows, total={**now_total, "reason": "All"} if now_rows else None)
        back_table = Table("recycled", "Recycled from nurture in the period, by reason", [
            Column("reason", "Nurture reason", "text", "The reason the previous cycle was nurtured with."),
            Column("recycled", "Recycled", "int", "Lead cycles assigned in the period whose contact's previous cycle ended in nurture (a program's recycle or the lead coming back)."),
            Column("reassigned", "Re-assigned", "int", "Of those, assigned to a different rep than the one who nurtured it."),
            Column("reassigned_rate", "Re-assigned rate", "pct", "Re-assigned ÷ recycled."),
            Column("median_days", "Median time in nurture (days)", "num", "Median of the new assigned-at − the nurture disposition, in days."),
            Column("meetings", "Reactivated: meetings", "int", "Recycled leads with a meeting held (Completed) in the new cycle."),
            Column("opps", "Reactivated: opportunities", "int", "Recycled leads whose qualified meeting's opportunity reached the pipeline stage."),
            Column("opp_rate", "Opportunity rate", "pct", "Reactivated opportunities ÷ recycled."),
            Column("won", "Reactivated: won", "int", "Recycled leads with a closed-won opportunity."),
        ], back_rows, total={**back_total, "reason": "All"} if back_rows else None)
        chart = bar_chart(labels=[r["reason"] for r in now_rows], stacked=True,
                          datasets=[(label, [r[f"age_{i}"] for r in now_rows]) for i, (_lo, _hi, label) in enumerate(AGE_BANDS)])
        summary = [("In nurture now", str(now_total["leads"] if now_total else 0)),
                   ("Recycled in the period", str(back_total["recycled"] if back_total else 0))]
        return Result(tables=[now_table, back_table], chart=chart, summary=summary)
