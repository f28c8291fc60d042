"""The campaign report page (registered with apps.reporting's report pages by CampaignsConfig).

Per campaign: its leads through the Measurable Lead Model to the won deal, what it cost per
opportunity and per won deal, and its stage conversion against a similar cohort that did not
interact with it (defined on the page; see report_selectors)."""

from __future__ import annotations

from decimal import Decimal

from apps.campaigns.models import Offer
from apps.campaigns.report_selectors import campaign_rows, criterion_rows
from apps.reporting.reports import Report, register
from apps.reporting.tables import Column, Result, Table, bar_chart, rate

SIMILAR_COHORT = (
    "The similar cohort of a campaign: lead cycles assigned in the same period, within the same filters (team, rep, "
    "lead type), of the same lead type and source as one of the campaign's own leads, whose contact never interacted "
    "with that campaign (no campaign interaction of that contact with it, at any time). Its rates are set against the "
    "campaign's: the lift is the campaign's MQL→Opp minus the cohort's, in percentage points."
)
BY_CRITERION = (
    "Qualified by criterion met: the lead cycles of the period in the page's filters (with or without a campaign; "
    "exceptions left out) whose sales-ready criteria were recorded when they were qualified — on the lead page, "
    "through the API, or by the Completed – Qualified meeting that qualified them. Each active criterion is recorded "
    "as met or not; a required one not met only by a manager's override."
)
COST_NOTE = (
    "Cost per opportunity and per won deal divide the campaign's whole recorded cost, so they are shown only without "
    "a team or rep filter (a team's share of the spend is not recorded)."
)


def _finish(row: dict, *, company_wide: bool) -> dict:
    offers = dict(Offer.choices)
    row["offer"] = offers.get(row["offer"], row["offer"])
    row["pickup_rate"] = rate(row["picked_up"], row["leads"])
    row["median_h"] = None if row["median_s"] is None else float(row["median_s"]) / 3600
    row["qualified_rate"] = rate(row["sql"], row["picked_up"])
    cost = Decimal(row["cost"] or 0)
    row["cost_per_opp"] = cost / row["opportunities"] if company_wide and row["opportunities"] else None
    row["cost_per_won"] = cost / row["won"] if company_wide and row["won"] else None
    row["mql_sql"] = rate(row["sql"], row["leads"])
    row["sql_opp"] = rate(row["opp_cycles"], row["sql"])
    row["mql_opp"] = rate(row["opp_cycles"], row["leads"])
    row["mql_won"] = rate(row["won_cycles"], row["leads"])
    row["similar_mql_sql"] = rate(row["similar_sql"], row["similar_leads"])
    row["similar_sql_opp"] = rate(row["similar_opp_cycles"], row["similar_sql"])
    row["similar_mql_opp"] = rate(row["similar_opp_cycles"], row["similar_leads"])
    row["similar_mql_won"] = rate(row["similar_won_cycles"], row["similar_leads"])
    row["lift_pts"] = (None if row["mql_opp"] is None or row["similar_mql_opp"] is None
                       else (row["mql_opp"] - row["similar_mql_opp"]) * 100)
    return row


