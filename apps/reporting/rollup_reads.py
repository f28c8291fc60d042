"""The report numbers read from the rollups (apps.reporting.models), so a page's cost follows
the length of its window and the number of reps, not the amount of history.

A window [start, end) — local midnights in the viewer's zone — is split into the whole UTC
buckets inside it (days for lead cycles and first touches, hours for activities), read from
the rollup, and the partial buckets at its two ends, read from the rows themselves through
their time index (together at most one bucket of raw rows). The percentiles, which no sum can
give, read the window's responded cycles from one covering index (`lead_cycle_responded`).

`from_history()` switches the selectors (apps.reporting.selectors) back to the from-scratch
SQL over the history tables: the rebuild-and-compare test renders every page both ways.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import re
from contextlib import contextmanager

from django.db import connection
from django.utils import timezone

_FROM_HISTORY = contextvars.ContextVar("reporting_from_history", default=False)
DAY, HOUR = dt.timedelta(days=1), dt.timedelta(hours=1)


@contextmanager
def from_history():
    """Within: every selector computes from the history tables, ignoring the rollups."""
    token = _FROM_HISTORY.set(True)
    try:
        yield
    finally:
        _FROM_HISTORY.reset(token)


def history_mode() -> bool:
    return _FROM_HISTORY.get()


def fetch_dicts(sql: str, params) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [col[0] for col in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def window_split(start: dt.datetime, end: dt.datetime, *, step: dt.timedelta) -> tuple[dt.datetime, dt.datetime] | None:
    """(lo, hi): the whole UTC buckets of `step` (a day or an hour) inside [start, end), or None
    when there is none (then the whole window is read raw)."""
    s, e = start.astimezone(dt.UTC), end.astimezone(dt.UTC)
    floor = (lambda t: t.replace(hour=0, minute=0, second=0, microsecond=0)) if step == DAY else \
        (lambda t: t.replace(minute=0, second=0, microsecond=0))
    lo = floor(s)
    if lo < s:
        lo += step
    hi = floor(e)
    return (lo, hi) if lo < hi else None


def _raw_window(column: str, split) -> str:
    if split is None:
        return f"{column} >= %(start)s AND {column} < %(end)s"
    return f"(({column} >= %(start)s AND {column} < %(lo)s) OR ({column} >= %(hi)s AND {column} < %(end)s))"


def _params(scope, split) -> dict:
    params = {"start": scope.start, "end": scope.end}
    if split is not None:
        params.update(lo=split[0], hi=split[1], lo_day=split[0].date(), hi_day=split[1].date())
    if scope.rep_ids is not None:
        params["rep_ids"] = list(scope.rep_ids)
    return params


def _rep(alias: str, scope) -> str:
    return f" AND {alias}.rep_id = ANY(%(rep_ids)s)" if scope.rep_ids is not None else ""


# -- lead cycles --------------------------------------------------------------------------
# One cycle's counts (the rollup's columns), from the flags kept on the cycle; `breach` here
# includes the clock's part (untouched past the maximum until now), as the page shows it.
CYCLE_COUNTS = """1,
    (c.worked_at IS NOT NULL OR c.dispositioned_at IS NOT NULL)::int,
    (c.first_touch_at IS NOT NULL AND NOT c.bypassed_working)::int,
    c.is_sql::int, c.is_opp::int,
    coalesce(c.sla_breached OR (c.sla_maximum_at IS NOT NULL AND (
        (c.first_touch_at IS NOT NULL AND c.first_touch_at > c.sla_maximum_at)
        OR (c.first_touch_at IS NULL AND c.sla_maximum_at < COALESCE(c.dispositioned_at, %(now)s)))), false)::int,
    (c.dispositioned_at IS NOT NULL AND c.first_touch_at IS NULL)::int"""
COUNT_COLUMNS = ("assigned", "picked_up", "responded", "qualified", "opp", "breaches", "no_touch")
# Exceptions (issue 22) are in no number: selectors.SQL_COUNTED, for the alias `c`; the daily
# rollup leaves them out itself (migration 0006).
COUNTED = "c.exception_at IS NULL"
RESPONSE_S = "EXTRACT(EPOCH FROM COALESCE(c.response_time, c.first_touch_at - c.assigned_at))"


def cohort_parts(scope) -> tuple[str, dict]:
    """A query of (rep_id, source, lead_type, campaign_id, counts…) rows that add up to the
    period's cohort in scope: rollup days, the raw cycles of the partial days, and the interior's
    untouched open cycles that passed their maximum by now (a breach no rollup can hold)."""
    split = window_split(scope.start, scope.end, step=DAY)
    params = _params(scope, split)
    params["now"] = timezone.now()
    lead_type = ""
    if scope.lead_type:
        params["lead_type"] = scope.lead_type
        lead_type = " AND {a}.lead_type = %(lead_type)s"
    parts = [f"""SELECT c.rep_id, c.source, c.lead_type, c.campaign_record_id AS campaign_id, {CYCLE_COUNTS}
                 FROM people_leadcycle c
                 WHERE {_raw_window("c.assigned_at", split)} AND {COUNTED}{_rep("c", scope)}{lead_type.format(a="c")}"""]
    if split is not None:
        parts.append(f"""SELECT r.rep_id, r.source, r.lead_type, r.campaign_id, {", ".join(f"r.{k}" for k in COUNT_COLUMNS)}
                         FROM reporting_cycleday r
                         WHERE r.day >= %(lo_day)s AND r.day < %(hi_day)s AND r.assigned <> 0{_rep("r", scope)}{lead_type.format(a="r")}""")
        parts.append(f"""SELECT c.rep_id, c.source, c.lead_type, c.campaign_record_id, 0, 0, 0, 0, 0, 1, 0
                         FROM people_leadcycle c
                         WHERE c.assigned_at >= %(lo)s AND c.assigned_at < %(hi)s
                           AND c.first_touch_at IS NULL AND c.dispositioned_at IS NULL
                           AND NOT c.sla_breached AND c.sla_maximum_at < %(now)s AND {COUNTED}{_rep("c", scope)}{lead_type.format(a="c")}""")
    return "\nUNION ALL\n".join(parts), params


def cohort_stats(*, scope, breakdowns, percentiles: bool, campaigns: bool, columns: dict) -> dict[str, list[dict]]:
    """selectors.cohort_stats from the rollups: one statement for the counts, one for the
    percentiles (the responded cycles of the window, from their covering index)."""
    parts, params = cohort_parts(scope)
    cols = [columns[name] for name in breakdowns]
    groupings = ", ".join(f"GROUPING({col}) AS g_{name}" for name, col in zip(breakdowns, cols, strict=True))
    sets = ", ".join(f"({col})" for col in cols)
    sums = ", ".join(f"coalesce(sum({k}), 0) AS {k}" for k in COUNT_COLUMNS)
    campaign_sql = ", count(DISTINCT campaign_id) FILTER (WHERE picked_up > 0) AS campaigns" if campaigns else ""
    sql = f"""WITH parts ({", ".join(["rep_id", "source", "lead_type", "campaign_id", *COUNT_COLUMNS])}) AS MATERIALIZED ({parts})
        SELECT {groupings}, {", ".join(cols)}, {sums}{campaign_sql}
        FROM parts GROUP BY GROUPING SETS ({sets}, ())"""
    rows = fetch_dicts(sql, params)
    found = {}
    if percentiles:
        where = ["c.assigned_at >= %(start)s", "c.assigned_at < %(end)s", "c.first_touch_at IS NOT NULL",
                 "NOT c.bypassed_working", COUNTED]
        if scope.rep_ids is not None:
            where.append("c.rep_id = ANY(%(rep_ids)s)")
        if scope.lead_type:
            where.append("c.lead_type = %(lead_type)s")
        # The seconds computed once per cycle, as the double precision percentile_cont orders
        # (its implicit cast), not once per grouping set: one sort per set remains.
        sql = f"""WITH x AS MATERIALIZED (SELECT {", ".join(f"c.{col}" for col in cols)}, {RESPONSE_S}::float8 AS response_s
                                          FROM people_leadcycle c WHERE {" AND ".join(where)})
                  SELECT {", ".join(f"GROUPING({c}) AS g_{n}" for n, c in zip(breakdowns, cols, strict=True))},
                         {", ".join(cols)},
                         percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY response_s) AS percentiles
                  FROM x GROUP BY GROUPING SETS ({", ".join(f"({c})" for c in cols)}, ())"""
        for row in fetch_dicts(sql, params):
            found[_key(row, breakdowns, cols)] = row["percentiles"]
    out: dict[str, list[dict]] = {name: [] for name in (*breakdowns, "total")}
    for row in rows:
        row["median_s"], row["p90_s"] = found.get(_key(row, breakdowns, cols)) or (None, None)
        row["mql"], row["sql"] = row["assigned"], row["qualified"]
        row.setdefault("campaigns", None)
        grouped_by = [name for name in breakdowns if not row[f"g_{name}"]]
        out[grouped_by[0] if grouped_by else "total"].append(row)
    return out


def _key(row, breakdowns, cols) -> tuple:
    grouped = [(name, row[col]) for name, col in zip(breakdowns, cols, strict=True) if not row[f"g_{name}"]]
    return tuple(grouped)


def cohort_with(scope) -> tuple[str, dict]:
    """WITH clauses ending in `cohort` (one row per cycle of the period in scope, with its flags
    read from the cycle): what apps.campaigns' pages build on."""
    # Lazy: selectors imports this module at its top; these are its shared definitions.
    from apps.reporting.selectors import SQL_FLAGS, _cycle_where

    where, params = _cycle_where(scope)
    params["now"] = timezone.now()
    flags = (SQL_FLAGS.replace("q.cycle_id IS NOT NULL AS is_sql", "c.is_sql AS is_sql")
             .replace("COALESCE(q.opp, false) AS is_opp", "c.is_opp AS is_opp")
             .replace("OR b.cycle_id IS NOT NULL) AS breach", "OR c.sla_breached) AS breach"))
    assert " q." not in flags and " b." not in flags, "SQL_FLAGS changed: update cohort_with"
    sql = f"""
        WITH cohort AS MATERIALIZED (
                 SELECT c.id, c.rep_id, c.source, c.lead_type, c.assigned_at, c.campaign_record_id AS campaign_id, {flags}
                 FROM people_leadcycle c
                 WHERE {where})"""
    return sql, params


