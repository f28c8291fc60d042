"""Reads of the lead lifecycle: a contact's open cycle, a cycle's SLA status as people read
it, and lead response per rep."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from apps.leads.defaults import SYSTEM_CODES
from apps.leads.models import DispositionReason, LeadCycle, SlaBreach
from apps.people.models import Contact, Rep


def lead_cycle_current(*, contact: Contact) -> LeadCycle | None:
    """The contact's open cycle (assigned or working), if any."""
    return LeadCycle.objects.filter(contact=contact).open().first()


def disposition_reasons_offered() -> QuerySet[DispositionReason]:
    """The nurture and unqualified reasons a person may choose (e.g. an AE dispositioning a
    Completed – Unqualified meeting): active entries of the admin-edited lists, without the
    ones only the system sets (end of cadence, auto-abandon, the no-show limit)."""
    return (
        DispositionReason.objects.filter(active=True, disposition__in=["nurture", "unqualified"])
        .exclude(code__in=SYSTEM_CODES)
        .order_by("disposition", "position", "label")
    )


def lead_sla_status(*, cycle: LeadCycle, now: dt.datetime | None = None) -> str:
    """On time / due in X / breached, as the contact page shows it."""
    now = now or timezone.now()
    if cycle.state == LeadCycle.State.DISPOSITIONED and cycle.bypassed_working:
        return "Dispositioned without a touch (bypassed working)"
    if cycle.first_touch_at is not None:
        late = cycle.sla_target_at is not None and cycle.first_touch_at > cycle.sla_target_at
        took = _duration(cycle.response_time) if cycle.response_time is not None else "?"
        return f"Responded in {took} ({'late' if late else 'on time'})"
    if cycle.sla_target_at is None:
        return "No response SLA for this lead type"
    if cycle.sla_maximum_at and now >= cycle.sla_maximum_at:
        return "Breached: past the maximum"
    if now >= cycle.sla_target_at:
        return f"Breached: past the target, re-assigned in {_duration(cycle.sla_maximum_at - now)}"
    return f"Due in {_duration(cycle.sla_target_at - now)}"


def _duration(delta: dt.timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


@dataclass
class RepLeadResponse:
    rep_id: int
    assigned: int
    picked_up: int
    bypassed: int
    breaches: int

    @property
    def pickup_rate(self) -> float | None:
        return self.picked_up / self.assigned if self.assigned else None

    @property
    def bypass_rate(self) -> float | None:
        return self.bypassed / self.picked_up if self.picked_up else None


def lead_response_by_rep(*, rep_ids, start: dt.datetime, end: dt.datetime) -> dict[int, RepLeadResponse]:
    """Per rep, for cycles assigned in [start, end): assigned, picked up (worked or
    dispositioned, bypasses included), dispositioned without a touch, SLA breaches past the
    maximum. One query; the reporting pages build on it."""
    # Exceptions (issue 22) are in no performance number.
    in_period = Q(lead_cycles__assigned_at__gte=start, lead_cycles__assigned_at__lt=end,
                  lead_cycles__exception_at__isnull=True)
    rows = (
        Rep.objects.filter(pk__in=list(rep_ids))
        .annotate(
            n_assigned=Count("lead_cycles", filter=in_period),
            n_picked=Count("lead_cycles", filter=in_period & (
                Q(lead_cycles__first_touch_at__isnull=False) | Q(lead_cycles__state=LeadCycle.State.DISPOSITIONED))),
            n_bypassed=Count("lead_cycles", filter=in_period & Q(lead_cycles__bypassed_working=True)),
        )
        .values_list("pk", "n_assigned", "n_picked", "n_bypassed")
    )
    breaches = dict(
        SlaBreach.objects.filter(rep_id__in=list(rep_ids), kind=SlaBreach.Kind.MAXIMUM,
                                 assigned_at__gte=start, assigned_at__lt=end, cycle__exception_at__isnull=True)
        .values("rep_id").annotate(n=Count("pk")).values_list("rep_id", "n")
    )
    return {pk: RepLeadResponse(pk, a, p, b, breaches.get(pk, 0)) for pk, a, p, b in rows}
