"""The returns page over apps.routing's ReturnRequest."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q
from django.db.models.functions import TruncWeek

from apps.reporting import sales_reads
from apps.reporting import selectors as s
from apps.reporting.reports.base import Report, register
from apps.reporting.tables import Column, Result, Table, bar_chart, rate
from apps.routing.models import ReturnOutcome, ReturnReason, ReturnRequest


def returns_in_period(*, scope):

    return ReturnRequest.objects.filter(created_at__gte=scope.start, created_at__lt=scope.end, **scope.rep_filter())


def return_aggregates() -> dict:

    aggregates = {
        "returns": Count("id"),
        "pending": Count("id", filter=Q(status=ReturnRequest.Status.PENDING)),
        "approved": Count("id", filter=Q(status=ReturnRequest.Status.APPROVED)),
        "rejected": Count("id", filter=Q(status=ReturnRequest.Status.REJECTED)),
    }
    for outcome in ReturnOutcome.values:
        aggregates[f"outcome_{outcome}"] = Count("id", filter=Q(status=ReturnRequest.Status.APPROVED, outcome=outcome))
    return aggregates


def return_sets(*, scope) -> tuple[list[dict], list[dict], dict, list[dict]]:
    """By reason (in reason order), by rep, the total, and (week, reason, n) per week: from the
    returns rollup (apps.reporting.sales_reads), or from history."""
    if s.history_mode():
        qs = returns_in_period(scope=scope)
        return (list(qs.values("reason").annotate(**return_aggregates()).order_by("reason")),
                list(qs.values("rep_id", "rep__owner_name").annotate(**return_aggregates()).order_by()),
                qs.aggregate(**return_aggregates()),
                list(qs.annotate(week=TruncWeek("created_at")).values("week", "reason").annotate(n=Count("id")).order_by("week")))
    rows = sales_reads.return_counts(scope, weekly=False)
    by_reason: dict[str, dict] = {}
    by_rep: dict[int, dict] = {}
    total = _counted({}, rows)
    for row in rows:
        by_reason.setdefault(row["reason"], {"reason": row["reason"]})
        by_rep.setdefault(row["rep_id"], {"rep_id": row["rep_id"], "rep__owner_name": row["rep__owner_name"]})
    reason_rows = [_counted(r, [x for x in rows if x["reason"] == key]) for key, r in sorted(by_reason.items())]
    rep_rows = [_counted(r, [x for x in rows if x["rep_id"] == key]) for key, r in by_rep.items()]
    return reason_rows, rep_rows, total, sales_reads.return_counts(scope, weekly=True)


def _counted(row: dict, rows: list[dict]) -> dict:
    """return_aggregates' counts over rollup rows."""
    approved = ReturnRequest.Status.APPROVED
    row.update(returns=sum(r["n"] for r in rows),
               **{st: sum(r["n"] for r in rows if r["status"] == value) for st, value in (
                   ("pending", ReturnRequest.Status.PENDING), ("approved", approved), ("rejected", ReturnRequest.Status.REJECTED))},
               **{f"outcome_{o}": sum(r["n"] for r in rows if r["status"] == approved and r["outcome"] == o)
                  for o in ReturnOutcome.values})
    return row


def _columns(first: Column) -> list[Column]:

    return [
        first,
        Column("returns", "Returns", "int", "Returns filed in the period (retrievals included, as reason “Retrieval”)."),
        Column("pending", "Pending", "int", "Of those, still awaiting review."),
        Column("approved", "Approved", "int", "Approved by ops."),
        Column("rejected", "Rejected", "int", "Rejected: the account went back to the rep."),
        Column("approval_rate", "Approval rate", "pct", "Approved ÷ (approved + rejected)."),
        *[Column(f"outcome_{value}", f"→ {label}", "int", f"Approved with the outcome “{label}”.")
          for value, label in ReturnOutcome.choices],
    ]


def _finish(row: dict) -> dict:
    row["approval_rate"] = rate(row["approved"], row["approved"] + row["rejected"])
    return row


@register
class Returns(Report):
    slug = "returns"
    title = "Returns"
    description = "Account returns by reason and by rep, per week, with the review outcomes."
    filters = ("date", "team", "rep")

    def compute(self, *, scope, params) -> Result:

        zero = {key: 0 for key in return_aggregates()}
        reasons = dict(ReturnReason.choices)
        reason_rows, rep_rows, total, weekly = return_sets(scope=scope)
        by_reason = [_finish({**r, "reason": reasons.get(r["reason"], r["reason"])}) for r in reason_rows]
        by_rep = [_finish(r) for r in s.merge_by_rep(reps=s.roster(scope=scope), rows=rep_rows, zero=zero)]
        total = _finish({**zero, **total})
        weeks = sorted({(w["week"].date() if isinstance(w["week"], dt.datetime) else w["week"]) for w in weekly})
        cells = {((w["week"].date() if isinstance(w["week"], dt.datetime) else w["week"]), w["reason"]): w["n"] for w in weekly}
        week_rows = [{"week": week.isoformat(), "total": sum(cells.get((week, r), 0) for r in reasons),
                      **{f"r_{r}": cells.get((week, r), 0) for r in reasons}} for week in weeks]
        week_table = Table("weekly", "Per week, by reason", [
            Column("week", "Week of", "text"),
            Column("total", "Returns", "int", "Returns filed in the week (weeks start Monday; the first and last may be partial)."),
            *[Column(f"r_{value}", label, "int") for value, label in ReturnReason.choices],
        ], week_rows)
        tables = [
            Table("by-reason", "By reason", _columns(Column("reason", "Reason", "text")), by_reason,
                  total={**total, "reason": "All"} if by_reason else None),
            Table("by-rep", "By rep", _columns(Column("rep", "Rep", "text")), by_rep,
                  total={**total, "rep": "All"} if by_rep else None),
            week_table,
        ]
        chart = bar_chart(labels=[r["week"] for r in week_rows], stacked=True,
                          datasets=[(label, [r[f"r_{value}"] for r in week_rows]) for value, label in ReturnReason.choices])
        summary = [("Returns", str(total["returns"])), ("Pending review", str(total["pending"])),
                   ("Approval rate", "no data" if total["approval_rate"] is None else f"{total['approval_rate'] * 100:.0f}%")]
        return Result(tables=tables, chart=chart, summary=summary)
