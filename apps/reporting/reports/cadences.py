"""The cadence compliance page over apps.cadences."""

from __future__ import annotations

from django.db.models import Count, Q

from apps.cadences.models import Enrolment, EnrolmentStep
from apps.reporting import cadence_reads
from apps.reporting.reports.base import Report, pct_text, register
from apps.reporting.selectors import fetch_dicts, history_mode
from apps.reporting.tables import Column, Result, Table, bar_chart, rate

EARLY_ABANDON_STEPS = 3


def enrolments_in_period(*, scope):

    # An enrolment of a lead cycle marked an exception (issue 22) is in no number.
    qs = Enrolment.objects.filter(enrolled_at__gte=scope.start, enrolled_at__lt=scope.end, **scope.rep_filter()).exclude(
        lead_cycle__exception_at__isnull=False)
    if scope.lead_type:
        qs = qs.filter(cadence__lead_type=scope.lead_type)
    return qs


def cadence_step_outcomes(*, scope) -> list[dict]:

    Outcome = EnrolmentStep.Outcome
    if not history_mode():  # from the cadence rollups (apps.reporting.cadence_reads)
        return cadence_reads.cadence_step_outcomes(scope, outcomes=Outcome.values, pending=Outcome.PENDING,
                                                   active=Enrolment.State.ACTIVE)

    # Steps left pending when an enrolment ended early were never reached: not counted.
    qs = EnrolmentStep.objects.filter(enrolment__in=enrolments_in_period(scope=scope)).exclude(
        Q(outcome=Outcome.PENDING) & ~Q(enrolment__state=Enrolment.State.ACTIVE))
    return list(qs.values("enrolment__cadence_id", "enrolment__cadence__name", "position").annotate(
        **{value: Count("id", filter=Q(outcome=value)) for value in Outcome.values}
    ).order_by("enrolment__cadence__name", "position"))


def cadence_summary(*, scope) -> list[dict]:
    """Per cadence: the period's enrolments by how they ended, and the steps done before a
    disposition. Steps done are counted per enrolment once (a grouped join, not a lookup per row)."""

    where = ["en.enrolled_at >= %(start)s", "en.enrolled_at < %(end)s",
             # exceptions (issue 22) are in no number
             "NOT EXISTS (SELECT 1 FROM people_leadcycle x WHERE x.id = en.lead_cycle_id AND x.exception_at IS NOT NULL)"]
    done = EnrolmentStep.Outcome
    state = Enrolment.State
    params = {"start": scope.start, "end": scope.end, "done": [done.POSITIVE, done.NEGATIVE, done.NO_RESPONSE],
              "early": EARLY_ABANDON_STEPS,
              "without_response": [state.COMPLETED, state.INCOMPLETE, state.DISPOSITIONED, state.STOPPED],
              "active": state.ACTIVE, "positive": state.POSITIVE, "negative": state.NEGATIVE,
              "completed": state.COMPLETED, "dispositioned": state.DISPOSITIONED}
    if not history_mode():
        states = {k: v for k, v in params.items() if k not in ("start", "end", "done", "early")}
        return _float_steps(cadence_reads.cadence_summary(scope, states=states, early=EARLY_ABANDON_STEPS))
    if scope.rep_ids is not None:
        where.append("en.rep_id = ANY(%(rep_ids)s)")
        params["rep_ids"] = list(scope.rep_ids)
    if scope.lead_type:
        where.append("cd.lead_type = %(lead_type)s")
        params["lead_type"] = scope.lead_type
    sql = f"""
        WITH e AS MATERIALIZED (
                 SELECT en.id, en.cadence_id, cd.name, en.state
                 FROM cadences_enrolment en JOIN cadences_cadence cd ON cd.id = en.cadence_id
                 WHERE {" AND ".join(where)}),
             d AS (SELECT st.enrolment_id, count(*) FILTER (WHERE st.outcome = ANY(%(done)s)) AS done
                   FROM cadences_enrolmentstep st WHERE st.enrolment_id IN (SELECT id FROM e)
                   GROUP BY st.enrolment_id)
        SELECT e.cadence_id, e.name AS cadence__name,
               count(*) AS enrolments,
               count(*) FILTER (WHERE e.state = %(active)s) AS active,
               count(*) FILTER (WHERE e.state = %(positive)s) AS positive,
               count(*) FILTER (WHERE e.state = %(negative)s) AS negative,
               count(*) FILTER (WHERE e.state = ANY(%(without_response)s)) AS ended_no_response,
               count(*) FILTER (WHERE e.state = %(completed)s) AS completed,
               count(*) FILTER (WHERE e.state = %(dispositioned)s) AS dispositioned,
               avg(COALESCE(d.done, 0)) FILTER (WHERE e.state = %(dispositioned)s) AS steps_before_disposition,
               count(*) FILTER (WHERE e.state = %(dispositioned)s AND COALESCE(d.done, 0) <= %(early)s) AS early_abandons
        FROM e LEFT JOIN d ON d.enrolment_id = e.id
        GROUP BY e.cadence_id, e.name
        ORDER BY e.name"""
    return _float_steps(fetch_dicts(sql, params))


