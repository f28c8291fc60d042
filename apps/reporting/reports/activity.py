"""The activity log: touches by rep, type and week."""

from __future__ import annotations

import datetime as dt

from django import forms

from apps.accounts.models import ActivityType
from apps.people.models import Rep
from apps.reporting import selectors as s
from apps.reporting.reports.base import Report, register
from apps.reporting.tables import Column, Result, Table, bar_chart, rate


class ActivityForm(forms.Form):
    type = forms.ChoiceField(label="Type", choices=[("", "All types"), *ActivityType.choices], required=False)
    account = forms.CharField(label="Account name contains", max_length=100, required=False)


@register
class ActivityLog(Report):
    slug = "activity"
    title = "Activity log"
    description = "Activities by rep, type, account and date; volume per rep per day and week; consistency, research before outreach, days since the last opportunity."
    filters = ("date", "team", "rep")
    params_form = ActivityForm

    def compute(self, *, scope, params) -> Result:
        kind = params.get("type") or ""
        reps = s.roster(scope=scope)
        volume = s.activity_volume(scope=scope, activity_type=kind)
        daily, weekly = volume["daily"], volume["weekly"]
        research = {r["rep_id"]: r for r in s.activity_research_first(scope=scope)}
        last_deal = s.activity_last_deal(scope=scope)
        items = s.activity_list(scope=scope, activity_type=kind, account=params.get("account") or "")
        known = {r["pk"]: r["owner_name"] for r in reps}
        missing = {row["rep_id"] for row in daily} - set(known)
        if missing:

            known.update(dict(Rep.objects.filter(pk__in=missing).values_list("pk", "owner_name")))
        rep_ids = [r["pk"] for r in reps] + sorted(missing, key=lambda pk: known[pk])
        by_rep_day: dict[int, dict[dt.date, int]] = {pk: {} for pk in rep_ids}
        for row in daily:
            by_rep_day[row["rep_id"]][row["day"]] = row["n"]
        days = [scope.date_from + dt.timedelta(days=i) for i in range(scope.days)]
        weekdays = s.weekdays_between(scope.date_from, scope.date_to)
        end_day = scope.date_to
        pattern_rows = []
        for pk in rep_ids:
            counts = by_rep_day[pk]
            total = sum(counts.values())
            cv, label = s.daily_pattern(counts, weekdays)
            r = research.get(pk, {"first_outreach": 0, "researched": 0})
            last = last_deal.get(pk)
            from django.utils import timezone

            last_day = timezone.localtime(last).date() if last else None
            pattern_rows.append({
                "rep": known[pk], "activities": total, "active_days": sum(1 for d in weekdays if counts.get(d)),
                "weekdays": len(weekdays), "per_day": rate(total, scope.days), "cv": cv, "pattern": label,
                "first_outreach": r["first_outreach"], "researched": r["researched"],
                "research_share": rate(r["researched"], r["first_outreach"]),
                "last_deal": last_day.isoformat() if last_day else "never",
                "days_since_deal": (end_day - last_day).days if last_day else None,
            })
        patterns = Table("patterns", "Per-rep patterns", [
            Column("rep", "Rep", "text"),
            Column("activities", "Activities", "int", "Non-automated activities in the period (of the chosen type)."),
            Column("per_day", "Per day", "num", "Activities ÷ calendar days in the period."),
            Column("active_days", "Active weekdays", "int", "Weekdays (Mon–Fri) with at least one activity."),
            Column("weekdays", "Weekdays", "int", "Weekdays in the period."),
            Column("cv", "Variation", "num", "Coefficient of variation of activities per weekday, zero days included (std ÷ mean).", 2),
            Column("pattern", "Pattern", "text", "Consistent when the variation is at most 1.0, bursty above."),
            Column("first_outreach", "Accounts first reached", "int", "Accounts whose first call/email/social/meeting by this rep (ever) fell in the period."),
            Column("researched", "Researched first", "int", "Of those, accounts the rep researched (an “Intelligence run” activity) before that first outreach."),
            Column("research_share", "Research first %", "pct", "Researched first ÷ accounts first reached.", 0),
            Column("last_deal", "Last opportunity", "text", "Day of the rep's last opportunity up to the period's end: one they sourced, or a “Deal created” activity from another tool."),
            Column("days_since_deal", "Days since opportunity", "num", "Period's last day − last opportunity day.", 0),
        ], pattern_rows)
        statuses = {}
        for index, row in enumerate(pattern_rows):
            if row["pattern"] in {"consistent", "bursty"}:
                statuses[(index, "pattern")] = "good" if row["pattern"] == "consistent" else "warn"
        patterns.statuses = statuses
        daily_rows = []
        for day in days:
            row = {"day": day.isoformat(), "total": sum(by_rep_day[pk].get(day, 0) for pk in rep_ids)}
            for pk in rep_ids:
                row[f"r{pk}"] = by_rep_day[pk].get(day, 0)
            daily_rows.append(row)
        rep_columns = [Column(f"r{pk}", known[pk], "int") for pk in rep_ids]
        volume = Table("daily", "Volume per rep per day", [
            Column("day", "Day", "text"), Column("total", "All reps", "int", "Non-automated activities that day (server time zone)."),
            *rep_columns], daily_rows if any(r["total"] for r in daily_rows) else [])
        by_rep_week: dict[dt.date, dict[int, int]] = {}
        for row in weekly:
            week = row["week"].date() if isinstance(row["week"], dt.datetime) else row["week"]
            by_rep_week.setdefault(week, {})[row["rep_id"]] = row["n"]
        week_rows = []
        for week in sorted(by_rep_week):
            row = {"week": week.isoformat(), "total": sum(by_rep_week[week].values())}
            for pk in rep_ids:
                row[f"r{pk}"] = by_rep_week[week].get(pk, 0)
            week_rows.append(row)
        weeks = Table("weekly", "Volume per rep per week", [
            Column("week", "Week of", "text"), Column("total", "All reps", "int", "Non-automated activities in the week (weeks start Monday; the first and last may be partial)."),
            *rep_columns], week_rows)
        list_rows = [{
            "when": a.occurred_at, "rep": a.rep.owner_name if a.rep else "", "type": a.get_type_display(),
            "account": a.account.name if a.account else "", "contact": str(a.contact) if a.contact else "",
            "automated": "yes" if a.automated else "no", "subject": a.subject,
        } for a in items]
        log = Table("log", f"Activities (latest {len(list_rows)})", [
            Column("when", "When", "datetime"), Column("rep", "Rep", "text"), Column("type", "Type", "text"),
            Column("account", "Account", "text"), Column("contact", "Contact", "text"),
            Column("automated", "Automated", "text", "Sequences and robots: never counted in volume or as a response."),
            Column("subject", "Subject", "text"),
        ], list_rows, note="The latest 200 activities matching the filters, automated ones included.")
        quadrant = activity_vs_results(scope=scope, pattern_rows=pattern_rows, rep_ids=rep_ids)
        chart = bar_chart(labels=[d.isoformat() for d in days], stacked=True,
                          datasets=[(known[pk], [by_rep_day[pk].get(d, 0) for d in days]) for pk in rep_ids])
        return Result(tables=[patterns, quadrant, volume, weeks, log], chart=chart)


