"""The lead response page: pick-up and response times against the SLA."""

from __future__ import annotations

from apps.leads.models import LeadType
from apps.people.models import Contact
from apps.reporting import selectors as s
from apps.reporting.reports.base import Report, pct_text, register
from apps.reporting.tables import Column, Result, Table, bar_chart, rate

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


OFF_HOURS_ZERO = {"leads": 0, "off_hours": 0, "in_median_s": None, "in_p90_s": None, "off_median_s": None,
                  "off_p90_s": None, "in_calendar_s": None, "off_calendar_s": None}


def off_hours_columns(first: Column) -> list[Column]:
    return [
        first,
        Column("leads", "Leads with business hours", "int", "Lead cycles assigned in the period whose SLA policy has "
               "business hours (cycles without a policy, such as outbound pulls, are not counted here)."),
        Column("off_hours", "Arrived off-hours", "int", "Arrival (creation or assignment, whichever was earlier), in the "
               "assigned rep's time zone, outside the policy's business hours: not a working day, a public holiday of "
               "the policy's country, before its start or at/after its end."),
        Column("off_share", "Off-hours share", "pct", "Arrived off-hours ÷ leads with business hours."),
        Column("in_median_h", "Median response in-hours (h)", "hours", "Median response time (policy clock, as above) "
               "of the leads that arrived in business hours."),
        Column("off_median_h", "Median response off-hours (h)", "hours", "The same for the leads that arrived off-hours."),
        Column("in_p90_h", "P90 in-hours (h)", "hours", "90th percentile of the in-hours response times."),
        Column("off_p90_h", "P90 off-hours (h)", "hours", "90th percentile of the off-hours response times."),
        Column("in_calendar_h", "Median wait in-hours (calendar h)", "hours", "Median first real touch − arrival in "
               "calendar hours: how long the prospect waited."),
        Column("off_calendar_h", "Median wait off-hours (calendar h)", "hours", "The same for off-hours arrivals."),
    ]


def finish_off_hours(row: dict) -> dict:
    row["off_share"] = rate(row["off_hours"], row["leads"])
    for key in ("in_median", "off_median", "in_p90", "off_p90", "in_calendar", "off_calendar"):
        value = row[f"{key}_s"]
        row[f"{key}_h"] = None if value is None else float(value) / 3600
    return row


@register
class LeadResponse(Report):
    slug = "lead-response"
    title = "Lead response"
    description = "Assigned, pick-up rate, response time (median, p90), qualified rate, SLA breaches, dispositions without a touch — by rep, source and lead type."

    def compute(self, *, scope, params) -> Result:

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
        off = s.off_hours_sets(scope=scope)
        off_total = finish_off_hours({**OFF_HOURS_ZERO, **(off["total"][0] if off["total"] else {})})
        off_by_source = [finish_off_hours({**r, "source": sources.get(r["source"], r["source"] or "(none)")})
                         for r in sorted(off["source"], key=lambda r: r["source"])]
        off_by_week = [finish_off_hours({**r, "week": r["week"].isoformat()}) for r in sorted(off["week"], key=lambda r: r["week"])]
        has_off = off_total["leads"] > 0
        tables += [
            Table("off-hours-by-source", "Off-hours leads by source", off_hours_columns(Column("source", "Source", "text")),
                  off_by_source, total={**off_total, "source": "All"} if has_off else None),
            Table("off-hours-by-week", "Off-hours leads by week", off_hours_columns(
                Column("week", "Week of", "text", "Week of arrival, starting Monday (the first and last may be partial).")),
                off_by_week, total={**off_total, "week": "All"} if has_off else None),
        ]
        chart = bar_chart(labels=[r["rep"] for r in by_rep], datasets=[
            ("Median response (h)", [r["median_h"] for r in by_rep]), ("P90 response (h)", [r["p90_h"] for r in by_rep])])
        summary = [("Assigned", str(total["assigned"])), ("Pick-up rate", pct_text(total["pick_up_rate"])),
                   ("Median response", "no data" if total["median_h"] is None else f"{total['median_h']:.1f} h"),
                   ("Qualified rate", pct_text(total["qualified_rate"])),
                   ("Arrived off-hours", pct_text(off_total["off_share"]))]
        return Result(tables=tables, chart=chart, summary=summary)
