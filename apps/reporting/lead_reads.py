"""Lead-cycle numbers read from the lead rollups (apps.reporting.lead_models), kept by the
triggers of migration 0030_lresp_open_lead_count_triggers.

- Open leads now per rep and lead type (reporting_openleadcount): the scorecard's and the
  balance page's open inbound leads, one row per (rep, lead type) instead of a visit to every
  open cycle.
- Per cycle with an SLA policy, its arrival on its rep's wall clock and its response times
  (reporting_arrivalfact): the lead response page's off-hours tables read the window's facts,
  with no time zone conversion per cycle. Off-hours or not is decided here, at read time,
  against the policies' working days, hours and holidays, by the same rule as
  selectors.SQL_OFF_HOURS (the from-scratch definition); the percentiles need the rows, so
  this stays a read of the window (its index on assigned_at), not a sum.

SNAPSHOTS and REBUILD join apps.reporting.rollups' rebuild and check.
"""

from __future__ import annotations

from apps.reporting.rollup_reads import fetch_dicts

SNAPSHOTS = {
    "open leads now": "SELECT rep_id, lead_type, open FROM reporting_openleadcount WHERE open <> 0",
    "arrival facts": ("SELECT cycle_id, rep_id, lead_type, source, sla_policy_id, assigned_at, arrival, local_day, "
                      "local_time, local_dow, responded, response_s, calendar_s FROM reporting_arrivalfact"),
}
REBUILD = "SELECT reporting_openleads_rebuild(), reporting_arrivals_rebuild()"


def open_leads_by_rep(*, lead_type: str, rep_ids) -> dict[int, int]:
    """rep id (None: not assigned) → open cycles of `lead_type` held now (exceptions left out),
    from the rollup: the same dict as the count over the cycles (balance.open_inbound_leads)."""
    where, params = "o.lead_type = %(lead_type)s AND o.open <> 0", {"lead_type": lead_type}
    if rep_ids is not None:
        where += " AND o.rep_id = ANY(%(rep_ids)s)"
        params["rep_ids"] = list(rep_ids)
    rows = fetch_dicts(f"SELECT o.rep_id, o.open FROM reporting_openleadcount o WHERE {where}", params)
    return {row["rep_id"]: row["open"] for row in rows}


# The off-hours figures by source, by week of arrival and in total, over a CTE `x` of cycles
# (source, arrival, off_hours, responded, response_s, calendar_s): one definition for the
# from-scratch statement (selectors.SQL_OFF_HOURS) and the one over the arrival facts.
OFF_HOURS_FIGURES = """
    SELECT GROUPING(source) AS g_source, GROUPING(week) AS g_week, source, week,
           count(*) AS leads, count(*) FILTER (WHERE off_hours) AS off_hours,
           percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY response_s)
               FILTER (WHERE responded AND NOT off_hours) AS in_pct,
           percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY response_s)
               FILTER (WHERE responded AND off_hours) AS off_pct,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY calendar_s) FILTER (WHERE responded AND NOT off_hours)
               AS in_calendar_s,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY calendar_s) FILTER (WHERE responded AND off_hours)
               AS off_calendar_s
    FROM (SELECT x.*, date_trunc('week', x.arrival AT TIME ZONE %(tz)s)::date AS week FROM x) w
    GROUP BY GROUPING SETS ((source), (week), ())"""

# selectors.SQL_OFF_HOURS over the facts: the policies' weekday lists and holidays parsed once
# per policy (not once per cycle), the local wall clock read from the fact.
SQL_OFF_HOURS_FACTS = """
    WITH hol AS (SELECT * FROM unnest(%(hol_policy)s::bigint[], %(hol_day)s::date[]) AS h(policy_id, day)),
    pol AS MATERIALIZED (
        SELECT p.id, string_to_array(replace(p.working_days, ' ', ''), ',')::int[] AS days,
               p.business_start, p.business_end,
               coalesce((SELECT array_agg(hol.day) FROM hol WHERE hol.policy_id = p.id), '{{}}') AS holidays
        FROM people_slapolicy p),
    x AS (
        SELECT f.source, f.arrival, f.responded, f.response_s, f.calendar_s,
               NOT (f.local_dow = ANY(pol.days) AND f.local_time >= pol.business_start
                    AND f.local_time < pol.business_end AND NOT f.local_day = ANY(pol.holidays)) AS off_hours
        FROM reporting_arrivalfact f
        JOIN pol ON pol.id = f.sla_policy_id
        WHERE {where})
    """ + OFF_HOURS_FIGURES


def off_hours_rows(*, scope, params: dict) -> list[dict]:
    """The rows of selectors.off_hours_sets from the window's arrival facts (`params` carries
    the holidays and the viewer's zone)."""
    where = ["f.assigned_at >= %(start)s", "f.assigned_at < %(end)s"]
    params = {**params, "start": scope.start, "end": scope.end}
    if scope.rep_ids is not None:
        where.append("f.rep_id = ANY(%(rep_ids)s)")
        params["rep_ids"] = list(scope.rep_ids)
    if scope.lead_type:
        where.append("f.lead_type = %(lead_type)s")
        params["lead_type"] = scope.lead_type
    return fetch_dicts(SQL_OFF_HOURS_FACTS.format(where=" AND ".join(where)), params)
