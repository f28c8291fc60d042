"""Targets and attainment (issue 18): each SDR's monthly targets for meetings held, SAOs and
pipeline — their own month's (RepTarget, set by their manager) or their segment's default
(SegmentTarget, a quarter's ÷ 3) — scaled by the ramp (the mean ramp factor over the month's
days: 0 in month 1, 50 % in month 2, 100 % from month 3), against what they attained so far
and the pace it puts them on. A fixed number of queries for any number of reps."""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from django.db.models import Count, Exists, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.meetings.models import Meeting, Opportunity
from apps.people.models import Rep
from apps.reporting.models import RepTarget, SegmentTarget, TargetCadence

METRICS = (("meetings_held", "Meetings held"), ("saos", "SAOs"), ("pipeline", "Pipeline"))
# Meetings and SAOs are counted things: a target of them is a whole number.
WHOLE = {"meetings_held", "saos"}
# Pace (so far ÷ due by today) is judged from the month's 7th day on: before that one meeting
# moves it by hundreds of points (1 of 15 on the 1st reads 207 %), so the early days show the
# number expected by today and "early" instead (docs/reports.md, "Targets and attainment").
PACE_FROM_DAY = 7


def _unit(key: str) -> Decimal:
    return Decimal("0.01") if key not in WHOLE else Decimal("1")


def rounded(key: str, value: Decimal) -> Decimal:
    """Nearest (half up) whole meeting or SAO, or cent: how "expected by today" is read."""
    return value.quantize(_unit(key), ROUND_HALF_UP)


def monthly_target(key: str, base: Decimal, factor: Decimal) -> Decimal:
    """A ramp-adjusted target: base × ramp factor, rounded up to whole meetings and SAOs (to
    cents for pipeline) — the capacity rule (docs/reports.md): a target below the plan would
    miss it, and nobody holds 0.9 of a meeting. The one place the rule lives: attainment, the
    scorecard, the homes and the capacity planner all show this number."""
    return (base * factor).quantize(_unit(key), ROUND_CEILING)


def pace_status(*, done: Decimal, expected: Decimal, elapsed_days: int) -> str:
    """"early" before PACE_FROM_DAY, else "ahead" / "on pace" / "behind": what was done against
    the number expected by today (`rounded` like the target)."""
    if elapsed_days < PACE_FROM_DAY:
        return "early"
    return "ahead" if done > expected else "on pace" if done == expected else "behind"


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


def _first(qs, field):
    return Subquery(qs.values(field)[:1])


def attainment_rows(*, rep_ids, month: dt.date, today: dt.date | None = None) -> list[dict]:
    """Per SDR: target (ramp-adjusted, `monthly_target`), attained to date, expected by today
    (target × elapsed days ÷ days), pace (attained ÷ expected; None before PACE_FROM_DAY) and
    its status in words (`pace_status`) for each metric. One query: the month's own targets,
    the segment's defaults (else the no-segment row) and the attainment are subqueries of
    the reps' row."""
    today = today or timezone.localdate()
    first, last = month_bounds(month)
    days = (last - first).days + 1
    elapsed = min(days, max(0, (today - first).days + 1))
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(first, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    held = (Meeting.objects.filter(sdr_id=OuterRef("pk"), scheduled_at__gte=start, scheduled_at__lt=end,
                                   status__in=[Meeting.Status.COMPLETED_QUALIFIED, Meeting.Status.COMPLETED_UNQUALIFIED])
            .order_by().values("sdr_id").annotate(n=Count("pk")).values("n")[:1])
    opps = Opportunity.objects.filter(sourcing_sdr_id=OuterRef("pk"), pipeline_at__gte=start, pipeline_at__lt=end).order_by()
    own = RepTarget.objects.filter(rep_id=OuterRef("pk"), month=first)
    exact = SegmentTarget.objects.filter(segment=OuterRef("segment"))
    anyseg = SegmentTarget.objects.filter(segment="")
    annotations = {
        "held": Coalesce(Subquery(held), 0),
        "sao_n": Coalesce(Subquery(opps.values("sourcing_sdr_id").annotate(n=Count("pk")).values("n")[:1]), 0),
        "sao_amount": Subquery(opps.values("sourcing_sdr_id").annotate(a=Sum("amount")).values("a")[:1]),
        "own_target": Exists(own),
    }
    for key, _label in METRICS:
        annotations[f"own_{key}"] = _first(own, key)
        annotations[f"seg_{key}"] = Coalesce(_first(exact, key), _first(anyseg, key))
    annotations["seg_cadence"] = Coalesce(_first(exact, "cadence"), _first(anyseg, "cadence"))
    reps = (Rep.objects.filter(pk__in=list(rep_ids), role=Rep.Role.SDR).order_by("owner_name", "pk")
            .annotate(**annotations))
    rows = []
    fallback = SegmentTarget()
    for rep in reps:
        factor = ramp_factor_for_month(ramp_start=rep.ramp_start, month=first)
        if rep.own_target:
            base = {key: Decimal(getattr(rep, f"own_{key}")) for key, _l in METRICS}
        else:
            div = Decimal(3) if rep.seg_cadence == TargetCadence.QUARTERLY else Decimal(1)
            base = {key: Decimal(getattr(rep, f"seg_{key}") if getattr(rep, f"seg_{key}") is not None
                                 else getattr(fallback, key)) / div for key, _l in METRICS}
        attained = {"meetings_held": Decimal(rep.held), "saos": Decimal(rep.sao_n),
                    "pipeline": Decimal(rep.sao_amount or 0)}
        row = {"rep_id": rep.pk, "rep": rep.owner_name, "ramp": float(factor),
               "source": "set for the month" if rep.own_target else "segment default"}
        for key, _label in METRICS:
            goal = monthly_target(key, base[key], factor)
            row[f"{key}_target"] = goal
            row[f"{key}_done"] = attained[key]
            row[f"{key}_pct"] = float(attained[key] / goal) if goal else None
            due = goal * Decimal(elapsed) / Decimal(days)
            row[f"{key}_expected"] = rounded(key, due)
            row[f"{key}_pace"] = float(attained[key] / due) if due and elapsed >= PACE_FROM_DAY else None
            row[f"{key}_status"] = pace_status(done=attained[key], expected=row[f"{key}_expected"], elapsed_days=elapsed)
        rows.append(row)
    return rows