@register
class CampaignReport(Report):
    slug = "campaigns"
    title = "Campaigns"
    description = ("Per campaign: leads, pick-up, response, cadences worked to the end or abandoned, qualified, "
                   "meetings, opportunities, pipeline, won, cost per opportunity and won deal, and stage conversion "
                   "against a similar cohort that did not interact with it; and the period's qualified leads by "
                   "sales-ready criterion met.")
    filters = ("date", "team", "rep", "lead_type")

    def compute(self, *, scope, params) -> Result:
        company_wide = scope.rep_ids is None
        rows = [_finish(r, company_wide=company_wide) for r in campaign_rows(scope=scope)]
        funnel = Table("by-campaign", "By campaign", [
            Column("name", "Campaign", "text"),
            Column("offer", "Offer", "text"),
            Column("leads", "Leads", "int", "Lead cycles assigned in the period that arrived with the campaign (each cycle has at most one campaign: the one it arrived with)."),
            Column("picked_up", "Picked up", "int", "Of those, worked (a real touch) or dispositioned."),
            Column("pickup_rate", "Pick-up rate", "pct", "Picked up ÷ leads."),
            Column("median_h", "Median response (h)", "hours", "Median of first real touch − assigned at, in hours on the clock of the cycle's SLA policy (as on the lead-response page)."),
            Column("cadence_completed", "Cadence completed", "int", "Leads whose cadence ran to its end (positive or negative response, or every step done without one)."),
            Column("abandoned_early", "Abandoned early", "int", "Leads dispositioned out of their cadence after at most 3 steps done (the cadence page's early abandon)."),
            Column("sql", "Qualified", "int", "SQLs: leads with a Completed – Qualified meeting."),
            Column("qualified_rate", "Qualified rate", "pct", "Qualified ÷ picked up."),
            Column("meetings_held", "Meetings held", "int", "Meetings of those leads dispositioned Completed (qualified or unqualified)."),
            Column("opportunities", "Opportunities", "int", "Distinct opportunities from those leads' qualified meetings that reached the pipeline stage (SAO)."),
            Column("pipeline", "Pipeline", "money", "Sum of those opportunities' amounts (IACV; none counts 0)."),
            Column("won", "Won", "int", "Of those opportunities, closed won."),
            Column("won_amount", "Won amount", "money", "Sum of the won opportunities' amounts."),
            Column("cost", "Cost", "money", "The campaign's recorded total spend (admin → Campaigns)."),
            Column("cost_per_opp", "Cost per opportunity", "money", "Cost ÷ opportunities. " + COST_NOTE),
            Column("cost_per_won", "Cost per won deal", "money", "Cost ÷ won deals. " + COST_NOTE),
        ], rows)
        compare = Table("vs-similar", "Stage conversion vs a similar cohort", [
            Column("name", "Campaign", "text"),
            Column("similar_by", "Matched on (lead type / source)", "text", SIMILAR_COHORT),
            Column("leads", "Leads", "int"),
            Column("similar_leads", "Cohort leads", "int", "Lead cycles in the similar cohort."),
            Column("mql_sql", "MQL→SQL", "pct", "Qualified ÷ leads."),
            Column("similar_mql_sql", "Cohort MQL→SQL", "pct", "The same for the similar cohort."),
            Column("sql_opp", "SQL→Opp", "pct", "Leads whose qualified meeting's opportunity reached the pipeline stage ÷ qualified."),
            Column("similar_sql_opp", "Cohort SQL→Opp", "pct", "The same for the similar cohort."),
            Column("mql_opp", "MQL→Opp", "pct", "Leads with an opportunity in the pipeline ÷ leads."),
            Column("similar_mql_opp", "Cohort MQL→Opp", "pct", "The same for the similar cohort."),
            Column("mql_won", "MQL→Won", "pct", "Leads with a closed-won opportunity ÷ leads."),
            Column("similar_mql_won", "Cohort MQL→Won", "pct", "The same for the similar cohort."),
            Column("lift_pts", "Lift (pts)", "num", "Campaign MQL→Opp − cohort MQL→Opp, in percentage points."),
        ], rows)
        # In percent, as the other pages' rate charts (the axis is labelled "%"; rates are fractions).
        chart = bar_chart(labels=[r["name"] for r in rows], percent=True, datasets=[
            (label, [None if r[key] is None else r[key] * 100 for r in rows])
            for key, label in (("mql_opp", "Campaign MQL→Opp"), ("similar_mql_opp", "Similar cohort MQL→Opp"))])
        criteria = [_criterion(r) for r in criterion_rows(scope=scope)]
        by_criterion = Table("by-criterion", "Qualified by criterion met", [
            Column("label", "Criterion", "text", "The sales-ready criteria ops keep (Campaigns and nurture → Qualification criteria)."),
            Column("required", "Required", "text", "Must be met to qualify, unless a manager overrides."),
            Column("checked", "Qualified, criteria recorded", "int", BY_CRITERION),
            Column("met", "Met", "int", "Of those, the ones that met this criterion."),
            Column("met_rate", "Met rate", "pct", "Met ÷ qualified with criteria recorded: the qualified rate by criterion met."),
            Column("overridden", "By override", "int", "Qualified although this required criterion was not met (a manager's override)."),
            Column("met_opp_rate", "→ Opp when met", "pct", "Of the leads that met it, those whose qualified meeting's opportunity reached the pipeline stage (SAO), as MQL→Opp counts."),
            Column("unmet_opp_rate", "→ Opp when not met", "pct", "The same for the leads that did not meet it."),
        ], criteria)
        leads = sum(r["leads"] for r in rows)
        summary = [("Campaigns with leads", str(len(rows))), ("Leads with a campaign", str(leads)),
                   ("Qualified leads with criteria recorded", str(criteria[0]["cycles_checked"] if criteria else 0))]
        notes = [SIMILAR_COHORT, BY_CRITERION] + ([] if company_wide else [COST_NOTE])
        return Result(tables=[funnel, compare, by_criterion], chart=chart, summary=summary, notes=notes)


def _criterion(row: dict) -> dict:
    row["required"] = "required" if row["required"] else "—"
    row["met_rate"] = rate(row["met"], row["checked"])
    row["met_opp_rate"] = rate(row["met_opp"], row["met"])
    row["unmet_opp_rate"] = rate(row["unmet_opp"], row["checked"] - row["met"])
    return row
