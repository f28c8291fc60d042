"""Auto-abandon: a lead left working with no real activity goes to nurture (auto-abandoned)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from apps.leads.models import LeadCycle, LifecycleSettings
from apps.leads.services.cycles import WORK_ACTIVITY_TYPES, disposition_reason_by_code, lead_cycle_disposition


def lead_cycles_to_auto_abandon(*, now: dt.datetime | None = None, cycle_id: int | None = None) -> list[int]:
    """Working at least N days (30) with no real activity on the contact in the last M (7).
    With `cycle_id`, checks only that cycle (the per-cycle re-check under lock)."""
    from apps.accounts.models import Activity

    now = now or timezone.now()
    settings_row = LifecycleSettings.load()
    working_cutoff = now - dt.timedelta(days=settings_row.auto_abandon_working_days)
    idle_cutoff = now - dt.timedelta(days=settings_row.auto_abandon_idle_days)
    recent_work = Activity.objects.filter(
        contact_id=OuterRef("contact_id"), automated=False, type__in=WORK_ACTIVITY_TYPES, occurred_at__gt=idle_cutoff
    )
    qs = LeadCycle.objects.filter(state=LeadCycle.State.WORKING, worked_at__lte=working_cutoff)
    if cycle_id is not None:
        qs = qs.filter(pk=cycle_id)
    return list(
        qs.exclude(Exists(recent_work))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def lead_cycle_auto_abandon(*, cycle_id: int, now: dt.datetime | None = None) -> bool:
    """Abandon one cycle to nurture / auto-abandoned if it still qualifies (idempotent)."""
    now = now or timezone.now()
    with transaction.atomic():
        cycle = (
            LeadCycle.objects.select_for_update(skip_locked=True, no_key=True)
            .filter(pk=cycle_id, state=LeadCycle.State.WORKING)
            .first()
        )
        if cycle is None or not lead_cycles_to_auto_abandon(now=now, cycle_id=cycle_id):
            return False
        lead_cycle_disposition(
            cycle=cycle, disposition=LeadCycle.Disposition.NURTURE, reason=disposition_reason_by_code("auto_abandoned"),
            system=True, at=now, note="Auto-abandoned: no real activity while working",
        )
    return True