# -- activities ---------------------------------------------------------------------------

def activities_by_rep(scope) -> dict[int, int]:
    split = window_split(scope.start, scope.end, step=HOUR)
    params = _params(scope, split)
    parts = [f"""SELECT a.rep_id, 1 AS n FROM accounts_activity a
                 WHERE {_raw_window("a.occurred_at", split)} AND NOT a.automated AND a.rep_id IS NOT NULL{_rep("a", scope)}"""]
    if split is not None:
        parts.append(f"""SELECT h.rep_id, h.activities FROM reporting_activityhour h
                         WHERE h.hour >= %(lo)s AND h.hour < %(hi)s{_rep("h", scope)}""")
    sql = f"SELECT rep_id, sum(n) AS n FROM ({' UNION ALL '.join(parts)}) x GROUP BY rep_id HAVING sum(n) <> 0"
    return {row["rep_id"]: row["n"] for row in fetch_dicts(sql, params)}


def local_days_on_whole_hours(scope, tz) -> bool:
    """Whether every local midnight of the window falls on a whole UTC hour (true for every zone
    with whole-hour offsets): then each hourly bucket lies inside one local day."""
    for i in range(scope.days + 1):
        midnight = dt.datetime.combine(scope.date_from + dt.timedelta(days=i), dt.time.min, tzinfo=tz)
        if midnight.astimezone(dt.UTC).minute or midnight.astimezone(dt.UTC).second:
            return False
    return True


