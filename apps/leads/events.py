"""Signals the lead lifecycle sends (see sdrops/events.py for the rules): lead assigned (first
assignment, recycling, SLA re-assignment) and SLA breach recorded, inside the transaction of
the change. apps.integrations' receiver writes the webhook outbox, so the outbox row commits
or rolls back together with the change."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.dispatch import Signal

from apps.leads.models import LeadCycle, SlaBreach
from apps.people.models import Contact, Rep

LEAD_ASSIGNED = "lead.assigned"
LEAD_SLA_BREACHED = "lead.sla_breached"

# Sent inside the transaction of every lead assignment, re-assignment and recorded SLA
# breach, with `event_type` (LEAD_ASSIGNED / LEAD_SLA_BREACHED), `build_data` (a function
# that builds the event's data: called only by a receiver that needs it) and `occurred_at`.
lead_changed = Signal()

# Sent by apps.leads.services.exceptions inside the transaction that marks a lead cycle an
# exception or clears the mark, with `cycle_id`, `exception` (True when now left out of the
# numbers) and `occurred_at`: whatever keeps report totals (rollups) re-counts that cycle.
lead_cycle_exception_changed = Signal()

# Sent by apps.leads.morning inside the transaction that records a manager's "clean your
# room" digest (once per local day), with `digest`; apps.connect posts it to chat channels.
morning_summary = Signal()


def _iso(value):
    return value.isoformat() if value is not None else None


def rep_data(rep: Rep | None) -> dict | None:
    if rep is None:
        return None
    return {"id": rep.pk, "owner_name": rep.owner_name, "email": rep.user.email, "role": rep.role}


def cycle_data(cycle: LeadCycle) -> dict:
    contact = Contact.objects.select_related("account").get(pk=cycle.contact_id)
    account = contact.account
    return {
        "lead_cycle": {
            "id": cycle.pk, "number": cycle.number, "state": cycle.state, "lead_type": cycle.lead_type,
            "source": cycle.source, "assigned_at": _iso(cycle.assigned_at), "sla_target_at": _iso(cycle.sla_target_at),
            "sla_maximum_at": _iso(cycle.sla_maximum_at), "reassignment_count": cycle.reassignment_count,
        },
        "contact": {"id": contact.pk, "email": contact.email, "name": f"{contact.first_name} {contact.last_name}".strip()},
        "account": {"id": account.pk, "name": account.name, "domain": account.domain} if account else None,
        "rep": rep_data(Rep.objects.select_related("user").filter(pk=cycle.rep_id).first()),
    }


def lead_change_send(event_type: str, build_data: Callable[[], dict], occurred_at: dt.datetime) -> None:
    """Send `lead_changed` (the lead services call this inside their transaction)."""
    lead_changed.send(sender=LeadCycle, event_type=event_type, build_data=build_data, occurred_at=occurred_at)


def breach_data(breach: SlaBreach, cycle: LeadCycle) -> dict:
    breached_rep = Rep.objects.select_related("user").filter(pk=breach.rep_id).first()
    reassigned_to = Rep.objects.select_related("user").filter(pk=breach.reassigned_to_id).first()
    return {
        **cycle_data(cycle),
        "breach": {
            "id": breach.pk, "kind": breach.kind, "due_at": _iso(breach.due_at), "breached_at": _iso(breach.breached_at),
            "breached_rep": rep_data(breached_rep), "reassigned_to": rep_data(reassigned_to), "note": breach.note,
        },
    }


