"""The report pages: what each shows, how each number is defined, and its chart.

Each page's `compute(scope=..., params=...)` calls the selectors (a fixed number of
queries) and lays the numbers out as `Table`s; the view renders them and exports them.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_CEILING, Decimal

from django import forms

from apps.accounts.models import ActivityType
from apps.reporting import selectors as s
from apps.reporting.tables import Column, Result, Table, bar_chart, rate

REPORTS: dict[str, Report] = {}
# How the Reports block lists them: the weekly review's order (seed 000), planning last.
ORDER = ("team-dashboard", "lead-response", "activity", "territory", "icp-coverage", "meetings", "conversion",
         "cadences", "returns", "scorecard", "capacity")


def reports_in_order() -> list[Report]:
    rank = {slug: i for i, slug in enumerate(ORDER)}
    return sorted(REPORTS.values(), key=lambda r: rank.get(r.slug, len(ORDER)))


def register(cls):
    REPORTS[cls.slug] = cls()
    return cls


class Report:
    slug = ""
    title = ""
    description = ""
    filters: tuple[str, ...] = ("date", "team", "rep", "segment", "lead_type")
    # Rep-based pages read the segment filter as the rep's segment; account pages as the account's.
    segment_filters_reps = True
    params_form: type[forms.Form] | None = None

    @property
    def uses_dates(self) -> bool:
        return "date" in self.filters

    def compute(self, *, scope, params) -> Result:  # pragma: no cover - interface
        raise NotImplementedError


# -- capacity planner ----------------------------------------------------------------------

class CapacityForm(forms.Form):
    quota = forms.DecimalField(label="Annual quota", min_value=Decimal("0.01"), max_digits=14, decimal_places=2, required=False,
                               help_text="Annual bookings quota the meetings must support.")
    acv = forms.DecimalField(label="ACV", min_value=Decimal("0.01"), max_digits=14, decimal_places=2, required=False,
                             help_text="Average contract value of a won deal.")
    win_rate = forms.DecimalField(label="Win rate (%)", min_value=Decimal("0.01"), max_value=Decimal("100"), max_digits=5,
                                  decimal_places=2, required=False, help_text="Share of meetings that become a closed-won deal.")

    DEFAULTS = {"quota": Decimal("360000"), "acv": Decimal("20000"), "win_rate": Decimal("10")}

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
        from django.utils import timezone

        from apps.people.models import Rep

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
                target = int((monthly * Decimal(str(factor))).to_integral_value(rounding=ROUND_CEILING))
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
        return Result(tables=[formula, table], chart=chart, summary=summary)


# -- territory -----------------------------------------------------------------------------

@register
class Territory(Report):
    slug = "territory"
    title = "Territory balance"
    description = "Accounts per owner against the mean (±20%), tier and status mix per owner, unassigned high-tier accounts."
    filters = ("team", "rep", "segment")
    segment_filters_reps = False

    def compute(self, *, scope, params) -> Result:
        zero = {"accounts": 0, **{f"tier_{t.lower()}": 0 for t in s.TIERS}, "tier_none": 0,
                **{f"status_{st}": 0 for st in s.STATUSES}}
        rows = s.merge_by_rep(reps=s.roster(scope=scope), rows=s.territory_by_owner(scope=scope),
                              key="owner_id", name="owner__owner_name", zero=zero)
        mean = (sum(r["accounts"] for r in rows) / len(rows)) if rows else None
        statuses = {}
        for index, row in enumerate(rows):
            row["deviation"] = rate(row["accounts"], mean) - 1 if mean else None
            balanced = row["deviation"] is not None and abs(row["deviation"]) <= 0.2 + 1e-9
            row["balance"] = "no data" if row["deviation"] is None else ("balanced" if balanced else "outside ±20%")
            if row["deviation"] is not None:
                statuses[(index, "deviation")] = "good" if balanced else "bad"
                statuses[(index, "balance")] = statuses[(index, "deviation")]
            for key in [f"tier_{t.lower()}" for t in s.TIERS] + ["tier_none"]:
                row[f"{key}_share"] = rate(row[key], row["accounts"])
        columns = [
            Column("rep", "Owner", "text"),
            Column("accounts", "Accounts", "int", "Accounts the rep owns now (in the segment, if one is chosen)."),
            Column("deviation", "vs mean", "pct", "Accounts ÷ mean accounts per owner shown − 1; the mean is over the owners in this table.", 0),
            Column("balance", "Balance", "text", "Balanced when within ±20% of the mean (the seed's even distribution)."),
            *[Column(f"tier_{t.lower()}", f"Tier {t}", "int", f"Owned accounts in tier {t} (ICP score band).") for t in s.TIERS],
            Column("tier_none", "Unscored", "int", "Owned accounts with no tier yet."),
            *[Column(f"tier_{t.lower()}_share", f"Tier {t} %", "pct", f"Tier {t} ÷ accounts.", 0) for t in s.TIERS],
            *[Column(f"status_{st}", st.capitalize(), "int", f"Owned accounts with status {st}.") for st in s.STATUSES],
        ]
        total = None
        if rows:
            total = {"rep": "All owners", "accounts": sum(r["accounts"] for r in rows), "balance": f"mean {mean:.1f}"}
            for key in zero:
                total[key] = sum(r[key] for r in rows)
            for t in s.TIERS:
                total[f"tier_{t.lower()}_share"] = rate(total[f"tier_{t.lower()}"], total["accounts"])
        owners = Table("owners", "Accounts per owner", columns, rows, total=total, statuses=statuses,
                       note="A snapshot of books as they are now; the date range does not apply.")
        pool_rows = [{"segment": r["segment"], "tier_a": r["tier_a"], "tier_b": r["tier_b"], "pool": r["pool"]}
                     for r in s.territory_unassigned(scope=scope)]
        from apps.people.models import Segment

        labels = dict(Segment.choices)
        for row in pool_rows:
            row["segment"] = labels.get(row["segment"], row["segment"])
        pool = Table("unassigned", "Unassigned accounts (pool) by segment", [
            Column("segment", "Segment", "text"),
            Column("tier_a", "Unassigned tier A", "int", "Prospect or active accounts in the pool (no owner) in tier A: high-tier accounts needing assignment."),
            Column("tier_b", "Unassigned tier B", "int", "The same for tier B."),
            Column("pool", "All unassigned", "int", "Prospect or active accounts in the pool."),
        ], pool_rows, total={"segment": "All", **{k: sum(r[k] for r in pool_rows) for k in ("tier_a", "tier_b", "pool")}} if pool_rows else None)
        chart = bar_chart(labels=[r["rep"] for r in rows], stacked=True, datasets=[
            *[(f"Tier {t}", [r[f"tier_{t.lower()}"] for r in rows]) for t in s.TIERS],
            ("Unscored", [r["tier_none"] for r in rows]),
        ])
        summary = [("Mean accounts per owner", "no data" if mean is None else f"{mean:.1f}"),
                   ("Owners outside ±20%", str(sum(1 for r in rows if r["balance"] == "outside ±20%"))),
                   ("Unassigned tier A", str(pool.total["tier_a"] if pool.total else 0))]
        return Result(tables=[owners, pool], chart=chart, summary=summary)


# -- activity log ----------------------------------------------------------------------------

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
            from apps.people.models import Rep

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
            Column("researched", "Researched first", "int", "Of those, accounts with an intelligence_run by the rep before that first outreach."),
            Column("research_share", "Research first %", "pct", "Researched first ÷ accounts first reached.", 0),
            Column("last_deal", "Last opportunity", "text", "Day of the rep's last opportunity up to the period's end: one they sourced, or a deal_created activity from another tool."),
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
        chart = bar_chart(labels=[d.isoformat() for d in days], stacked=True,
                          datasets=[(known[pk], [by_rep_day[pk].get(d, 0) for d in days]) for pk in rep_ids])
        return Result(tables=[patterns, volume, weeks, log], chart=chart)


# -- ICP coverage ----------------------------------------------------------------------------

@register
class IcpCoverage(Report):
    slug = "icp-coverage"
    title = "ICP coverage"
    description = "ICP match rate, score of worked accounts, tier-A accounts contacted, score distribution and conversion by tier."
    filters = ("date", "team", "rep", "segment")
    segment_filters_reps = False

    def compute(self, *, scope, params) -> Result:
        zero = {"accounts": 0, "matched": 0, "worked_accounts": 0, "avg_score_worked": None, "tier_a": 0, "tier_a_contacted": 0}
        coverage = s.icp_coverage_by_owner(scope=scope)
        roster = s.roster(scope=scope)
        names = s.rep_names({r["owner_id"] for r in coverage} - {r["pk"] for r in roster})
        for row in coverage:
            row["owner__owner_name"] = names.get(row["owner_id"]) or ("(pool)" if row["owner_id"] is None else None)
        rows = s.merge_by_rep(reps=roster, rows=coverage, key="owner_id", name="owner__owner_name", zero=zero)
        total = {k: sum(r[k] for r in rows) for k in ("accounts", "matched", "worked_accounts", "tier_a", "tier_a_contacted")}
        worked_score = sum((r["avg_score_worked"] or 0) * r["worked_accounts"] for r in rows)
        total.update(rep="All", avg_score_worked=rate(worked_score, total["worked_accounts"]))
        statuses = {}
        for index, row in [*enumerate(rows), ("total", total)]:
            row["matched_share"] = rate(row["matched"], row["accounts"])
            row["tier_a_contacted_share"] = rate(row["tier_a_contacted"], row["tier_a"])
            for key, ok in (("matched_share", lambda v: v > 0.8), ("avg_score_worked", lambda v: v > 60),
                            ("tier_a_contacted_share", lambda v: v >= 1)):
                if row[key] is not None:
                    statuses[(index, key)] = "good" if ok(row[key]) else "bad"
        owners = Table("owners", "Coverage per owner", [
            Column("rep", "Owner", "text"),
            Column("accounts", "Accounts", "int", "Accounts owned now (in the segment, if chosen); for ops unfiltered, the pool too."),
            Column("matched", "ICP matched", "int", "Accounts with a matched ICP."),
            Column("matched_share", "ICP match %", "pct", "ICP matched ÷ accounts; target > 80%.", 0),
            Column("worked_accounts", "Worked", "int", "Accounts with a non-automated activity in the period."),
            Column("avg_score_worked", "Avg score worked", "num", "Mean total score (0-100) of worked accounts; target > 60."),
            Column("tier_a", "Tier A", "int", "Accounts in tier A."),
            Column("tier_a_contacted", "Tier A contacted", "int", "Tier A accounts with a non-automated call, email, social touch or meeting in the period."),
            Column("tier_a_contacted_share", "Tier A contacted %", "pct", "Tier A contacted ÷ tier A; target 100%.", 0),
        ], rows, total=total if rows else None, statuses=statuses)
        hist = {r["band"]: r["n"] for r in s.icp_score_histogram(scope=scope)}
        hist_rows = [{"band": f"{b * 10}-{b * 10 + 9 if b < 9 else 100}", "accounts": hist.get(b, 0)} for b in range(10)]
        histogram = Table("histogram", "Total score distribution", [
            Column("band", "Total score", "text"), Column("accounts", "Accounts", "int", "Accounts whose total score falls in the band."),
        ], hist_rows if any(r["accounts"] for r in hist_rows) else [])
        tables = [owners, histogram]
        tables.extend(self._conversion_by_tier(scope=scope))
        chart = bar_chart(labels=[r["band"] for r in hist_rows], datasets=[("Accounts", [r["accounts"] for r in hist_rows])])
        summary = [
            ("ICP match", _pct_text(total.get("matched_share"))),
            ("Avg score worked", "no data" if total["avg_score_worked"] is None else f"{total['avg_score_worked']:.1f}"),
            ("Tier A contacted", _pct_text(total.get("tier_a_contacted_share"))),
        ]
        return Result(tables=tables, chart=chart, summary=summary)

    def _conversion_by_tier(self, *, scope) -> list[Table]:
        found = {r["contact__account__tier"] or "": r for r in s.funnel_by_tier(scope=scope)}
        rows = []
        for tier in (*s.TIERS, ""):
            row = found.get(tier)
            if row is None and tier == "":
                continue
            row = {"mql": 0, "sql": 0, "opp": 0, **(row or {}), "tier": f"Tier {tier}" if tier else "Unscored"}
            for key, numerator, denominator in RATES:
                row[key] = rate(row[numerator], row[denominator])
            rows.append(row)
        # Other tier letters (if the bands are ever renamed) are folded into "Unscored" above.
        note = ""
        scored = [r for r in rows if r["tier"] != "Unscored" and r["mql_opp"] is not None]
        if len(scored) >= 2 and scored[0]["tier"] == "Tier A" and any(r["mql_opp"] > scored[0]["mql_opp"] for r in scored[1:]):
            note = "ICP refinement trigger: lower tiers convert to opportunities better than tier A — review the ICP's scoring."
        return [Table("by-tier", "Conversion by tier (do high scores convert better?)", [
            Column("tier", "Tier", "text"),
            Column("mql", "MQLs", "int", "Lead cycles assigned in the period whose account is in the tier (now)."),
            Column("sql", "SQLs", "int", "Of those, with a Completed – Qualified meeting."),
            Column("opp", "Opps", "int", "Of those SQLs, with an opportunity that reached the pipeline stage."),
            Column("mql_sql", "MQL→SQL", "pct", "SQLs ÷ MQLs."),
            Column("sql_opp", "SQL→Opp", "pct", "Opps ÷ SQLs."),
            Column("mql_opp", "MQL→Opp", "pct", "Opps ÷ MQLs."),
        ], rows if any(r["mql"] for r in rows) else [], note=note)]


def _pct_text(value) -> str:
    return "no data" if value is None else f"{value * 100:.1f}%"



# -- lead response ----------------------------------------------------------------------------

LEAD_RESPONSE_ZERO = {"assigned": 0, "picked_up": 0, "responded": 0, "median_s": None, "p90_s": None, "qualified": 0,
                      "breaches": 0, "no_touch": 0}


def lead_response_columns(first: Column) -> list[Column]:
    return [
        first,
        Column("assigned", "Assigned", "int", "Lead cycles assigned in the period (a recycled lead counts once per cycle)."),
        Column("picked_up", "Picked up", "int", "Of those, cycles that reached working or were dispositioned (bypasses included)."),
        Column("pick_up_rate", "Pick-up rate", "pct", "Picked up ÷ assigned."),
        Column("responded", "With a response", "int", "Picked-up cycles with a real (non-automated) first touch; bypassed cycles excluded."),
        Column("median_h", "Median response (h)", "hours", "Median of first real touch − assigned at, in hours on the clock of the cycle's SLA policy (calendar or business hours; calendar when it has none), percentile_cont 0.5."),
        Column("p90_h", "P90 response (h)", "hours", "90th percentile of the same (percentile_cont 0.9)."),
        Column("qualified", "Qualified", "int", "Cycles of the cohort qualified so far (even if after the period)."),
        Column("qualified_rate", "Qualified rate", "pct", "Qualified ÷ picked up."),
        Column("breaches", "SLA breaches", "int", "Cycles that passed their SLA policy's maximum: touched after it, untouched past it (until dispositioned or now), or re-assigned for it. Once per cycle."),
        Column("no_touch", "Dispositioned without touch", "int", "Cycles dispositioned with no real touch (bypassed working)."),
    ]


def finish_lead_response(row: dict) -> dict:
    row["pick_up_rate"] = rate(row["picked_up"], row["assigned"])
    row["qualified_rate"] = rate(row["qualified"], row["picked_up"])
    row["median_h"] = None if row["median_s"] is None else row["median_s"] / 3600
    row["p90_h"] = None if row["p90_s"] is None else row["p90_s"] / 3600
    return row


@register
class LeadResponse(Report):
    slug = "lead-response"
    title = "Lead response"
    description = "Assigned, pick-up rate, response time (median, p90), qualified rate, SLA breaches, dispositions without a touch — by rep, source and lead type."

    def compute(self, *, scope, params) -> Result:
        from apps.leads.models import LeadType
        from apps.people.models import Contact

        sets = s.lead_response_sets(scope=scope)
        roster = s.roster(scope=scope)
        names = s.rep_names({r["rep_id"] for r in sets["rep"]} - {r["pk"] for r in roster})
        for row in sets["rep"]:
            row["rep__owner_name"] = names.get(row["rep_id"])
        by_rep = [finish_lead_response(r) for r in s.merge_by_rep(reps=roster, rows=sets["rep"], zero=LEAD_RESPONSE_ZERO)]
        sources = dict(Contact.Source.choices)
        by_source = [finish_lead_response({**r, "source": sources.get(r["source"], r["source"] or "(none)")})
                     for r in sorted(sets["source"], key=lambda r: r["source"])]
        types = dict(LeadType.choices)
        by_type = [finish_lead_response({**r, "lead_type": types.get(r["lead_type"], r["lead_type"])})
                   for r in sorted(sets["lead_type"], key=lambda r: r["lead_type"])]
        total = finish_lead_response({**LEAD_RESPONSE_ZERO, **(sets["total"][0] if sets["total"] else {})})
        has_data = total["assigned"] > 0
        tables = [
            Table("by-rep", "By rep", lead_response_columns(Column("rep", "Rep", "text")), by_rep,
                  total={**total, "rep": "All"} if by_rep else None),
            Table("by-source", "By source", lead_response_columns(Column("source", "Source", "text")), by_source,
                  total={**total, "source": "All"} if has_data else None),
            Table("by-lead-type", "By lead type", lead_response_columns(Column("lead_type", "Lead type", "text")), by_type,
                  total={**total, "lead_type": "All"} if has_data else None),
        ]
        chart = bar_chart(labels=[r["rep"] for r in by_rep], datasets=[
            ("Median response (h)", [r["median_h"] for r in by_rep]), ("P90 response (h)", [r["p90_h"] for r in by_rep])])
        summary = [("Assigned", str(total["assigned"])), ("Pick-up rate", _pct_text(total["pick_up_rate"])),
                   ("Median response", "no data" if total["median_h"] is None else f"{total['median_h']:.1f} h"),
                   ("Qualified rate", _pct_text(total["qualified_rate"]))]
        return Result(tables=tables, chart=chart, summary=summary)


# -- team dashboard ---------------------------------------------------------------------------

RATES = (("mql_sql", "sql", "mql"), ("sql_opp", "opp", "sql"), ("mql_opp", "opp", "mql"))


def rate_status(value, target: float, warning: float) -> str:
    """Above the target: good; below the warning threshold: bad; between: warn."""
    if value is None:
        return ""
    if value > target:
        return "good"
    if value < warning:
        return "bad"
    return "warn"


def diagnose(row: dict, thresholds: dict, *, average_mql: float | None) -> list[str]:
    """The seed's diagnosis table, applied to one row's numbers."""
    hints = []
    if row["mql_sql"] is not None and row["mql_sql"] < thresholds["mql_sql"][1]:
        hints.append("Low MQL→SQL: poor ICP targeting — review ICP criteria")
    if row["sql_opp"] is not None and row["sql_opp"] < thresholds["sql_opp"][1]:
        hints.append("Low SQL→Opp: weak discovery/qualification — train on BANT")
    if average_mql and row["mql_opp"] is not None:
        if row["mql"] > average_mql and row["mql_opp"] < thresholds["mql_opp"][1]:
            hints.append("High volume, low conversion: quantity over quality — focus on personalization")
        if row["mql"] < average_mql and row["mql_opp"] > thresholds["mql_opp"][0]:
            hints.append("High conversion, low volume: capacity issue — expand territory/team")
    return hints


FUNNEL_ZERO = {"mql": 0, "sql": 0, "opp": 0, "campaigns": 0}


def funnel_rows(*, scope, stats: dict | None = None) -> tuple[list[dict], dict]:
    """Per-rep and team funnel rows with rates, accounts and activity volume (5 queries; 4 when
    the cohort's `stats` are given)."""
    by_rep, total = s.funnel_sets(scope=scope, stats=stats)
    roster = s.roster(scope=scope)
    names = s.rep_names({r["rep_id"] for r in by_rep} - {r["pk"] for r in roster})
    for row in by_rep:
        row["rep__owner_name"] = names.get(row["rep_id"])
    rows = s.merge_by_rep(reps=roster, rows=by_rep, zero=FUNNEL_ZERO)
    total = {**FUNNEL_ZERO, **total, "rep": "Team"}
    accounts = s.accounts_by_owner(scope=scope)
    activities = s.activities_by_rep(scope=scope)
    weeks = scope.days / 7
    for row in rows:
        row["accounts"] = accounts.get(row["rep_id"], 0)
        row["activities"] = activities.get(row["rep_id"], 0)
    total["accounts"] = sum(accounts.values()) if scope.rep_ids is None else sum(r["accounts"] for r in rows)
    total["activities"] = sum(activities.values()) if scope.rep_ids is None else sum(r["activities"] for r in rows)
    for row in [*rows, total]:
        for key, numerator, denominator in RATES:
            row[key] = rate(row[numerator], row[denominator])
        row["per_day"] = row["activities"] / scope.days
        row["per_week"] = row["activities"] / weeks
    return rows, total


@register
class TeamDashboard(Report):
    slug = "team-dashboard"
    title = "Team dashboard"
    description = "MQL → SQL → Opportunity per SDR and team against targets, with the diagnosis; accounts, active campaigns, activity volume."

    def compute(self, *, scope, params) -> Result:
        from apps.reporting.models import FunnelTargets

        thresholds = FunnelTargets.load().thresholds()
        rows, total = funnel_rows(scope=scope)
        sdr_rows = [r for r in rows if r["rep_id"] is not None]
        average_mql = (sum(r["mql"] for r in sdr_rows) / len(sdr_rows)) if sdr_rows else None
        statuses = {}
        for index, row in [*enumerate(rows), ("total", total)]:
            for key, _, _ in RATES:
                status = rate_status(row[key], *thresholds[key])
                if status:
                    statuses[(index, key)] = status
            hints = diagnose(row, thresholds, average_mql=average_mql if index != "total" else None)
            row["diagnosis"] = "; ".join(hints) if hints else ("no data" if not row["mql"] else "—")
        t = {key: (f"{target * 100:g}%", f"{warning * 100:g}%") for key, (target, warning) in thresholds.items()}
        columns = [
            Column("rep", "SDR", "text"),
            Column("mql", "MQLs", "int", "Lead cycles assigned in the period (cohort by assigned date; a recycled lead once per cycle)."),
            Column("sql", "SQLs", "int", "MQLs with a Completed – Qualified meeting booked in the cycle (whenever it was held)."),
            Column("opp", "Opps", "int", "SQLs whose opportunity reached the pipeline stage (SAO)."),
            Column("mql_sql", "MQL→SQL", "pct", f"SQLs ÷ MQLs; target > {t['mql_sql'][0]}, warning < {t['mql_sql'][1]}."),
            Column("sql_opp", "SQL→Opp", "pct", f"Opps ÷ SQLs; target > {t['sql_opp'][0]}, warning < {t['sql_opp'][1]}."),
            Column("mql_opp", "MQL→Opp", "pct", f"Opps ÷ MQLs; target > {t['mql_opp'][0]}, warning < {t['mql_opp'][1]}."),
            Column("diagnosis", "Diagnosis", "text", "From the seed's table: low MQL→SQL → review ICP criteria; low SQL→Opp → train on BANT; MQLs above the team's average per SDR with MQL→Opp below warning → focus on personalization; below average with MQL→Opp above target → expand territory/team."),
            Column("accounts", "Accounts", "int", "Accounts the rep owns now."),
            Column("campaigns", "Active campaigns", "int", "Distinct campaigns of the period's lead cycles that were picked up (the team figure counts each campaign once)."),
            Column("activities", "Activities", "int", "Non-automated activities in the period."),
            Column("per_day", "Per day", "num", "Activities ÷ days in the period."),
            Column("per_week", "Per week", "num", "Activities ÷ (days in the period ÷ 7)."),
        ]
        table = Table("funnel", "Funnel per SDR", columns, rows, total=total, statuses=statuses)
        chart = bar_chart(labels=[r["rep"] for r in rows] + ["Team"], percent=True, datasets=[
            (label, [None if r[key] is None else r[key] * 100 for r in [*rows, total]])
            for key, label in (("mql_sql", "MQL→SQL %"), ("sql_opp", "SQL→Opp %"), ("mql_opp", "MQL→Opp %"))])
        summary = [("MQLs", str(total["mql"])), ("SQLs", str(total["sql"])), ("Opps", str(total["opp"])),
                   ("MQL→SQL", _pct_text(total["mql_sql"])), ("SQL→Opp", _pct_text(total["sql_opp"])),
                   ("MQL→Opp", _pct_text(total["mql_opp"])), ("Activities per day", f"{total['per_day']:.1f}")]
        return Result(tables=[table], chart=chart, summary=summary,
                      notes=["Targets and warning thresholds are edited by ops under Reporting › Funnel targets."])


# Pages over the other apps' models, registered in the order managers read them.
from apps.reporting import reports_cadences, reports_returns, reports_sales, reports_scorecard  # noqa: E402,F401
