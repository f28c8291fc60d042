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
        chart = bar_chart(labels=[r["rep"] for r in by_rep], datasets=[
            ("Median response (h)", [r["median_h"] for r in by_rep]), ("P90 response (h)", [r["p90_h"] for r in by_rep])])
        summary = [("Assigned", str(total["assigned"])), ("Pick-up rate", pct_text(total["pick_up_rate"])),
                   ("Median response", "no data" if total["median_h"] is None else f"{total['median_h']:.1f} h"),
                   ("Qualified rate", pct_text(total["qualified_rate"]))]
        return Result(tables=tables, chart=chart, summary=summary)
