"""The capacity planner: how many SDRs a quota needs, from ACV and win rate."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_CEILING, Decimal

from django import forms
from django.utils import timezone

from apps.leads.models import LeadType
from apps.people.models import Rep
from apps.reporting import balance as b
from apps.reporting import selectors as s
from apps.reporting.reports.base import Report, register
from apps.reporting.tables import Column, Result, Table, bar_chart
from apps.reporting.targets import monthly_target


class CapacityForm(forms.Form):
    quota = forms.DecimalField(label="Annual quota", min_value=Decimal("0.01"), max_digits=14, decimal_places=2, required=False,
                               help_text="Annual bookings quota the meetings must support.")
    acv = forms.DecimalField(label="ACV", min_value=Decimal("0.01"), max_digits=14, decimal_places=2, required=False,
                             help_text="Average contract value of a won deal.")
    win_rate = forms.DecimalField(label="Win rate (%)", min_value=Decimal("0.01"), max_value=Decimal("100"), max_digits=5,
                                  decimal_places=2, required=False, help_text="Share of meetings that become a closed-won deal.")

    inbound_leads = forms.IntegerField(label="Inbound leads a month", min_value=0, max_value=10000, required=False,
                                       help_text="Inbound leads each SDR gets a month: the outbound they can still carry "
                                                 "is worked out from it.")
    working_days = forms.IntegerField(label="Working days a month", min_value=1, max_value=31, required=False)

    DEFAULTS = {"quota": Decimal("360000"), "acv": Decimal("20000"), "win_rate": Decimal("10"), "inbound_leads": 20,
                "working_days": 21}

    def __init__(self, data=None, *args, **kwargs):
        if data is not None:
            data = data.copy()
            for key, value in self.DEFAULTS.items():
                if not data.get(key):
                    data[key] = str(value)
        super().__init__(data, *args, **kwargs)


def capacity_plan(*, quota: Decimal, acv: Decimal, win_rate_pct: Decimal) -> dict:
    """Closes needed = ⌈quota ÷ ACV⌉; meetings a year = closes ÷ win rate (rounded up to whole
    meetings); a month = that ÷ 12."""
    closes = int((quota / acv).to_integral_value(rounding=ROUND_CEILING))
    meetings_year = int((Decimal(closes) * 100 / win_rate_pct).to_integral_value(rounding=ROUND_CEILING))
    return {"closes": closes, "meetings_year": meetings_year, "meetings_month": Decimal(meetings_year) / 12}


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    import calendar

    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@register
class CapacityPlanner(Report):
    slug = "capacity"
    title = "Capacity planner"
    description = "Quota, ACV and win rate → closes and meetings needed; each SDR's ramp-adjusted monthly meeting target."
    filters = ("team", "rep")
    params_form = CapacityForm

    def compute(self, *, scope, params) -> Result:


        plan = capacity_plan(quota=params["quota"], acv=params["acv"], win_rate_pct=params["win_rate"])
        monthly = plan["meetings_month"]
        today = timezone.localdate()
        months = [today, add_months(today, 1), add_months(today, 2)]
        reps = s.roster(scope=scope)
        rows = []
        totals = {f"target_{i}": 0 for i in range(3)}
        for rep in reps:
            obj = Rep(ramp_start=rep["ramp_start"])
            row = {"rep": rep["owner_name"], "ramp_start": rep["ramp_start"].isoformat() if rep["ramp_start"] else "—"}
            for i, day in enumerate(months):
                factor = obj.ramp_factor(on=day)
                target = int(monthly_target("meetings_held", Decimal(monthly), Decimal(str(factor))))
                row[f"factor_{i}"] = factor
                row[f"target_{i}"] = target
                totals[f"target_{i}"] += target
            row["ramping"] = "yes" if row["factor_0"] < 1 or row["factor_1"] < 1 else "no"
            rows.append(row)
        columns = [Column("rep", "SDR", "text"), Column("ramp_start", "Ramp start", "text"),
                   Column("ramping", "Ramping", "text", "Yes while the ramp factor this month or next is below 100%.")]
        for i, day in enumerate(months):
            columns.append(Column(f"factor_{i}", f"Ramp {day:%Y-%m-%d}", "pct", "Ramp factor on that day: 0% in the first month from ramp start, 50% in the second, 100% from the third.", 0))
            columns.append(Column(f"target_{i}", f"Target {day:%Y-%m-%d}", "int", "Meetings a month × ramp factor, rounded up to whole meetings."))
        total = {"rep": "Team", "ramp_start": "", "ramping": "", **totals}
        table = Table("targets", "Ramp-adjusted monthly meeting targets", columns, rows, total=total if rows else None)
        summary = [
            ("Closes needed", f"{plan['closes']}"),
            ("Meetings needed a year", f"{plan['meetings_year']}"),
            ("Meetings needed a month", f"{monthly:.1f}"),
        ]
        formula = Table("formula", "Capacity formula", [
            Column("quota", "Quota", "money", "Annual quota."),
            Column("acv", "ACV", "money", "Average contract value."),
            Column("win_rate", "Win rate", "pct", "Meetings that become closed-won deals."),
            Column("closes", "Closes needed", "int", "⌈quota ÷ ACV⌉."),
            Column("meetings_year", "Meetings a year", "int", "Closes ÷ win rate, rounded up to whole meetings."),
            Column("meetings_month", "Meetings a month", "num", "Meetings a year ÷ 12."),
        ], [{"quota": params["quota"], "acv": params["acv"], "win_rate": params["win_rate"] / 100, **plan}])
        chart = bar_chart(labels=[r["rep"] for r in rows],
                          datasets=[(f"Target {d:%Y-%m-%d}", [r[f"target_{i}"] for r in rows]) for i, d in enumerate(months)])
        return Result(tables=[formula, table, outbound_table(scope=scope, reps=reps, params=params)], chart=chart,
                      summary=summary)


HISTORY_DAYS = 90


def outbound_table(*, scope, reps, params) -> Table:
    """How much outbound each SDR can carry next to the given inbound volume (issue 22 item 2):
    their team's activity goals, and the touches a disposition took per lead type over the last
    90 days in scope (apps.reporting.balance.outbound_capacity). Two statements."""
    import dataclasses



    now = timezone.now()
    history = dataclasses.replace(scope, start=now - dt.timedelta(days=HISTORY_DAYS), end=now, lead_type="")
    by_type = b.handle_times(scope=history, medians=False)["lead_type"]
    inbound = next((r["touches_per_disposition"] for r in by_type if r["lead_type"] == LeadType.INBOUND), None)
    # Outbound and target-account leads pooled: both are outbound work.
    other = [r for r in by_type if r["lead_type"] != LeadType.INBOUND]
    outbound = sum(r["touches"] for r in other) / sum(r["dispositions"] for r in other) if other else None
    goals = b.goals_by_team()
    teams = dict(Rep.objects.filter(pk__in=[r["pk"] for r in reps]).values_list("pk", "team_id"))
    rows = []
    for rep in reps:
        goal = goals.get(teams.get(rep["pk"]))
        if goal is None:
            rows.append({"rep": rep["owner_name"], "goals": "no goals set"})
            continue
        plan = b.outbound_capacity(inbound_per_day=goal.inbound_per_day, outbound_per_day=goal.outbound_per_day,
                                   working_days=params["working_days"], inbound_leads=params["inbound_leads"],
                                   touches_per_inbound=inbound, touches_per_outbound=outbound)
        rows.append({"rep": rep["owner_name"], "goals": f"{goal.inbound_per_day} in + {goal.outbound_per_day} out a day",
                     "inbound_leads": params["inbound_leads"], "per_inbound": inbound, "per_outbound": outbound, **plan})
    return Table("outbound-capacity", "Outbound each SDR can carry with the inbound volume", [
        Column("rep", "SDR", "text"),
        Column("goals", "Team activity goals", "text", "The team's inbound and outbound activities per rep and working day."),
        Column("monthly_touches", "Touches a month", "int", "(Inbound + outbound goal) × working days a month."),
        Column("inbound_leads", "Inbound leads a month", "int", "The inbound volume given above."),
        Column("per_inbound", "Touches per inbound disposition", "num", f"Real touches ÷ inbound dispositions, last "
               f"{HISTORY_DAYS} days in scope (balance page, handle time)."),
        Column("inbound_touches", "Touches inbound takes", "num", "Inbound leads × touches per inbound disposition."),
        Column("left", "Touches left for outbound", "num", "Touches a month − touches inbound takes (not below 0)."),
        Column("per_outbound", "Touches per outbound disposition", "num", f"Real touches ÷ outbound and target-account "
               f"dispositions, last {HISTORY_DAYS} days in scope."),
        Column("outbound_leads", "Outbound leads a month", "int", "Touches left ÷ touches per outbound disposition, "
               "rounded down: the outbound a rep can carry with that inbound volume."),
    ], rows, note="" if inbound is not None and outbound is not None
       else f"No dispositions of both kinds in the last {HISTORY_DAYS} days: the outbound capacity cannot be worked out yet.")