def activity_daily_sql(scope) -> tuple[str, dict] | None:
    """The `daily` CTE body of activity volume (rep_id, local day, n) from the hourly rollup, or
    None where it cannot serve (a zone with half-hour midnights)."""
    tz = timezone.get_current_timezone()
    if not local_days_on_whole_hours(scope, tz):
        return None
    split = window_split(scope.start, scope.end, step=HOUR)
    params = _params(scope, split)
    params["tz"] = timezone.get_current_timezone_name()
    parts = [f"""SELECT a.rep_id, (a.occurred_at AT TIME ZONE %(tz)s)::date AS day, 1 AS n FROM accounts_activity a
                 WHERE {_raw_window("a.occurred_at", split)} AND NOT a.automated AND a.rep_id IS NOT NULL{_rep("a", scope)}"""]
    if split is not None:
        parts.append(f"""SELECT h.rep_id, (h.hour AT TIME ZONE %(tz)s)::date, h.activities FROM reporting_activityhour h
                         WHERE h.hour >= %(lo)s AND h.hour < %(hi)s{_rep("h", scope)}""")
    sql = f"SELECT rep_id, day, sum(n) AS n FROM ({' UNION ALL '.join(parts)}) x GROUP BY 1, 2 HAVING sum(n) <> 0"
    return sql, params


def activity_research_first(scope) -> list[dict]:
    split = window_split(scope.start, scope.end, step=DAY)
    params = _params(scope, split)
    parts = [f"""SELECT f.rep_id, 1 AS reached, coalesce(f.first_research_at < f.first_outreach_at, false)::int AS researched
                 FROM reporting_firsttouch f WHERE {_raw_window("f.first_outreach_at", split)}{_rep("f", scope)}"""]
    if split is not None:
        parts.append(f"""SELECT d.rep_id, d.reached, d.researched FROM reporting_researchday d
                         WHERE d.day >= %(lo_day)s AND d.day < %(hi_day)s{_rep("d", scope)}""")
    sql = f"""SELECT rep_id, sum(reached) AS first_outreach, sum(researched) AS researched
              FROM ({' UNION ALL '.join(parts)}) x GROUP BY rep_id HAVING sum(reached) <> 0"""
    return fetch_dicts(sql, params)


def cohort_totals_sql(scopes: dict) -> tuple[str, dict]:
    """A query of (name, mql, sql, opp) rows, one per named scope: its cohort's assigned (MQLs),
    qualified (SQLs) and opps, from the daily rollup (each scope's parameters prefixed by its name)."""
    parts, params = [], {}
    for name, scope in scopes.items():
        sql, own = cohort_parts(scope)
        sql = re.sub(r"%\((\w+)\)s", lambda m, name=name: f"%({name}_{m.group(1)})s", sql)
        params.update({f"{name}_{key}": value for key, value in own.items()})
        parts.append(f"""SELECT '{name}' AS name, coalesce(sum(assigned), 0) AS mql, coalesce(sum(qualified), 0) AS sql,
                                coalesce(sum(opp), 0) AS opp
                         FROM ({sql}) p ({", ".join(["rep_id", "source", "lead_type", "campaign_id", *COUNT_COLUMNS])})""")
    return " UNION ALL ".join(parts), params
