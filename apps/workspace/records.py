"""The account record: what a rep reads before a call. Everything is read through the scoped
querysets (an account outside one's scope is a 404, like its change page), and the timeline
merges the account's activities, lead cycles, meetings, opportunities, ownership changes and
returns, newest first, each capped so the page costs a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.shortcuts import get_object_or_404
from django.urls import reverse

from apps.icps.models import Quadrant
from apps.icps.selectors import account_score_explain
from apps.leads.models import LeadCycle
from apps.markets.coverage import account_coverage
from apps.markets.selectors import account_market_explain
from sdrops.access import (
    accounts_visible_to,
    activities_visible_to,
    contacts_visible_to,
    follow_ups_visible_to,
    meetings_visible_to,
    opportunities_visible_to,
    ownership_events_visible_to,
    rep_for_user,
    returns_visible_to,
)

PER_KIND = 25


@dataclass
class Event:
    at: dt.datetime
    kind: str
    title: str
    detail: str = ""
    url: str = ""


def account_record(*, user, account_id: int) -> dict:
    account = get_object_or_404(
        accounts_visible_to(user=user).select_related("owner", "sdr_owner", "opportunity_owner", "matched_icp"),
        pk=account_id,
    )
    explanation = account_score_explain(account=account)
    contacts = list(contacts_visible_to(user=user).filter(account=account).order_by("last_name", "first_name")[:50])
    events: list[Event] = []
    for a in activities_visible_to(user=user).filter(account=account).select_related("rep", "contact").order_by("-occurred_at")[:PER_KIND]:
        events.append(Event(a.occurred_at, "activity", f"{a.get_type_display()}{f': {a.subject}' if a.subject else ''}",
                            " · ".join(str(x) for x in (a.rep, a.contact) if x)))
    cycles = (LeadCycle.objects.filter(contact__in=contacts_visible_to(user=user).filter(account=account))
              .select_related("contact", "rep").order_by("-assigned_at")[:PER_KIND])
    for c in cycles:
        state = c.get_disposition_display() if c.disposition else c.get_state_display()
        events.append(Event(c.assigned_at, "lead", f"Lead cycle {c.number}: {c.contact.first_name} {c.contact.last_name}",
                            f"{state} · {c.rep or 'unassigned'}", reverse("admin:cadences_lead_page", args=[c.contact_id])))
    for m in meetings_visible_to(user=user).filter(account=account).select_related("contact", "ae", "sdr").order_by("-scheduled_at")[:PER_KIND]:
        events.append(Event(m.scheduled_at, "meeting", f"{m.get_kind_display()} with {m.contact.first_name} {m.contact.last_name}",
                            f"{m.get_status_display()} · AE {m.ae} · booked by {m.sdr}",
                            reverse("admin:meetings_meeting_change", args=[m.pk])))
    opportunities = list(opportunities_visible_to(user=user).filter(account=account).select_related("stage", "owner").order_by("-pk")[:PER_KIND])
    for o in opportunities:
        events.append(Event(o.created_at, "opportunity", f"Opportunity {o.name}", f"{o.stage} · {o.owner}",
                            reverse("admin:meetings_opportunity_change", args=[o.pk])))
    for e in ownership_events_visible_to(user=user).filter(account=account).select_related("from_rep", "to_rep").order_by("-occurred_at")[:PER_KIND]:
        events.append(Event(e.occurred_at, "ownership", f"Owner: {e.from_rep or 'pool'} → {e.to_rep or 'pool'}",
                            e.get_reason_display()))
    for r in returns_visible_to(user=user).filter(account=account).order_by("-created_at")[:PER_KIND]:
        events.append(Event(r.created_at, "return", f"Returned by {r.rep}: {r.get_reason_display()}", r.get_status_display(),
                            reverse("admin:routing_returnrequest_change", args=[r.pk])))
    events.sort(key=lambda e: e.at, reverse=True)

    rep = rep_for_user(user)
    actions = []
    if user.has_perm("accounts.add_activity"):
        actions.append(("Log activity", reverse("admin:accounts_activity_add") + f"?account={account.pk}"))
    if rep is not None and account.owner_id == rep.pk and user.has_perm("routing.add_returnrequest"):
        actions.append(("Return or swap", reverse("admin:routing_returnrequest_file", args=[account.pk])))
    if user.has_perm("accounts.change_account"):
        actions.append(("Edit", reverse("admin:accounts_account_change", args=[account.pk])))
    return {
        "account": account,
        "quadrant_label": Quadrant(account.quadrant).label if account.quadrant in Quadrant.values else account.quadrant,
        # Coverage × engagement (seed 004), not the ICP quadrant above; and the market segment (seed 003).
        "coverage": account_coverage(account=account),
        "market": account_market_explain(account=account),
        "explanation": explanation,
        "contacts": contacts,
        "events": events,
        "opportunities": opportunities,
        # Open follow-ups on the account and its contacts (apps.cadences.follow_ups).
        "follow_ups": list(follow_ups_visible_to(user=user).filter(account=account, status="open")
                           .order_by("due_at", "pk")[:PER_KIND]),
        "actions": actions,
        "can_book": user.has_perm("meetings.add_meeting"),
    }


def contact_record(*, user, contact_id: int) -> dict:
    """The contact (and lead) record: who they are, how to reach them, their lead cycles,
    meetings and touches. Through contacts_visible_to: out of scope is a 404."""
    contact = get_object_or_404(contacts_visible_to(user=user).select_related("account__owner"), pk=contact_id)
    events: list[Event] = []
    for a in activities_visible_to(user=user).filter(contact=contact).select_related("rep").order_by("-occurred_at")[:PER_KIND]:
        events.append(Event(a.occurred_at, "activity", f"{a.get_type_display()}{f': {a.subject}' if a.subject else ''}",
                            str(a.rep or "")))
    cycles = list(LeadCycle.objects.filter(contact=contact).select_related("rep").order_by("-number")[:PER_KIND])
    for c in cycles:
        state = c.get_disposition_display() if c.disposition else c.get_state_display()
        events.append(Event(c.assigned_at, "lead", f"Lead cycle {c.number} assigned to {c.rep or 'nobody'}", state,
                            reverse("admin:cadences_lead_page", args=[contact.pk])))
    for m in meetings_visible_to(user=user).filter(contact=contact).select_related("ae", "sdr").order_by("-scheduled_at")[:PER_KIND]:
        events.append(Event(m.scheduled_at, "meeting", f"{m.get_kind_display()} with {m.ae}",
                            f"{m.get_status_display()} · booked by {m.sdr}", reverse("admin:meetings_meeting_change", args=[m.pk])))
    events.sort(key=lambda e: e.at, reverse=True)
    actions = [("Lead page", reverse("admin:cadences_lead_page", args=[contact.pk]))]
    if user.has_perm("meetings.add_meeting"):
        actions.append(("Book meeting", reverse("admin:meetings_meeting_book", args=[contact.pk])))
    if user.has_perm("people.change_contact"):
        actions.append(("Edit", reverse("admin:people_contact_change", args=[contact.pk])))
    return {"contact": contact, "current_cycle": cycles[0] if cycles else None, "events": events, "actions": actions}
