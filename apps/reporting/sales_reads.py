"""The meetings, conversion and returns pages' numbers read from the meetings rollup (reporting.MeetingDay:
meetings per UTC day of their start, SDR, AE, status and late disposition) and the opportunities
rollup (reporting.OpportunityDay: per UTC day of creation or of reaching the pipeline stage, SDR
and stage) and the returns rollup (reporting.ReturnDay), so the pages read days × people rows instead of every meeting or opportunity of the
window.

As for the cycle rollup (apps.reporting.rollup_reads), the window's whole UTC days come from the
rollup and its partial days at each end from the meetings themselves (their start index).
Meetings booked in a lead cycle marked an exception (issue 22) are in the rollup but in no rate:
the interior's are subtracted, summed per day in reporting.ExceptionMeetingDay (migration 0034;
hashing the window's every meeting against every exception cycle grew with both).
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from apps.reporting.rollup_reads import DAY, _params, _raw_window, fetch_dicts, window_split

# rebuild / check: join apps.reporting.rollups'.
SNAPSHOTS = {
    "exception meetings per day": ("SELECT day, sdr_id, ae_id, status, late, meetings FROM reporting_exceptionmeetingday "
                                   "WHERE meetings <> 0"),
}
REBUILD = "SELECT reporting_exceptionmeetingdays_rebuild()"


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
        parts.append(f"""SELECT x.sdr_id, x.ae_id, x.status, x.late, -x.meetings FROM reporting_exceptionmeetingday x
                         WHERE x.day >= %(lo_day)s AND x.day < %(hi_day)s AND x.meetings <> 0{mine.format(a="x")}""")
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


# -- opportunities ------------------------------------------------------------------------

def window_pieces(scope, *, first, following) -> list[tuple[dt.date, dt.datetime, dt.datetime]]:
    """The window cut at each local period start inside it (`first(day)`: the start of the
    period holding that day; `following(start)`: the next one): (period, start, end) pieces,
    so each piece's whole UTC days lie in one local period (a zone's midnight can fall inside a
    UTC day)."""
    tz = timezone.get_current_timezone()
    pieces, start, period = [], scope.start, first(scope.date_from)
    while True:
        cut = dt.datetime.combine(following(period), dt.time.min, tzinfo=tz)
        if cut >= scope.end:
            pieces.append((period, start, scope.end))
            return pieces
        pieces.append((period, start, cut))
        start, period = cut, following(period)


def month_pieces(scope):
    return window_pieces(scope, first=lambda d: d.replace(day=1),
                         following=lambda m: (m + dt.timedelta(days=32)).replace(day=1))


def week_pieces(scope):
    """Weeks start on Monday."""
    return window_pieces(scope, first=lambda d: d - dt.timedelta(days=d.weekday()),
                         following=lambda w: w + dt.timedelta(days=7))


def _raw(column: str, k: int, split) -> str:
    if split is None:
        return f"{column} >= %(start_{k})s AND {column} < %(end_{k})s"
    return (f"(({column} >= %(start_{k})s AND {column} < %(lo_{k})s) OR "
            f"({column} >= %(hi_{k})s AND {column} < %(end_{k})s))")


def _opportunity_parts(scope, *, kind: str, column: str, pieces, any_sdr: bool = False) -> tuple[list[str], dict]:
    """Per piece (label, start, end): the raw opportunities of its partial days and the rollup's
    whole days of `kind`, as (sdr_id, label, stage_id, n, amount, priced) rows; those an SDR
    sourced only, unless `any_sdr` (and no rep scope)."""
    params = {"rep_ids": list(scope.rep_ids)} if scope.rep_ids is not None else {}
    mine = " AND {a} = ANY(%(rep_ids)s)" if scope.rep_ids is not None else ""
    sourced = "" if any_sdr else " AND {a} IS NOT NULL"
    parts = []
    for k, (label, start, end) in enumerate(pieces):
        split = window_split(start, end, step=DAY)
        params.update({f"start_{k}": start, f"end_{k}": end, f"label_{k}": label})
        parts.append(f"""SELECT o.sourcing_sdr_id, %(label_{k})s AS label, o.stage_id, 1, o.amount, (o.amount IS NOT NULL)::int
                         FROM meetings_opportunity o
                         WHERE {_raw(f"o.{column}", k, split)}{sourced.format(a="o.sourcing_sdr_id")}{mine.format(a="o.sourcing_sdr_id")}""")
        if split is not None:
            params.update({f"lo_{k}": split[0], f"hi_{k}": split[1], f"lo_day_{k}": split[0].date(),
                           f"hi_day_{k}": split[1].date()})
            parts.append(f"""SELECT r.sdr_id, %(label_{k})s, r.stage_id, r.opportunities, r.amount, r.priced
                             FROM reporting_opportunityday r
                             WHERE r.kind = '{kind}' AND r.day >= %(lo_day_{k})s AND r.day < %(hi_day_{k})s
                               AND r.opportunities <> 0{sourced.format(a="r.sdr_id")}{mine.format(a="r.sdr_id")}""")
    return parts, params


def opportunity_cohorts(scope, *, outcomes: dict[str, str]) -> list[dict]:
    """Opportunities sourced by SDRs in scope, created in the period, by SDR and local month
    created: counts by the stage's outcome now and amounts (apps.reporting.reports.sales)."""
    parts, params = _opportunity_parts(scope, kind="created", column="created_at", pieces=month_pieces(scope))
    params.update({f"outcome_{key}": value for key, value in outcomes.items()})
    sql = f"""
        WITH p (sdr_id, month, stage_id, n, amount, priced) AS ({" UNION ALL ".join(parts)})
        SELECT p.sdr_id AS sourcing_sdr_id, rp.owner_name AS sourcing_sdr__owner_name, p.month::date AS month,
               sum(p.n) AS count,
               coalesce(sum(p.n) FILTER (WHERE st.outcome = %(outcome_won)s), 0) AS won,
               coalesce(sum(p.n) FILTER (WHERE st.outcome = %(outcome_lost)s), 0) AS lost,
               coalesce(sum(p.n) FILTER (WHERE st.outcome = %(outcome_open)s), 0) AS open,
               sum(p.amount) AS amount, sum(p.amount) FILTER (WHERE st.outcome = %(outcome_won)s) AS won_amount
        FROM p JOIN meetings_opportunitystage st ON st.id = p.stage_id LEFT JOIN people_rep rp ON rp.id = p.sdr_id
        GROUP BY p.sdr_id, rp.owner_name, p.month HAVING sum(p.n) <> 0
        ORDER BY rp.owner_name, p.month"""
    return fetch_dicts(sql, params)


