"""Pages over meetings and opportunities (apps.meetings): meetings, conversion by cohort and
pipeline generated."""

from __future__ import annotations

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth

from apps.meetings.models import Meeting, Opportunity, OpportunityStage
from apps.reporting import sales_reads
from apps.reporting import selectors as s
from apps.reporting.reports.base import Report, pct_text, register
from apps.reporting.tables import Column, Result, Table, bar_chart, rate


def meeting_aggregates() -> dict:

    st = Meeting.Status
    return {
        "booked": Count("id"),
        "cancelled": Count("id", filter=Q(status__in=[st.CANCELLED, st.RESCHEDULED])),
        "held": Count("id", filter=Q(status__in=[st.COMPLETED_QUALIFIED, st.COMPLETED_UNQUALIFIED])),
        "no_show": Count("id", filter=Q(status=st.NO_SHOW)),
        "qualified": Count("id", filter=Q(status=st.COMPLETED_QUALIFIED)),
        "late": Count("id", filter=Q(disposition_late=True)),
        "awaiting": Count("id", filter=Q(status=st.SCHEDULED)),
    }


def meetings_in_period(*, scope, who: str):

    # A meeting booked in a lead cycle marked an exception (issue 22) is in no rate; pipeline
    # money (opportunities) still counts: the deal is real however the lead was handled.
    return Meeting.objects.filter(scheduled_at__gte=scope.start, scheduled_at__lt=scope.end,
                                  **scope.rep_filter(f"{who}_id")).exclude(lead_cycle__exception_at__isnull=False)


def meeting_statuses() -> dict[str, list[str]]:
    """meeting_aggregates' counts as the statuses each counts (for the rollup)."""
    st = Meeting.Status
    return {"booked": [], "cancelled": [st.CANCELLED, st.RESCHEDULED], "held": [st.COMPLETED_QUALIFIED, st.COMPLETED_UNQUALIFIED],
            "no_show": [st.NO_SHOW], "qualified": [st.COMPLETED_QUALIFIED], "late": [], "awaiting": [st.SCHEDULED]}


def meetings_by(*, scope, who: str) -> list[dict]:
    """Per SDR or AE: from the meetings rollup (apps.reporting.sales_reads)."""
    if not s.history_mode():
        return sales_reads.meeting_counts(scope, who=who, statuses=meeting_statuses())
    return list(meetings_in_period(scope=scope, who=who).values(f"{who}_id", f"{who}__owner_name")
                .annotate(**meeting_aggregates()).order_by(f"{who}__owner_name"))


def meetings_total(*, scope, who: str, rows: list[dict]) -> dict:
    """The total of `rows` (meetings_by's): their sum, or from history the same set aggregated."""
    if not s.history_mode():
        return {key: sum(r[key] for r in rows) for key in meeting_aggregates()}
    return meetings_in_period(scope=scope, who=who).aggregate(**meeting_aggregates())


MEETING_COLUMNS = [
    Column("booked", "Meetings", "int", "Meetings scheduled to start in the period (whenever booked), all statuses."),
    Column("cancelled", "Cancelled / rescheduled", "int", "Of those, cancelled, or replaced by a rescheduled meeting."),
    Column("held", "Held", "int", "Dispositioned Completed – Qualified or Completed – Unqualified."),
    Column("no_show", "No-shows", "int", "Dispositioned Not Completed – No Show."),
    Column("no_show_rate", "No-show rate", "pct", "No-shows ÷ (held + no-shows)."),
    Column("qualified", "Qualified", "int", "Dispositioned Completed – Qualified."),
    Column("qualified_rate", "Qualified rate", "pct", "Qualified ÷ held."),
    Column("late", "Late dispositions", "int", "Dispositioned after the due time (meeting end + the allowed hours)."),
    Column("awaiting", "Not dispositioned", "int", "Still scheduled: not yet held, or awaiting the AE's disposition."),
]


def _finish_meeting(row: dict) -> dict:
    row["no_show_rate"] = rate(row["no_show"], row["held"] + row["no_show"])
    row["qualified_rate"] = rate(row["qualified"], row["held"])
    return row


