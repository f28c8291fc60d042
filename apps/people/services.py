"""Writes to people: lead cycles (the start of the Measurable Lead Model)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from apps.people.models import Contact, LeadCycle, LeadType, Rep


def lead_cycle_open(
    *,
    contact: Contact,
    rep: Rep | None,
    lead_type: str = LeadType.INBOUND,
    source: str = "",
    campaign: str = "",
    assigned_at: dt.datetime | None = None,
) -> LeadCycle:
    """Start a new cycle for `contact`, assigned to `rep` at `assigned_at` (now by default).

    Refuses when the contact already has an open cycle: a lead is worked in one cycle at a
    time, and a lead that comes back is recycled only after its last cycle was dispositioned.
    """
    if lead_type not in LeadType.values:
        raise ValidationError(f"Unknown lead type “{lead_type}”; expected one of {', '.join(LeadType.values)}.")
    with transaction.atomic():
        Contact.objects.select_for_update(no_key=True).filter(pk=contact.pk).first()
        cycles = LeadCycle.objects.filter(contact=contact)
        open_cycle = cycles.exclude(state=LeadCycle.State.DISPOSITIONED).first()
        if open_cycle is not None:
            raise ValidationError(
                f"{contact} already has an open lead cycle (cycle {open_cycle.number}, {open_cycle.get_state_display()})."
            )
        number = (cycles.aggregate(n=Max("number"))["n"] or 0) + 1
        return LeadCycle.objects.create(
            contact=contact,
            number=number,
            lead_type=lead_type,
            source=source or contact.source,
            campaign=campaign,
            rep=rep,
            assigned_at=assigned_at or timezone.now(),
        )

