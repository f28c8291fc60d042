"""The meetings page's numbers read from the meetings rollup (reporting.MeetingDay: meetings per
UTC day of their start, SDR, AE, status and late disposition), so the page reads days × people
rows instead of every meeting of the window.

As for the cycle rollup (apps.reporting.rollup_reads), the window's whole UTC days come from the
rollup and its partial days at each end from the meetings themselves (their start index).
Meetings booked in a lead cycle marked an exception (issue 22) are in the rollup but in no rate:
the interior's are subtracted, read from the cycles' partial index of exceptions.
"""

from __future__ import annotations

from apps.reporting.rollup_reads import DAY, _params, _raw_window, fetch_dicts, window_split


def meeting_counts(scope, *, who: str, statuses: dict[str, list[str]]) -> list[dict]:
    """Per `who` ("sdr" or "ae") in scope: `{who}_id`, `{who}__owner_name` and, for each key of
    `statuses` (a count of meetings in those statuses; "booked": all, "late": late ones)."""
    assert who in ("sdr", "ae")
    split = window_split(scope.start, scope.end, step=DAY)
    params = _params(scope, split)
    mine = f" AND {{a}}.{who}_id = ANY(%(rep_ids)s)" if scope.rep_ids is not None else ""
    parts = [f"""SELECT m.sdr_id, m.ae_id, m.status, m.disposition_late AS late, 1 AS n
                 FROM meetings_meeting m LEFT JOIN people_leadcycle c ON c.id = m.lead_cycle_id
                 WHERE {_raw_window("m.scheduled_at", split)} AND c.exception_at IS NULL{mine.format(a="m")}"""]
    if split is not None:
        parts.append(f"""SELECT r.sdr_id, r.ae_id, r.status, r.late, r.meetings FROM reporting_meetingday r
                         WHERE r.day >= %(lo_day)s AND r.day < %(hi_day)s AND r.meetings <> 0{mine.format(a="r")}""")
        parts.append(f"""SELECT m.sdr_id, m.ae_id, m.status, m.disposition_late, -1
                         FROM people_leadcycle c JOIN meetings_meeting m ON m.lead_cycle_id = c.id
                         WHERE c.exception_at IS NOT NULL AND m.scheduled_at >= %(lo)s AND m.scheduled_at < %(hi)s
                           {mine.format(a="m")}""")
    sums = []
    for index, (key, values) in enumerate(statuses.items()):
        if key == "booked":
            sums.append("sum(p.n) AS booked")
        elif key == "late":
            sums.append("coalesce(sum(p.n) FILTER (WHERE p.late), 0) AS late")
        else:
            params[f"st_{index}"] = list(values)
            sums.append(f"coalesce(sum(p.n) FILTER (WHERE p.status = ANY(%(st_{index})s)), 0) AS {key}")
    sql = f"""WITH parts AS ({" UNION ALL ".join(parts)})
              SELECT p.{who}_id, rp.owner_name AS {who}__owner_name, {", ".join(sums)}
              FROM parts p LEFT JOIN people_rep rp ON rp.id = p.{who}_id
              GROUP BY p.{who}_id, rp.owner_name HAVING sum(p.n) <> 0 ORDER BY rp.owner_name"""
    return fetch_dicts(sql, params)