def pipeline_generated(scope) -> list[dict]:
    """Opportunities that reached the pipeline stage in the period, by sourcing SDR."""
    parts, params = _opportunity_parts(scope, kind="pipeline", column="pipeline_at",
                                       pieces=[(scope.date_from, scope.start, scope.end)])
    sql = f"""
        WITH p (sdr_id, label, stage_id, n, amount, priced) AS ({" UNION ALL ".join(parts)})
        SELECT p.sdr_id AS sourcing_sdr_id, rp.owner_name AS sourcing_sdr__owner_name, sum(p.n) AS count,
               sum(p.amount) AS amount
        FROM p LEFT JOIN people_rep rp ON rp.id = p.sdr_id
        GROUP BY p.sdr_id, rp.owner_name HAVING sum(p.n) <> 0"""
    return fetch_dicts(sql, params)


def deals_by_window_sql(scope, *, windows: dict[str, tuple]) -> tuple[str, dict]:
    """A query of (label, n, avg) rows per named window (start, end): opportunities that reached
    the pipeline stage in it (by SDRs in scope; for everyone, those without a sourcing SDR too)
    and their average amount."""
    pieces = [(name, start, end) for name, (start, end) in windows.items()]
    parts, params = _opportunity_parts(scope, kind="pipeline", column="pipeline_at", pieces=pieces, any_sdr=True)
    sql = f"""WITH p (sdr_id, label, stage_id, n, amount, priced) AS ({" UNION ALL ".join(parts)})
              SELECT p.label, coalesce(sum(p.n), 0) AS n, sum(p.amount) / nullif(sum(p.priced), 0) AS avg
              FROM p GROUP BY p.label"""
    return sql, params


# -- returns ------------------------------------------------------------------------------

def return_counts(scope, *, weekly: bool) -> list[dict]:
    """Returns filed in the period by reps in scope, as (rep_id, rep__owner_name, reason,
    status, outcome, n) rows, or with `weekly` as (week, reason, n) per local week (Monday)."""
    pieces = week_pieces(scope) if weekly else [(scope.date_from, scope.start, scope.end)]
    params = {"rep_ids": list(scope.rep_ids)} if scope.rep_ids is not None else {}
    mine = " AND {a}.rep_id = ANY(%(rep_ids)s)" if scope.rep_ids is not None else ""
    parts = []
    for k, (label, start, end) in enumerate(pieces):
        split = window_split(start, end, step=DAY)
        params.update({f"start_{k}": start, f"end_{k}": end, f"label_{k}": label})
        parts.append(f"""SELECT %(label_{k})s AS label, x.rep_id, x.reason, x.status, x.outcome, 1 AS n
                         FROM routing_returnrequest x WHERE {_raw("x.created_at", k, split)}{mine.format(a="x")}""")
        if split is not None:
            params.update({f"lo_{k}": split[0], f"hi_{k}": split[1], f"lo_day_{k}": split[0].date(),
                           f"hi_day_{k}": split[1].date()})
            parts.append(f"""SELECT %(label_{k})s, r.rep_id, r.reason, r.status, r.outcome, r.returns
                             FROM reporting_returnday r
                             WHERE r.day >= %(lo_day_{k})s AND r.day < %(hi_day_{k})s AND r.returns <> 0{mine.format(a="r")}""")
    with_sql = f"WITH p (label, rep_id, reason, status, outcome, n) AS ({' UNION ALL '.join(parts)})"
    if weekly:
        sql = f"""{with_sql} SELECT p.label::date AS week, p.reason, sum(p.n) AS n FROM p
                  GROUP BY 1, 2 HAVING sum(p.n) <> 0 ORDER BY 1"""
    else:
        sql = f"""{with_sql} SELECT p.rep_id, rp.owner_name AS rep__owner_name, p.reason, p.status, p.outcome, sum(p.n) AS n
                  FROM p LEFT JOIN people_rep rp ON rp.id = p.rep_id
                  GROUP BY 1, 2, 3, 4, 5 HAVING sum(p.n) <> 0"""
    return fetch_dicts(sql, params)
