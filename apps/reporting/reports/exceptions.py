"""The exceptions page (issue 22 item 4): the lead cycles a manager or ops took out of the
numbers, so they are "dealt with promptly and incorporated into the broader process". Every
other page leaves them out (apps.reporting.selectors.SQL_COUNTED); this one lists only them."""

from __future__ import annotations

from urllib.parse import urlencode

from django.db.models import Count, Min, Q
from django.urls import reverse
from django.utils import timezone

from apps.leads.models import LeadCycle
from apps.reporting.reports.base import Report, register
from apps.reporting.tables import Column, Result, Table, bar_chart

# The page lists the newest few and links the lead cycles admin, filtered the same way, for the
# rest: rendering every exception of a quarter grew with the organisation (~100 ms of Python at
# 1M activities for 500 rows), while the counts per reason above stay exact.
LIST_LIMIT = 50


def exceptions_in_period(*, scope):
    """Exception cycles assigned in the period, in scope (rep and lead type)."""
    qs = LeadCycle.objects.exceptions().filter(assigned_at__gte=scope.start, assigned_at__lt=scope.end,
                                               **scope.rep_filter())
    if scope.lead_type:
        qs = qs.filter(lead_type=scope.lead_type)
    return qs


def exceptions_changelist_url(*, scope) -> str:
    """The lead cycles admin filtered to exceptions_in_period's cycles (the admin scopes them to
    the viewer's reps again)."""
    query = {"exception": "yes", "assigned_at__gte": scope.start.isoformat(), "assigned_at__lt": scope.end.isoformat()}
    if scope.rep_ids is not None:
        query["rep_id__in"] = ",".join(str(pk) for pk in scope.rep_ids)
    if scope.lead_type:
        query["lead_type__exact"] = scope.lead_type
    return f"{reverse('admin:leads_leadcycle_changelist')}?{urlencode(query)}"


@register
class Exceptions(Report):
    slug = "exceptions"
    title = "Exceptions"
    description = ("Lead cycles marked exceptions (left out of every other number), by reason, with who marked them "
                   "and whether they are still open.")
    filters = ("date", "team", "rep", "lead_type")

    def compute(self, *, scope, params) -> Result:
        now = timezone.now()
        qs = exceptions_in_period(scope=scope)
        still_open = ~Q(state=LeadCycle.State.DISPOSITIONED)
        by_reason = list(qs.values("exception_reason__label").annotate(
            cycles=Count("pk"), open=Count("pk", filter=still_open), first_marked=Min("exception_at"),
        ).order_by("-cycles", "exception_reason__label"))
        for row in by_reason:
            row["reason"] = row.pop("exception_reason__label")
        total = {"reason": "All", "cycles": sum(r["cycles"] for r in by_reason), "open": sum(r["open"] for r in by_reason)}
        listed = (qs.select_related("contact__account", "rep", "exception_reason", "exception_by")
                  .order_by("-exception_at", "-pk")[:LIST_LIMIT])
        rows = [{
            "marked_at": c.exception_at, "days": (now - c.exception_at).days, "lead": str(c.contact),
            "account": c.contact.account.name if c.contact.account_id else "", "rep": c.rep.owner_name if c.rep else "(unassigned)",
            "lead_type": c.get_lead_type_display(), "source": c.get_source_display() or "(none)", "assigned_at": c.assigned_at,
            "state": c.get_disposition_display() if c.disposition else c.get_state_display(),
            "reason": c.exception_reason.label, "note": c.exception_note,
            "by": c.exception_by.get_full_name() or c.exception_by.username if c.exception_by else "",
        } for c in listed]
        more = {}
        if total["cycles"] > len(rows):
            more["note"] = f"The newest {LIST_LIMIT} of {total['cycles']} are listed."
            # The link only for those who may open the lead cycles admin (an SDR gets the note alone).
            user = scope.user
            if user is not None and user.has_perm("leads.view_leadcycle"):
                more.update(more_url=exceptions_changelist_url(scope=scope), more_label="All of them in the lead cycles list")
        tables = [
            Table("by-reason", "By reason", [
                Column("reason", "Reason", "text", "The exception reason chosen from the list ops edit."),
                Column("cycles", "Exceptions", "int", "Lead cycles assigned in the period and marked exceptions: left out of "
                       "pick-up, response time, qualified rate, cohorts, scorecards, SLA breaches, meetings and cadence numbers."),
                Column("open", "Still open", "int", "Of those, not yet dispositioned (assigned or working): still to deal with."),
                Column("first_marked", "First marked", "datetime", "When the oldest of them was marked."),
            ], by_reason, total=total if by_reason else None),
            Table("cycles", "Exception lead cycles", [
                Column("marked_at", "Marked", "datetime"), Column("days", "Days since marked", "int"),
                Column("lead", "Lead", "text"), Column("account", "Account", "text"), Column("rep", "Rep", "text"),
                Column("lead_type", "Lead type", "text"), Column("source", "Source", "text"),
                Column("assigned_at", "Assigned", "datetime"),
                Column("state", "Now", "text", "The cycle's state, or its disposition once dispositioned."),
                Column("reason", "Reason", "text"), Column("note", "Note", "text", "Why, as the manager wrote it."),
                Column("by", "Marked by", "text", "The manager or ops admin who marked it (undo: the lead cycles admin, "
                       "action “Clear the exception mark”)."),
            ], rows, **more),
        ]
        chart = bar_chart(labels=[r["reason"] for r in by_reason], stacked=True, horizontal=True, datasets=[
            ("Still open", [r["open"] for r in by_reason]),
            ("Dispositioned", [r["cycles"] - r["open"] for r in by_reason])])
        summary = [("Exceptions", str(total["cycles"])), ("Still open", str(total["open"]))]
        return Result(tables=tables, chart=chart if by_reason else None, summary=summary)