@register
class Meetings(Report):
    slug = "meetings"
    title = "Meetings"
    description = "Meetings booked, held, no-show rate, qualified rate and late dispositions, by SDR and by AE."
    filters = ("date", "team", "rep")

    def compute(self, *, scope, params) -> Result:

        zero = {key: 0 for key in meeting_aggregates()}
        sdr_rows, ae_rows = meetings_by(scope=scope, who="sdr"), meetings_by(scope=scope, who="ae")
        by_sdr = [_finish_meeting(r) for r in s.merge_by_rep(
            reps=s.roster(scope=scope), rows=sdr_rows, key="sdr_id", name="sdr__owner_name", zero=zero)]
        by_ae = [_finish_meeting({**zero, **r, "rep": r["ae__owner_name"]}) for r in ae_rows]
        sdr_total = _finish_meeting({**zero, **meetings_total(scope=scope, who="sdr", rows=sdr_rows), "rep": "All"})
        ae_total = _finish_meeting({**zero, **meetings_total(scope=scope, who="ae", rows=ae_rows), "rep": "All"})
        tables = [
            Table("by-sdr", "By SDR (who booked)", [Column("rep", "SDR", "text"), *MEETING_COLUMNS], by_sdr,
                  total=sdr_total if by_sdr else None),
            Table("by-ae", "By AE (who held them)", [Column("rep", "AE", "text"), *MEETING_COLUMNS], by_ae,
                  total=ae_total if by_ae else None),
        ]
        chart = bar_chart(labels=[r["rep"] for r in by_sdr], stacked=True, datasets=[
            ("Qualified", [r["qualified"] for r in by_sdr]),
            ("Held, unqualified", [r["held"] - r["qualified"] for r in by_sdr]),
            ("No-shows", [r["no_show"] for r in by_sdr]),
            ("Not dispositioned", [r["awaiting"] for r in by_sdr])])
        summary = [("Meetings", str(sdr_total["booked"])), ("Held", str(sdr_total["held"])),
                   ("No-show rate", pct_text(sdr_total["no_show_rate"])),
                   ("Qualified rate", pct_text(sdr_total["qualified_rate"])), ("Late dispositions", str(sdr_total["late"]))]
        return Result(tables=tables, chart=chart, summary=summary)


def opportunity_cohorts(*, scope) -> list[dict]:
    """Opportunities sourced by SDRs in scope, created in the period, by SDR and month created."""

    if not s.history_mode():  # from the opportunities rollup (apps.reporting.sales_reads), like pipeline_generated
        return sales_reads.opportunity_cohorts(scope, outcomes={"won": OpportunityStage.Outcome.WON, "lost": OpportunityStage.Outcome.LOST,
                                                                "open": OpportunityStage.Outcome.OPEN})
    won, lost = Q(stage__outcome=OpportunityStage.Outcome.WON), Q(stage__outcome=OpportunityStage.Outcome.LOST)
    qs = Opportunity.objects.filter(created_at__gte=scope.start, created_at__lt=scope.end, sourcing_sdr__isnull=False,
                                    **scope.rep_filter("sourcing_sdr_id"))
    rows = list(
        qs.annotate(month=TruncMonth("created_at"))
        .values("sourcing_sdr_id", "sourcing_sdr__owner_name", "month")
        .annotate(count=Count("id"), won=Count("id", filter=won), lost=Count("id", filter=lost),
                  open=Count("id", filter=Q(stage__outcome=OpportunityStage.Outcome.OPEN)),
                  amount_sum=Sum("amount"), won_sum=Sum("amount", filter=won))
        .order_by("sourcing_sdr__owner_name", "month")
    )
    for row in rows:
        row["amount"], row["won_amount"] = row.pop("amount_sum"), row.pop("won_sum")
    return rows


def pipeline_generated(*, scope) -> list[dict]:
    """Opportunities that reached the pipeline stage in the period, by sourcing SDR."""
    if not s.history_mode():
        return sales_reads.pipeline_generated(scope)
    qs = Opportunity.objects.filter(pipeline_at__gte=scope.start, pipeline_at__lt=scope.end, sourcing_sdr__isnull=False,
                                    **scope.rep_filter("sourcing_sdr_id"))
    rows = list(qs.values("sourcing_sdr_id", "sourcing_sdr__owner_name")
                .annotate(count=Count("id"), amount_sum=Sum("amount")).order_by())
    for row in rows:
        row["amount"] = row.pop("amount_sum")
    return rows


