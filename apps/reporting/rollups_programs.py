"""The program pages' numbers read from their rollups (apps.reporting.program_models, kept by
the triggers of migration 0022), so the balance page, the scorecard's inbound / outbound split
and the capacity planner follow the length of the window, not the amount of history.

- Activity split (inbound / outbound work per rep): whole UTC days inside the window from
  reporting_activityleadday, the partial days at its two ends from the activities themselves
  (apps.reporting.balance.SQL_ACTIVITY_SPLIT over the edge slices), as rollup_reads does.
- Handle times (dispositions, touches, median / mean handle time per lead type and rep):
  reporting_handlefact, one row per dispositioned cycle (exceptions left out), summed per day in
  reporting_handleday; read by apps.reporting.handle_days.
- In nurture now (the nurture page): reporting_nurturefact, one row per contact whose latest
  cycle was dispositioned nurture (exceptions left out), with its program entry.
- Campaign outcomes (the campaign page: won, cadence completed / abandoned early, meetings
  held): reporting_campaignoutcomeday for the whole UTC days, reporting_campaignoutcome (one
  row per cycle with an outcome) for the partial days; read by apps.campaigns.report_rollups.

rebuild / check: PROGRAM_SNAPSHOTS and PROGRAM_REBUILD join apps.reporting.rollups'.
"""

from __future__ import annotations

from apps.reporting.rollup_reads import DAY, _params, _raw_window, _rep, fetch_dicts, window_split

# What each maintained table holds, as comparable rows (zero rows are no data).
PROGRAM_SNAPSHOTS = {
    "activities per day and lead type": ("SELECT day, rep_id, inbound, activities FROM reporting_activityleadday "
                                         "WHERE activities <> 0"),
    "handle facts": ("SELECT cycle_id, rep_id, lead_type, first_touch_at, dispositioned_at, touches "
                     "FROM reporting_handlefact"),
    "nurture facts": ("SELECT cycle_id, contact_id, rep_id, lead_type, reason, dispositioned_at, in_program, recycle_due_at "
                      "FROM reporting_nurturefact"),
    "campaign outcomes": ("SELECT cycle_id, assigned_at, rep_id, source, lead_type, campaign_id, won, completed, early, held "
                          "FROM reporting_campaignoutcome"),
    "campaign outcomes per day": ("SELECT day, rep_id, source, lead_type, campaign_id, won, completed, early, held "
                                  "FROM reporting_campaignoutcomeday WHERE won <> 0 OR completed <> 0 OR early <> 0 OR held <> 0"),
    "campaign touches": ("SELECT cycle_id, campaign_id, assigned_at, rep_id, source, lead_type, is_sql, is_opp, is_won "
                         "FROM reporting_campaigntouch"),
    "campaign touches per day": ("SELECT day, rep_id, source, lead_type, campaign_id, leads, sql, opp, won "
                                 "FROM reporting_campaigntouchday WHERE leads <> 0 OR sql <> 0 OR opp <> 0 OR won <> 0"),
    "campaign opportunities": ("SELECT cycle_id, assigned_at, rep_id, lead_type, campaign_id, opportunity_id, amount, won, shared "
                               "FROM reporting_campaignopp"),
    "campaign opportunities per day": ("SELECT day, rep_id, lead_type, campaign_id, opportunities, pipeline, won, won_amount "
                                       "FROM reporting_campaignoppday "
                                       "WHERE ROW(opportunities, pipeline, won, won_amount) <> ROW(0, 0, 0, 0)"),
    "nurture per day": ("SELECT day, rep_id, lead_type, reason, leads, in_program FROM reporting_nurtureday "
                        "WHERE leads <> 0 OR in_program <> 0"),
    "nurture due per day": "SELECT day, rep_id, lead_type, reason, leads FROM reporting_nurturedueday WHERE leads <> 0",
}
# The campaign page's outcomes (migration 0027) and touches (0030_camp_campaign_touches) are
# rebuilt by the touches' function: the outcomes first (their won flag feeds the touches).
# The nurture days (0031_camp_nurture_days) count the nurture facts, rebuilt before them.
PROGRAM_REBUILD = ("SELECT reporting_programs_rebuild(), reporting_campaigntouches_rebuild(), reporting_nurturedays_rebuild(), "
                   "reporting_campaignopps_rebuild()")


def activity_split(*, scope, raw_sql: str, inbound: str) -> dict[int, dict]:
    """rep id → {rep_id, inbound, outbound}: balance.activity_split from the rollup. `raw_sql`
    is the history statement with a {where} slot, run over the window's partial UTC days."""
    split = window_split(scope.start, scope.end, step=DAY)
    params = _params(scope, split)
    params["inbound"] = inbound
    where = f"{_raw_window('a.occurred_at', split)} AND NOT a.automated AND a.rep_id IS NOT NULL{_rep('a', scope)}"
    parts = [raw_sql.format(where=where)]
    if split is not None:
        parts.append(f"""SELECT r.rep_id, sum(r.activities) FILTER (WHERE r.inbound) AS inbound,
                                sum(r.activities) FILTER (WHERE NOT r.inbound) AS outbound
                         FROM reporting_activityleadday r
                         WHERE r.day >= %(lo_day)s AND r.day < %(hi_day)s AND r.activities <> 0{_rep("r", scope)}
                         GROUP BY r.rep_id""")
    sql = f"""SELECT rep_id, coalesce(sum(inbound), 0)::bigint AS inbound, coalesce(sum(outbound), 0)::bigint AS outbound
              FROM ({" UNION ALL ".join(parts)}) x
              GROUP BY rep_id HAVING coalesce(sum(inbound), 0) + coalesce(sum(outbound), 0) <> 0"""
    return {row["rep_id"]: row for row in fetch_dicts(sql, params)}


def nurture_source(*, history: bool) -> tuple[str, str]:
    """(FROM clause, column prefix) of the leads in nurture now for nurture_report.in_nurture_rows:
    the facts, or (history) the cycles with their entry and the later-cycle test."""
    if history:
        return ("""people_leadcycle c
            LEFT JOIN campaigns_nurtureentry e ON e.cycle_id = c.id
            WHERE c.disposition = %(nurture)s AND c.exception_at IS NULL
              AND NOT EXISTS (SELECT 1 FROM people_leadcycle later
                              WHERE later.contact_id = c.contact_id AND later.number > c.number)""",
                "c.disposition_reason AS reason, c.dispositioned_at, e.state = %(waiting)s AS in_program, e.recycle_due_at")
    return "reporting_nurturefact c WHERE true", "c.reason, c.dispositioned_at, c.in_program, c.recycle_due_at"