QUADRANTS = {
    (True, True): "Best practices",
    (True, False): "Quality issue",
    (False, False): "Effort issue",
    (False, True): "Converting on low activity",
}


def activity_vs_results(*, scope, pattern_rows: list[dict], rep_ids: list[int]) -> Table:
    """The weekly review's "compare activity to results" (seed 000): each rep's activity
    against their MQL→SQL conversion, split at the team's median activity and the team's
    overall conversion, one statement over the reporting cohort."""
    funnel, total = s.funnel_sets(scope=scope)
    by_rep = {row["rep_id"]: row for row in funnel}
    activities = sorted(row["activities"] for row in pattern_rows)
    middle = len(activities) // 2
    median = (activities[middle] if len(activities) % 2 else (activities[middle - 1] + activities[middle]) / 2) if activities else 0
    team_rate = rate(total["sql"], total["mql"])
    rows, statuses = [], {}
    for index, (pk, pattern) in enumerate(zip(rep_ids, pattern_rows, strict=True)):
        funnel_row = by_rep.get(pk, {"mql": 0, "sql": 0})
        conversion = rate(funnel_row["sql"], funnel_row["mql"])
        if conversion is None or team_rate is None:
            label = "No leads in the period"
        else:
            label = QUADRANTS[(pattern["activities"] >= median, conversion >= team_rate)]
            statuses[(index, "quadrant")] = {"Best practices": "good", "Quality issue": "warn", "Effort issue": "bad"}.get(label, "")
        rows.append({"rep": pattern["rep"], "activities": pattern["activities"], "mql": funnel_row["mql"],
                     "sql": funnel_row["sql"], "conversion": conversion, "quadrant": label})
    table = Table("quadrant", "Activity against results", [
        Column("rep", "Rep", "text"),
        Column("activities", "Activities", "int", f"Non-automated activities in the period; high at or above the team's median ({median:g})."),
        Column("mql", "MQLs", "int", "Lead cycles assigned to the rep in the period."),
        Column("sql", "SQLs", "int", "Of those, qualified."),
        Column("conversion", "MQL→SQL", "pct", "SQLs ÷ MQLs; high at or above the team's overall rate"
               + (f" ({team_rate * 100:.1f}%)." if team_rate is not None else "."), 0),
        Column("quadrant", "Quadrant", "text", "High activity + high conversion = best practices; high activity + low "
               "conversion = quality issue (coach research, personas, messaging); low activity + low conversion = effort "
               "issue (time, tools, capacity); low activity + high conversion = converting on low activity."),
    ], rows)
    table.statuses = {key: value for key, value in statuses.items() if value}
    return table
