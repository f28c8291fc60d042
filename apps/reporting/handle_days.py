"""Handle times (the balance page, the capacity planner) from the day rollup of the handle facts
(reporting.HandleDay, migration 0029), so the counts and means of a window read its UTC days
plus the facts of the partial days at its two ends, not every dispositioned cycle of the window.

The median handle time is no sum: when asked for, it reads the window's facts that have a first
touch through their covering index (reporting_handlefact_touched) — a slice of the window, which
grows with the dispositions in it; the capacity planner, which shows no median, never reads it.

rebuild / check: SNAPSHOTS and REBUILD join apps.reporting.rollups' (after the facts' own rebuild).
"""

from __future__ import annotations

from apps.reporting.rollup_reads import DAY, _params, _raw_window, _rep, fetch_dicts, window_split

SNAPSHOTS = {
    "handle times per day": ("SELECT day, rep_id, lead_type, dispositions, touches, handled, handle_s FROM reporting_handleday "
                             "WHERE ROW(dispositions, touches, handled, handle_s) <> ROW(0, 0, 0, 0)"),
}
REBUILD = "SELECT reporting_handledays_rebuild()"

HANDLE_S = "EXTRACT(EPOCH FROM f.dispositioned_at - f.first_touch_at)"
GROUPS = "GROUPING SETS ((lead_type), (rep_id, lead_type))"


def handle_rows(*, scope, medians: bool = True) -> list[dict]:
    """apps.reporting.balance.handle_times' rows (g_rep, rep_id, lead_type, dispositions, touches,
    handled, handle_median_s, handle_avg_s), with the history statement's types: the mean is
    sum ÷ count in numeric, which is what avg() computes; handle_median_s is None unless `medians`."""
    split = window_split(scope.start, scope.end, step=DAY)
    params = _params(scope, split)
    extra = ""
    if scope.lead_type:
        params["lead_type"] = scope.lead_type
        extra = " AND {a}.lead_type = %(lead_type)s"
    parts = [f"""SELECT f.rep_id, f.lead_type, 1 AS dispositions, f.touches::bigint AS touches,
                        (f.first_touch_at IS NOT NULL)::int AS handled,
                        CASE WHEN f.first_touch_at IS NOT NULL THEN {HANDLE_S} END AS handle_s
                 FROM reporting_handlefact f
                 WHERE {_raw_window("f.dispositioned_at", split)}{_rep("f", scope)}{extra.format(a="f")}"""]
    if split is not None:
        parts.append(f"""SELECT d.rep_id, d.lead_type, d.dispositions, d.touches, d.handled, d.handle_s
                         FROM reporting_handleday d
                         WHERE d.day >= %(lo_day)s AND d.day < %(hi_day)s AND d.dispositions <> 0{_rep("d", scope)}{extra.format(a="d")}""")
    sums = f"""SELECT GROUPING(rep_id) AS g_rep, rep_id, lead_type, sum(dispositions)::bigint AS dispositions,
                      coalesce(sum(touches), 0)::numeric AS touches, sum(handled)::bigint AS handled,
                      sum(handle_s) / nullif(sum(handled), 0) AS handle_avg_s
               FROM ({" UNION ALL ".join(parts)}) x
               GROUP BY {GROUPS} HAVING sum(dispositions) <> 0"""
    if not medians:
        return [{**row, "handle_median_s": None} for row in fetch_dicts(sums, params)]
    sql = f"""WITH sums AS ({sums}),
              medians AS (SELECT GROUPING(f.rep_id) AS g_rep, f.rep_id, f.lead_type,
                                 percentile_cont(0.5) WITHIN GROUP (ORDER BY {HANDLE_S}) AS handle_median_s
                          FROM reporting_handlefact f
                          WHERE f.first_touch_at IS NOT NULL AND f.dispositioned_at >= %(start)s
                            AND f.dispositioned_at < %(end)s{_rep("f", scope)}{extra.format(a="f")}
                          GROUP BY GROUPING SETS ((f.lead_type), (f.rep_id, f.lead_type)))
              SELECT s.*, m.handle_median_s FROM sums s
              LEFT JOIN medians m ON m.g_rep = s.g_rep AND m.rep_id IS NOT DISTINCT FROM s.rep_id
                                 AND m.lead_type = s.lead_type"""
    return fetch_dicts(sql, params)
