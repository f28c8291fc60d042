"""The cadence page's numbers read from the cadence rollups (reporting.EnrolmentDay and
EnrolmentStepDay, sums of reporting.EnrolmentFact), so the page reads days × reps × cadences
rows instead of the window's enrolments and every step of them.

The window's whole UTC days come from the rollups; its partial days at each end from the facts
(their enrolment-time index). Enrolments of lead cycles marked an exception (issue 22) are in
the rollups but in no number: the interior's are subtracted, found through reporting.ExceptionEnrolment
(migration 0036: the exception cycles' facts by enrolment time; hashing the window's every fact
against every exception cycle grew with both).
"""

from __future__ import annotations

from apps.reporting.rollup_reads import DAY, _params, _raw_window, fetch_dicts, window_split

# rebuild / check: join apps.reporting.rollups' (after the facts' own rebuild).
SNAPSHOTS = {
    "exception enrolments": "SELECT enrolment_id, lead_cycle_id, enrolled_at FROM reporting_exceptionenrolment",
    "reached steps per day": ("SELECT day, rep_id, cadence_id, position, outcome, steps FROM reporting_stepreachedday "
                              "WHERE steps <> 0"),
    "reached steps per day and cadence": ("SELECT day, cadence_id, position, outcome, steps FROM reporting_stepreachedcadenceday "
                                          "WHERE steps <> 0"),
}
REBUILD = "SELECT reporting_exceptionenrolments_rebuild(), reporting_stepreacheddays_rebuild()"


def _parts(scope, *, rollup: str, columns: str, fact_columns: str, extra_from: str = "") -> tuple[str, dict]:
    """UNION ALL of the window's rows (`columns`, then n): raw partial days from the facts, the
    rollup's whole days, minus the interior's exception enrolments."""
    split = window_split(scope.start, scope.end, step=DAY)
    params = _params(scope, split)
    mine = " AND {a}.rep_id = ANY(%(rep_ids)s)" if scope.rep_ids is not None else ""
    parts = [f"""SELECT {fact_columns}, 1 FROM reporting_enrolmentfact f {extra_from}
                 LEFT JOIN people_leadcycle c ON c.id = f.lead_cycle_id
                 WHERE {_raw_window("f.enrolled_at", split)} AND c.exception_at IS NULL{mine.format(a="f")}"""]
    if split is not None:
        parts.append(f"""SELECT {columns}, r.{rollup[1]} FROM {rollup[0]} r
                         WHERE r.day >= %(lo_day)s AND r.day < %(hi_day)s AND r.{rollup[1]} <> 0{mine.format(a="r")}""")
        parts.append(f"""SELECT {fact_columns}, -1 FROM reporting_exceptionenrolment x
                         JOIN reporting_enrolmentfact f ON f.enrolment_id = x.enrolment_id {extra_from}
                         WHERE x.enrolled_at >= %(lo)s AND x.enrolled_at < %(hi)s{mine.format(a="f")}""")
    return " UNION ALL ".join(parts), params


def _lead_type(scope, params: dict) -> str:
    if not scope.lead_type:
        return ""
    params["lead_type"] = scope.lead_type
    return " AND cd.lead_type = %(lead_type)s"


def cadence_summary(scope, *, states: dict, early: int) -> list[dict]:
    """selectors' cadence_summary (apps.reporting.reports.cadences) from the rollup."""
    parts, params = _parts(scope, rollup=("reporting_enrolmentday", "enrolments"),
                           columns="r.cadence_id, r.state, r.done", fact_columns="f.cadence_id, f.state, f.done")
    params.update(states, early=early)
    # Grouped by the cadence id first, its name and lead type joined to the few groups (as below).
    sql = f"""
        WITH p (cadence_id, state, done, n) AS ({parts}),
             g AS (SELECT p.cadence_id, sum(p.n) AS enrolments,
               coalesce(sum(p.n) FILTER (WHERE p.state = %(active)s), 0) AS active,
               coalesce(sum(p.n) FILTER (WHERE p.state = %(positive)s), 0) AS positive,
               coalesce(sum(p.n) FILTER (WHERE p.state = %(negative)s), 0) AS negative,
               coalesce(sum(p.n) FILTER (WHERE p.state = ANY(%(without_response)s)), 0) AS ended_no_response,
               coalesce(sum(p.n) FILTER (WHERE p.state = %(completed)s), 0) AS completed,
               coalesce(sum(p.n) FILTER (WHERE p.state = %(dispositioned)s), 0) AS dispositioned,
               (sum(p.n * p.done) FILTER (WHERE p.state = %(dispositioned)s))::numeric
                   / nullif(sum(p.n) FILTER (WHERE p.state = %(dispositioned)s), 0) AS steps_before_disposition,
               coalesce(sum(p.n) FILTER (WHERE p.state = %(dispositioned)s AND p.done <= %(early)s), 0) AS early_abandons
                   FROM p GROUP BY p.cadence_id)
        SELECT g.cadence_id, cd.name AS cadence__name, g.enrolments, g.active, g.positive, g.negative, g.ended_no_response,
               g.completed, g.dispositioned, g.steps_before_disposition, g.early_abandons
        FROM g JOIN cadences_cadence cd ON cd.id = g.cadence_id
        WHERE g.enrolments <> 0{_lead_type(scope, params)}
        ORDER BY cd.name"""
    return fetch_dicts(sql, params)


def cadence_step_outcomes(scope, *, outcomes, pending: str, active: str) -> list[dict]:
    """Per cadence and step position: steps by outcome (a pending step of an ended enrolment was
    never reached: not counted)."""
    # The whole days from the reached steps per day (migration 0038): per cadence for everyone in
    # scope, per rep for a rep scope; the facts' steps are tested here (reached or not).
    rollup = "reporting_stepreachedcadenceday" if scope.rep_ids is None else "reporting_stepreachedday"
    parts, params = _parts(scope, rollup=(rollup, "steps"), columns="r.cadence_id, r.position, r.outcome, true",
                           fact_columns="f.cadence_id, s.position, s.outcome, NOT (s.outcome = %(pending)s AND f.state <> %(active)s)",
                           extra_from="CROSS JOIN LATERAL unnest(f.positions, f.outcomes) AS s(position, outcome)")
    params.update(pending=pending, active=active)
    counts = []
    for index, value in enumerate(outcomes):
        params[f"outcome_{index}"] = value
        counts.append(f'coalesce(sum(p.n) FILTER (WHERE p.outcome = %(outcome_{index})s), 0) AS "{value}"')
    # Grouped by the integer keys first, the cadence's name and lead type joined to the few groups
    # (grouping the window's ~20k rows by the name sorted them by text).
    names = ", ".join(f'g."{value}"' for value in outcomes)
    sql = f"""
        WITH p (cadence_id, position, outcome, reached, n) AS ({parts}),
             g AS (SELECT p.cadence_id, p.position, {", ".join(counts)}, sum(p.n) AS total
                   FROM p WHERE p.reached
                   GROUP BY p.cadence_id, p.position)
        SELECT g.cadence_id AS enrolment__cadence_id, cd.name AS enrolment__cadence__name, g.position, {names}
        FROM g JOIN cadences_cadence cd ON cd.id = g.cadence_id
        WHERE g.total <> 0{_lead_type(scope, params)}
        ORDER BY cd.name, g.position"""
    return fetch_dicts(sql, params)
