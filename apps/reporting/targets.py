"""Targets and attainment (issue 18): each SDR's monthly targets for meetings held, SAOs and
pipeline — their own month's (RepTarget, set by their manager) or their segment's default
(SegmentTarget, a quarter's ÷ 3) — scaled by the ramp (the mean ramp factor over the month's
days: 0 in month 1, 50 % in month 2, 100 % from month 3), against what they attained so far
and the pace it puts them on. A fixed number of queries for any number of reps."""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone

from apps.meetings.models import Meeting, Opportunity
from apps.people.models import Rep
from apps.reporting.models import RepTarget, SegmentTarget

METRICS = (("meetings_held", "Meetings held"), ("saos", "SAOs"), ("pipeline", "Pipeline"))


def month_bounds(month: dt.date) -> tuple[dt.date, dt.date]:
    first = month.replace(day=1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def ramp_factor_for_month(*, ramp_start: dt.date | None, month: dt.date) -> Decimal:
    """The mean of the daily ramp factor over the month (a ramp starting on the 1st gives
    exactly 0, 0.5, 1 for its first three months)."""
    first, last = month_bounds(month)
    probe = Rep(ramp_start=ramp_start)
    days = (last - first).days + 1
    total = sum(Decimal(str(probe.ramp_factor(first + dt.timedelta(days=i)))) for i in range(days))
    return (total / days).quantize(Decimal("0.0001"))


def attainment_rows(*, rep_ids, month: dt.date, today: dt.date | None = None) -> list[dict]:
    """Per SDR: target (ramp-adjusted), attained to date and pace (attained ÷ the share of the
    target the elapsed days call for) for each metric. 5 queries."""
    today = today or timezone.localdate()
    first, last = month_bounds(month)
    days = (last - first).days + 1
    elapsed = min(days, max(0, (today - first).days + 1))
    reps = list(Rep.objects.filter(pk__in=list(rep_ids), role=Rep.Role.SDR).order_by("owner_name", "pk")
                .values("pk", "owner_name", "segment", "ramp_start"))
    own = {t.rep_id: t for t in RepTarget.objects.filter(rep_id__in=[r["pk"] for r in reps], month=first)}
    defaults = {t.segment: t for t in SegmentTarget.objects.all()}
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(first, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    ids = [r["pk"] for r in reps]
    held = dict(
        Meeting.objects.filter(sdr_id__in=ids, scheduled_at__gte=start, scheduled_at__lt=end,
                               status__in=[Meeting.Status.COMPLETED_QUALIFIED, Meeting.Status.COMPLETED_UNQUALIFIED])
        .order_by().values("sdr_id").annotate(n=Count("pk")).values_list("sdr_id", "n")
    )
    saos = {
        row["sourcing_sdr_id"]: row
        for row in Opportunity.objects.filter(sourcing_sdr_id__in=ids, pipeline_at__gte=start, pipeline_at__lt=end)
        .order_by().values("sourcing_sdr_id").annotate(n=Count("pk"), amount=Sum("amount", filter=Q(amount__isnull=False)))
    }
    rows = []
    for rep in reps:
        factor = ramp_factor_for_month(ramp_start=rep["ramp_start"], month=first)
        target = own.get(rep["pk"])
        base = ({"meetings_held": Decimal(target.meetings_held), "saos": Decimal(target.saos),
                 "pipeline": Decimal(target.pipeline)} if target is not None else
                (defaults.get(rep["segment"]) or defaults.get("") or SegmentTarget()).monthly())
        attained = {"meetings_held": Decimal(held.get(rep["pk"], 0)),
                    "saos": Decimal(saos.get(rep["pk"], {}).get("n", 0)),
                    "pipeline": Decimal(saos.get(rep["pk"], {}).get("amount") or 0)}
        row = {"rep_id": rep["pk"], "rep": rep["owner_name"], "ramp": float(factor),
               "source": "set for the month" if target is not None else "segment default"}
        for key, _label in METRICS:
            goal = (base[key] * factor).quantize(Decimal("0.01") if key == "pipeline" else Decimal("0.1"), ROUND_HALF_UP)
            row[f"{key}_target"] = goal
            row[f"{key}_done"] = attained[key]
            row[f"{key}_pct"] = float(attained[key] / goal) if goal else None
            due = goal * Decimal(elapsed) / Decimal(days)
            row[f"{key}_pace"] = float(attained[key] / due) if due else None
        rows.append(row)
    return rows
