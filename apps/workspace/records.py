"""The account record: what a rep reads before a call. Everything is read through the scoped
querysets (an account outside one's scope is a 404, like its change page), and the timeline
merges the account's activities, lead cycles, meetings, opportunities, ownership changes and
returns, newest first, each capped so the page costs a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.http import Http404
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
    scope_key,
)
from sdrops.kept_sql import kept_list

PER_KIND = 25


@dataclass
class Event:
    at: dt.datetime
    kind: str
    title: str
    detail: str = ""
    url: str = ""


def _kept(user, name: str, build, **values) -> list:
    """A record read compiled once per configuration version and scope (sdrops.kept_sql): the
    page's dozen scoped querysets took longer for the ORM to compile than to run."""
    return kept_list(("records", name, scope_key(user=user)), build, **values)


def account_record(*, user, account_id: int) -> dict:
    found = _kept(user, "account", lambda account_id: accounts_visible_to(user=user).select_related(
        "owner", "sdr_owner", "opportunity_owner", "matched_icp").filter(pk=account_id), account_id=account_id)
    if not found:
        raise Http404("No account in your scope has this id.")
    account = found[0]
    explanation = account_score_explain(account=account)
    contacts = _kept(user, "account_contacts", lambda account_id: contacts_visible_to(user=user).filter(
        account_id=account_id).order_by("last_name", "first_name")[:50], account_id=account.pk)
    events: list[Event] = []
    activities = _kept(user, "account_activities", lambda account_id: activities_visible_to(user=user).filter(
        account_id=account_id).select_related("rep", "contact").order_by("-occurred_at")[:PER_KIND], account_id=account.pk)
    for a in activities:
        events.append(Event(a.occurred_at, "activity", f"{a.get_type_display()}{f': {a.subject}' if a.subject else ''}",
                            " · ".join(str(x) for x in (a.rep, a.contact) if x)))
    cycles = _kept(user, "account_cycles", lambda account_id: LeadCycle.objects.filter(
        contact__in=contacts_visible_to(user=user).filter(account_id=account_id)).select_related(
        "contact", "rep").order_by("-assigned_at")[:PER_KIND], account_id=account.pk)
    for c in cycles:
        state = c.get_disposition_display() if c.disposition else c.get_state_display()
        events.append(Event(c.assigned_at, "lead", f"Lead cycle {c.number}: {c.contact.first_name} {c.contact.last_name}",
                            f"{state} · {c.rep or 'unassigned'}", reverse("admin:cadences_lead_page", args=[c.contact_id])))
    meetings = _kept(user, "account_meetings", lambda account_id: meetings_visible_to(user=user).filter(
        account_id=account_id).select_related("contact", "ae", "sdr").order_by("-scheduled_at")[:PER_KIND], account_id=account.pk)
    for m in meetings:
        events.append(Event(m.scheduled_at, "meeting", f"{m.get_kind_display()} with {m.contact.first_name} {m.contact.last_name}",
                            f"{m.get_status_display()} · AE {m.ae} · booked by {m.sdr}",
                            reverse("admin:meetings_meeting_change", args=[m.pk])))
    opportunities = _kept(user, "account_opportunities", lambda account_id: opportunities_visible_to(user=user).filter(
        account_id=account_id).select_related("stage", "owner").order_by("-pk")[:PER_KIND], account_id=account.pk)
    for o in opportunities:
        events.append(Event(o.created_at, "opportunity", f"Opportunity {o.name}", f"{o.stage} · {o.owner}",
                            reverse("admin:meetings_opportunity_change", args=[o.pk])))
    ownership = _kept(user, "account_ownership", lambda account_id: ownership_events_visible_to(user=user).filter(
        account_id=account_id).select_related("from_rep", "to_rep").order_by("-occurred_at")[:PER_KIND], account_id=account.pk)
    for e in ownership:
        events.append(Event(e.occurred_at, "ownership", f"Owner: {e.from_rep or 'pool'} → {e.to_rep or 'pool'}",
                            e.get_reason_display()))
    returns = _kept(user, "account_returns", lambda account_id: returns_visible_to(user=user).filter(
        account_id=account_id).order_by("-created_at")[:PER_KIND], account_id=account.pk)
    for r in returns:
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
        "follow_ups": _kept(user, "account_follow_ups", lambda account_id: follow_ups_visible_to(user=user).filter(
            account_id=account_id, status="open").order_by("due_at", "pk")[:PER_KIND], account_id=account.pk),
        "actions": actions,
        "can_book": user.has_perm("meetings.add_meeting"),
    }


def contact_record(*, user, contact_id: int) -> dict:
    """The contact (and lead) record: who they are, how to reach them, their lead cycles,
    meetings and touches. Through contacts_visible_to: out of scope is a 404."""
    found = _kept(user, "contact", lambda contact_id: contacts_visible_to(user=user).select_related(
        "account__owner").filter(pk=contact_id), contact_id=contact_id)
    if not found:
        raise Http404("No contact in your scope has this id.")
    contact = found[0]
    events: list[Event] = []
    activities = _kept(user, "contact_activities", lambda contact_id: activities_visible_to(user=user).filter(
        contact_id=contact_id).select_related("rep").order_by("-occurred_at")[:PER_KIND], contact_id=contact.pk)
    for a in activities:
        events.append(Event(a.occurred_at, "activity", f"{a.get_type_display()}{f': {a.subject}' if a.subject else ''}",
                            str(a.rep or "")))
    cycles = _kept(user, "contact_cycles", lambda contact_id: LeadCycle.objects.filter(contact_id=contact_id).select_related(
        "rep").order_by("-number")[:PER_KIND], contact_id=contact.pk)
    for c in cycles:
        state = c.get_disposition_display() if c.disposition else c.get_state_display()
        events.append(Event(c.assigned_at, "lead", f"Lead cycle {c.number} assigned to {c.rep or 'nobody'}", state,
                            reverse("admin:cadences_lead_page", args=[contact.pk])))
    meetings = _kept(user, "contact_meetings", lambda contact_id: meetings_visible_to(user=user).filter(
        contact_id=contact_id).select_related("ae", "sdr").order_by("-scheduled_at")[:PER_KIND], contact_id=contact.pk)
    for m in meetings:
        events.append(Event(m.scheduled_at, "meeting", f"{m.get_kind_display()} with {m.ae}",
                            f"{m.get_status_display()} · booked by {m.sdr}", reverse("admin:meetings_meeting_change", args=[m.pk])))
    events.sort(key=lambda e: e.at, reverse=True)
    actions = [("Lead page", reverse("admin:cadences_lead_page", args=[contact.pk]))]
    if user.has_perm("meetings.add_meeting"):
        actions.append(("Book meeting", reverse("admin:meetings_meeting_book", args=[contact.pk])))
    if user.has_perm("people.change_contact"):
        actions.append(("Edit", reverse("admin:people_contact_change", args=[contact.pk])))
    return {"contact": contact, "current_cycle": cycles[0] if cycles else None, "events": events, "actions": actions}
