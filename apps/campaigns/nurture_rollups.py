"""The nurture page's "in nurture now" table from the nurture day rollups (migration
0031_camp_nurture_days), outside apps.reporting.rollup_reads.from_history(), in one statement
with the same rows, columns and types as nurture_report.in_nurture_rows over the facts:

- leads and leads in a program: sums of reporting_nurtureday;
- age bands: a day wholly on one side of every band's cut-off (now − 0, 30, 90, 180 days) is
  classed by its start; the facts of the (at most four) days holding a cut-off are read raw
  through their disposition-time index, and classed by the page's own expression;
- recycle due in 30 days: reporting_nurturedueday for the days before the cut-off's day, the
  facts of that day raw (the partial index of facts waiting in a program, by recycle date);
- median age: no sum gives it, but the day rows give each rank's day — the one or two middle
  ranks (ascending age is descending disposition time) are read from their day's facts, and
  percentile_cont over those middle rows is the median of all (the same interpolation)."""

from __future__ import annotations

from apps.reporting.selectors import fetch_dicts


def _scope(alias: str, scope) -> str:
    where = ""
    if scope.rep_ids is not None:
        where += f" AND {alias}.rep_id = ANY(%(rep_ids)s)"
    if scope.lead_type:
        where += f" AND {alias}.lead_type = %(lead_type)s"
    return where


def in_nurture_rows_kept(*, scope, params: dict, bands: tuple) -> list[dict]:
    """`params`: now, plus rep_ids / lead_type when the scope filters; `bands`: (lo, hi, label)."""
    params = {**params, "cuts": sorted({edge for lo, hi, _ in bands for edge in (lo, hi) if edge is not None})}
    both = "CROSS JOIN LATERAL (VALUES (false, {a}.reason), (true, NULL)) g (total, reason)"
    day_start = "({d}::timestamp AT TIME ZONE 'UTC')"
    age = "EXTRACT(EPOCH FROM %(now)s - {t}) / 86400"
    band_sums = ",\n".join(
        f"coalesce(sum(b.n) FILTER (WHERE b.age_d >= {lo}{'' if hi is None else f' AND b.age_d < {hi}'}), 0)::bigint AS age_{i}"
        for i, (lo, hi, _label) in enumerate(bands))
    band_names = ", ".join(f"coalesce(bd.age_{i}, 0) AS age_{i}" for i in range(len(bands)))
    sql = f"""
        WITH edges AS MATERIALIZED (
            SELECT DISTINCT ((%(now)s - cut * interval '86400 seconds') AT TIME ZONE 'UTC')::date AS day
            FROM unnest(%(cuts)s::int[]) cut),
        due_cut AS MATERIALIZED (
            SELECT %(now)s + interval '30 days' AS at, ((%(now)s + interval '30 days') AT TIME ZONE 'UTC')::date AS day),
        -- the day rows in scope summed per reason and day, each in its reason's group and in the total's
        days AS MATERIALIZED (
            SELECT g.total, g.reason, r.day, r.leads, r.in_program
            FROM (SELECT r.reason, r.day, sum(r.leads) AS leads, sum(r.in_program) AS in_program
                  FROM reporting_nurtureday r WHERE true{_scope("r", scope)}
                  GROUP BY r.reason, r.day HAVING sum(r.leads) <> 0 OR sum(r.in_program) <> 0) r
            {both.format(a="r")}),
        counts AS (
            SELECT total, reason, sum(leads)::bigint AS leads, sum(in_program)::bigint AS in_program
            FROM days GROUP BY total, reason),
        banded AS (
            SELECT d.total, d.reason, {age.format(t=day_start.format(d="d.day"))} AS age_d, d.leads AS n
            FROM days d WHERE d.day IS NULL OR d.day NOT IN (SELECT day FROM edges)
            UNION ALL
            SELECT g.total, g.reason, {age.format(t="f.dispositioned_at")}, 1
            FROM edges e
            JOIN reporting_nurturefact f ON f.dispositioned_at >= {day_start.format(d="e.day")}
                                        AND f.dispositioned_at < {day_start.format(d="(e.day + 1)")}
            {both.format(a="f")}
            WHERE true{_scope("f", scope)}),
        bands AS (SELECT b.total, b.reason, {band_sums} FROM banded b GROUP BY b.total, b.reason),
        due AS (
            SELECT g.total, g.reason, sum(x.n)::bigint AS due_30
            FROM (SELECT r.reason, r.leads AS n FROM reporting_nurturedueday r, due_cut c
                  WHERE r.day < c.day AND r.leads <> 0{_scope("r", scope)}
                  UNION ALL
                  SELECT f.reason, 1 FROM reporting_nurturefact f, due_cut c
                  WHERE f.in_program AND f.recycle_due_at >= {day_start.format(d="c.day")}
                    AND f.recycle_due_at < c.at{_scope("f", scope)}) x
            {both.format(a="x")}
            GROUP BY g.total, g.reason),
        -- the median: ranks counted from the youngest (latest disposition) over the day rows
        dated AS (
            SELECT total, reason, day, sum(leads) AS leads FROM days WHERE day IS NOT NULL
            GROUP BY total, reason, day HAVING sum(leads) <> 0),
        ranked AS (
            SELECT d.total, d.reason, d.day, d.leads,
                   coalesce(sum(d.leads) OVER (PARTITION BY d.total, d.reason ORDER BY d.day DESC
                                               ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before,
                   sum(d.leads) OVER (PARTITION BY d.total, d.reason) AS n
            FROM dated d),
        middle AS (
            SELECT total, reason, day, before, floor((n - 1) / 2.0) AS k_lo, ceil((n - 1) / 2.0) AS k_hi
            FROM ranked
            WHERE (before <= floor((n - 1) / 2.0) AND floor((n - 1) / 2.0) < before + leads)
               OR (before <= ceil((n - 1) / 2.0) AND ceil((n - 1) / 2.0) < before + leads)),
        middle_rows AS (
            SELECT m.total, m.reason, m.k_lo, m.k_hi, {age.format(t="f.dispositioned_at")} AS age_d,
                   m.before + row_number() OVER (PARTITION BY m.total, m.reason, m.day ORDER BY f.dispositioned_at DESC) - 1 AS k
            FROM middle m
            JOIN reporting_nurturefact f ON f.dispositioned_at >= {day_start.format(d="m.day")}
                                        AND f.dispositioned_at < {day_start.format(d="(m.day + 1)")}
                                        AND (m.total OR f.reason = m.reason)
            WHERE true{_scope("f", scope)}),
        medians AS (
            SELECT total, reason, percentile_cont(0.5) WITHIN GROUP (ORDER BY age_d) AS median_age_d
            FROM middle_rows WHERE k = k_lo OR k = k_hi GROUP BY total, reason)
        SELECT c.total::int AS g_reason, c.reason, c.leads, c.in_program, coalesce(du.due_30, 0) AS due_30,
               md.median_age_d, {band_names}
        FROM (SELECT * FROM counts
              UNION ALL  -- the total's row even when no lead is in nurture, as GROUPING SETS gives it
              SELECT true, NULL, 0, 0 WHERE NOT EXISTS (SELECT 1 FROM counts WHERE total)) c
        LEFT JOIN due du ON du.total = c.total AND du.reason IS NOT DISTINCT FROM c.reason
        LEFT JOIN medians md ON md.total = c.total AND md.reason IS NOT DISTINCT FROM c.reason
        LEFT JOIN bands bd ON bd.total = c.total AND bd.reason IS NOT DISTINCT FROM c.reason
        ORDER BY c.total, c.leads DESC, c.reason"""
    return fetch_dicts(sql, params)