COHORT_COLUMNS = [
    Column("count", "Opportunities", "int", "Opportunities the SDR sourced, created in that month (within the period)."),
    Column("won", "Won", "int", "Of those, closed won (so far)."),
    Column("lost", "Lost", "int", "Of those, closed lost."),
    Column("open", "Open", "int", "Of those, still open."),
    Column("win_rate", "Win rate", "pct", "Won ÷ opportunities in the cohort (conversion to closed won by created date)."),
    Column("amount", "Amount", "money", "Sum of their amounts (IACV)."),
    Column("won_amount", "Won amount", "money", "Sum of the won ones' amounts."),
    Column("win_rate_amount", "Win rate by amount", "pct", "Won amount ÷ amount."),
]


def _finish_cohort(row: dict) -> dict:
    row["win_rate"] = rate(row["won"], row["count"])
    row["win_rate_amount"] = rate(row["won_amount"] or 0, row["amount"] or 0)
    row["amount"] = row["amount"] or 0
    row["won_amount"] = row["won_amount"] or 0
    return row


@register
class Conversion(Report):
    slug = "conversion"
    title = "Conversion by cohort and pipeline generated"
    description = "Opportunities each SDR sourced, by month created: won, lost, open, win rate by count and amount; pipeline generated."
    filters = ("date", "team", "rep")

    def compute(self, *, scope, params) -> Result:

        cohorts = opportunity_cohorts(scope=scope)
        rows = [_finish_cohort({**r, "rep": r["sourcing_sdr__owner_name"], "month": r["month"].strftime("%Y-%m")})
                for r in cohorts]
        by_rep: dict[int, dict] = {}
        for r in cohorts:
            agg = by_rep.setdefault(r["sourcing_sdr_id"], {"rep": r["sourcing_sdr__owner_name"], "count": 0, "won": 0,
                                                            "lost": 0, "open": 0, "amount": 0, "won_amount": 0})
            for key in ("count", "won", "lost", "open"):
                agg[key] += r[key]
            agg["amount"] += r["amount"] or 0
            agg["won_amount"] += r["won_amount"] or 0
        totals = {"rep": "All", "month": "", **{k: sum(r[k] for r in rows) for k in ("count", "won", "lost", "open", "amount", "won_amount")}}
        cohort_table = Table("cohorts", "Conversion to won by cohort (month created)",
                             [Column("rep", "SDR", "text"), Column("month", "Month created", "text"), *COHORT_COLUMNS],
                             rows, total=_finish_cohort(totals) if rows else None)
        pipeline = s.merge_by_rep(reps=s.roster(scope=scope), rows=pipeline_generated(scope=scope), key="sourcing_sdr_id",
                                  name="sourcing_sdr__owner_name", zero={"count": 0, "amount": 0})
        for row in pipeline:
            row["amount"] = row["amount"] or 0
        pipe_total = {"rep": "All", "count": sum(r["count"] for r in pipeline), "amount": sum(r["amount"] for r in pipeline)}
        pipeline_table = Table("pipeline", "Pipeline generated", [
            Column("rep", "SDR", "text"),
            Column("count", "Opportunities", "int", "Opportunities the SDR sourced that first reached the pipeline stage (SAO) in the period."),
            Column("amount", "Pipeline generated", "money", "Sum of those opportunities' amounts."),
        ], pipeline, total=pipe_total if pipeline else None)
        names = sorted({r["rep"] for r in rows})
        months = sorted({r["month"] for r in rows})
        lookup = {(r["rep"], r["month"]): r for r in rows}
        chart = bar_chart(labels=months, datasets=[
            (f"{name} win rate %", [None if (name, m) not in lookup or lookup[(name, m)]["win_rate"] is None
                                    else lookup[(name, m)]["win_rate"] * 100 for m in months]) for name in names], percent=True)
        summary = [("Pipeline generated", f"{pipe_total['amount']:.2f}"), ("Opportunities sourced", str(totals["count"])),
                   ("Win rate", pct_text(cohort_table.total["win_rate"] if cohort_table.total else None))]
        return Result(tables=[cohort_table, pipeline_table], chart=chart, summary=summary)