def _float_steps(rows: list[dict]) -> list[dict]:
    for row in rows:
        if row["steps_before_disposition"] is not None:
            row["steps_before_disposition"] = float(row["steps_before_disposition"])
    return rows


@register
class Cadences(Report):
    slug = "cadences"
    title = "Cadence compliance"
    description = "Per cadence and step: the four step outcomes; completion rate, steps reached before disposition, early abandons."

    def compute(self, *, scope, params) -> Result:

        Outcome = EnrolmentStep.Outcome
        summary_rows = cadence_summary(scope=scope)
        for row in summary_rows:
            row["cadence"] = row["cadence__name"]
            row["completion_rate"] = rate(row["completed"], row["ended_no_response"])
            row["early_abandon_rate"] = rate(row["early_abandons"], row["dispositioned"])
        keys = ("enrolments", "active", "positive", "negative", "ended_no_response", "completed", "dispositioned", "early_abandons")
        total = {"cadence": "All", **{k: sum(r[k] for r in summary_rows) for k in keys}}
        weighted = sum((r["steps_before_disposition"] or 0) * r["dispositioned"] for r in summary_rows)
        total["steps_before_disposition"] = rate(weighted, total["dispositioned"])
        total["completion_rate"] = rate(total["completed"], total["ended_no_response"])
        total["early_abandon_rate"] = rate(total["early_abandons"], total["dispositioned"])
        cadences = Table("cadences", "Per cadence", [
            Column("cadence", "Cadence", "text"),
            Column("enrolments", "Enrolments", "int", "Leads enrolled in the period (by reps in scope; the cadence's lead type, if chosen)."),
            Column("active", "Active", "int", "Still in the cadence."),
            Column("positive", "Positive", "int", "Left on a positive response (e.g. booked a meeting)."),
            Column("negative", "Negative", "int", "Left on a negative response."),
            Column("ended_no_response", "Ended without response", "int", "Ended with no response: completed, last step not completed, dispositioned or stopped."),
            Column("completed", "Completed", "int", "Went through every step with no response."),
            Column("completion_rate", "Completion rate", "pct", "Completed ÷ ended without response."),
            Column("dispositioned", "Dispositioned", "int", "Ended because the lead was dispositioned mid-cadence."),
            Column("steps_before_disposition", "Steps before disposition", "num", "Average steps done (positive, negative or no response) before the lead was dispositioned."),
            Column("early_abandons", "Early abandons", "int", f"Dispositioned after at most {EARLY_ABANDON_STEPS} steps done."),
            Column("early_abandon_rate", "Early abandon rate", "pct", "Early abandons ÷ dispositioned."),
        ], summary_rows, total=total if summary_rows else None)
        step_rows = cadence_step_outcomes(scope=scope)
        for row in step_rows:
            row["cadence"] = row["enrolment__cadence__name"]
            row["reached"] = sum(row[v] for v in Outcome.values if v != Outcome.PENDING)
            row["response_rate"] = rate(row[Outcome.POSITIVE] + row[Outcome.NEGATIVE], row["reached"])
        steps = Table("steps", "Per step", [
            Column("cadence", "Cadence", "text"), Column("position", "Step", "int"),
            Column("reached", "Reached", "int", "Enrolments whose step ended: positive, negative, no response or not completed."),
            Column(Outcome.POSITIVE, "Positive response", "int", "The lead responded positively and left the cadence."),
            Column(Outcome.NEGATIVE, "Negative response", "int", "The lead responded negatively and left the cadence."),
            Column(Outcome.NO_RESPONSE, "No response", "int", "The rep did the step; the lead moved to the next step."),
            Column(Outcome.NOT_COMPLETED, "Not completed", "int", "The rep did not do the step."),
            Column(Outcome.PENDING, "Pending", "int", "Not done yet, in an active enrolment."),
            Column("response_rate", "Response rate", "pct", "(Positive + negative) ÷ reached."),
        ], step_rows)
        labels = [f"{r['cadence']} · {r['position']}" for r in step_rows]
        chart = bar_chart(labels=labels, stacked=True, datasets=[
            (label, [r[value] for r in step_rows]) for value, label in Outcome.choices])
        summary = [("Enrolments", str(total["enrolments"])), ("Completion rate", pct_text(total["completion_rate"])),
                   ("Early abandons", str(total["early_abandons"]))]
        return Result(tables=[cadences, steps], chart=chart, summary=summary)
