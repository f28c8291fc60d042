"""ICP coverage's conversion by tier read from reporting.TierCycleDay (lead cycles per UTC day,
rep, lead type and the tier and segment of their account now; migration
0030_icp_tier_cycle_day_triggers), so the page reads days × reps × tiers rows instead of
joining every cycle of the window to its contact and account.

As for the other rollups (apps.reporting.rollup_reads), the window's whole UTC days come from
the rollup and its partial days at each end from the cycles themselves (their assignment-time
index), joined to their contacts and accounts as the from-scratch statement
(apps.reporting.selectors.funnel_by_tier) does.

rebuild / check: SNAPSHOTS and REBUILD join apps.reporting.rollups'.
"""

from __future__ import annotations

from apps.reporting.rollup_reads import COUNTED, DAY, _params, _raw_window, _rep, fetch_dicts, window_split

SNAPSHOTS = {
    "cycles per day and tier": ("SELECT day, rep_id, lead_type, tier, segment, assigned, qualified, opp "
                                "FROM reporting_tiercycleday WHERE ROW(assigned, qualified, opp) <> ROW(0, 0, 0)"),
    # account coverage's contact side (migration 0032), read by apps.reporting.book_reads
    "account contacts": "SELECT account_id, known, roles, personas, in_funnel FROM reporting_accountcontacts",
}
REBUILD = "SELECT reporting_tiercycleday_rebuild(), reporting_accountcontacts_rebuild()"


def funnel_by_tier(scope, *, tiers) -> list[dict]:
    """(tier, mql, sql, opp) per tier in `tiers` of the cycle's account now, '' for any other
    tier or none: the cohort's funnel by tier, as selectors.funnel_by_tier computes it."""
    split = window_split(scope.start, scope.end, step=DAY)
    params = _params(scope, split)
    params["tiers"] = list(tiers)
    raw_where, kept_where = "", ""
    if scope.lead_type:
        params["lead_type"] = scope.lead_type
        raw_where += " AND c.lead_type = %(lead_type)s"
        kept_where += " AND r.lead_type = %(lead_type)s"
    if scope.segment:
        params["segment"] = scope.segment
        raw_where += " AND acc.segment = %(segment)s"
        kept_where += " AND r.segment = %(segment)s"
    parts = [f"""SELECT acc.tier, 1 AS mql, c.is_sql::int AS sql, c.is_opp::int AS opp
                 FROM people_leadcycle c
                 JOIN people_contact ct ON ct.id = c.contact_id
                 LEFT JOIN accounts_account acc ON acc.id = ct.account_id
                 WHERE {_raw_window("c.assigned_at", split)} AND {COUNTED}{_rep("c", scope)}{raw_where}"""]
    if split is not None:
        parts.append(f"""SELECT r.tier, r.assigned, r.qualified, r.opp FROM reporting_tiercycleday r
                         WHERE r.day >= %(lo_day)s AND r.day < %(hi_day)s{_rep("r", scope)}{kept_where}""")
    sql = f"""SELECT CASE WHEN x.tier = ANY(%(tiers)s) THEN x.tier ELSE '' END AS tier,
                     sum(x.mql) AS mql, sum(x.sql) AS sql, sum(x.opp) AS opp
              FROM ({" UNION ALL ".join(parts)}) x
              GROUP BY 1 HAVING sum(x.mql) <> 0"""
    return fetch_dicts(sql, params)
