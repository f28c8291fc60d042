"""Targets and attainment: each SDR's ramp-adjusted monthly targets against what they
attained so far and their pace, next to the capacity planner's arithmetic."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from apps.reporting import selectors as s
from apps.reporting.reports.base import Report, register
from apps.reporting.reports.capacity import CapacityForm, capacity_plan
from apps.reporting.tables import Column, Result, Table
from apps.reporting.targets import METRICS, PACE_FROM_DAY, WHOLE, attainment_rows


class MonthForm(forms.Form):
    month = forms.DateField(label="Month", required=False, help_text="Any day of the month (YYYY-MM-DD); this month by default.")


def attainment_columns() -> list[Column]:
    columns = [Column("rep", "SDR", "text"),
               Column("ramp", "Ramp", "pct", "Mean ramp factor over the month's days: 0% in month 1 from ramp start, 50% in month 2, 100% from month 3.", 0),
               Column("source", "Targets", "text", "Set for the month by the manager (Reporting → Rep targets), else the segment's default (a quarter's ÷ 3).")]
    for key, label in METRICS:
        kind = "int" if key in WHOLE else "money"
        columns += [
            Column(f"{key}_target", f"{label} target", kind,
                   "Monthly target × ramp, rounded half up" + (" to whole numbers." if key in WHOLE else " to cents.")),
            Column(f"{key}_done", f"{label} so far", kind, {
                "meetings_held": "Meetings scheduled this month and held (Completed – Qualified or Unqualified).",
                "saos": "Opportunities the SDR sourced that reached the pipeline stage this month.",
                "pipeline": "Amount of those opportunities."}[key]),
            Column(f"{key}_pct", f"{label} attained", "pct", "So far ÷ target.", 0),
            Column(f"{key}_expected", f"{label} expected by today", kind,
                   "Target × elapsed days ÷ days in the month, rounded like the target."),
            Column(f"{key}_status", f"{label} pace", "text",
                   f"Ahead, on pace or behind: so far against expected by today. \"Early\" before day {PACE_FROM_DAY} of the "
                   "month, when one meeting more or less swings any percentage."),
            Column(f"{key}_pace", f"{label} pace %", "pct",
                   f"So far ÷ expected by today (unrounded); 100% is on pace. Shown from day {PACE_FROM_DAY} of the month.", 0),
        ]
    return columns


def attainment_table(*, rep_ids, month: dt.date, title: str = "Attainment this month") -> Table:
    rows = attainment_rows(rep_ids=rep_ids, month=month)
    return Table("attainment", f"{title} ({month:%B %Y})", attainment_columns(), rows)


@register
class Attainment(Report):
    slug = "attainment"
    title = "Targets and attainment"
    description = "Each SDR's ramp-adjusted monthly targets (meetings held, SAOs, pipeline), attainment to date and pace."
    filters = ("team", "rep")
    params_form = MonthForm

    def compute(self, *, scope, params) -> Result:
        month = (params.get("month") or timezone.localdate()).replace(day=1)
        rep_ids = [r["pk"] for r in s.roster(scope=scope)]
        table = attainment_table(rep_ids=rep_ids, month=month, title="Attainment")
        defaults = CapacityForm.DEFAULTS
        plan = capacity_plan(quota=defaults["quota"], acv=defaults["acv"], win_rate_pct=defaults["win_rate"])
        summary = [("Month", f"{month:%B %Y}"), ("SDRs", str(len(table.rows))),
                   ("Planner: meetings a month", f"{plan['meetings_month']:.0f}"),
                   ("Planner arithmetic", f"{defaults['quota']:,.0f} ÷ {defaults['acv']:,.0f} = {plan['closes']} closes; "
                                          f"÷ {defaults['win_rate']:.0f}% = {plan['meetings_year']} meetings a year")]
        on_pace = [r for r in table.rows if r["meetings_held_status"] in ("ahead", "on pace")]
        early = any(r["meetings_held_status"] == "early" for r in table.rows)
        summary.append(("On pace for meetings", f"early in the month (judged from day {PACE_FROM_DAY})" if early
                        else f"{len(on_pace)} of {len(table.rows)}"))
        return Result(tables=[table], summary=summary, notes=[
            "Defaults per segment (Reporting → Segment targets): Enterprise and Mid-Market quarterly, SMB and PubSec "
            "monthly; the default meetings target is the capacity planner's 15 a month. Managers set their SDRs' "
            "own months under Reporting → Rep targets."])
