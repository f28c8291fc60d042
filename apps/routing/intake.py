"""Lead intake: the one way a lead comes in by email — the API (POST /api/leads/), the
contact admin (add form and the "Route the selected inbound leads" action) and
`route_leads` all call `lead_intake`.

The scope rule lives here. A caller may create new contacts and route them, and may update
and route only contacts it can see (sdrops.access.contacts_visible_to). A contact
outside its scope is left exactly as it is — no field, no cycle, no routing decision — and
the result says nothing about it. The system (actor None: commands run by ops, jobs) and
company-wide users (ops, the CRM's service user) see every contact, so they keep routing
any lead. A lead whose contact already has an open cycle is never routed twice: that is an
outcome of its own, never an error, so a file of leads is never aborted by one of them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery, Value

from apps.accounts.models import Account
from apps.campaigns.models import Campaign
from apps.campaigns.services import campaign_lead_attach
from apps.leads.models import LeadCycle, LeadType
from apps.people.models import Contact
from apps.people.services import CONTACT_UPSERT_FIELDS, contact_upsert
from apps.routing.models import RoutingDecision
from apps.routing.services import lead_route
from sdrops.access import account_visible_to, accounts_visible_to, contacts_visible_to, user_sees_everything


@dataclass(frozen=True)
class LeadIntake:
    """What became of one lead. `contact`, `decision` and `cycle` are None when the caller
    may not know them (OUT_OF_SCOPE); `in_scope` says whether the rep and account the lead
    went to are the caller's to see (when not, entry points name neither)."""

    class Outcome(enum.StrEnum):
        ROUTED = "routed"
        OPEN_CYCLE = "open_cycle"
        OUT_OF_SCOPE = "out_of_scope"

    outcome: Outcome
    email: str
    contact: Contact | None = None
    contact_created: bool = False
    decision: RoutingDecision | None = None
    cycle: LeadCycle | None = None
    in_scope: bool = True

    @property
    def routed(self) -> bool:
        return self.outcome == self.Outcome.ROUTED

    @property
    def detail(self) -> str:
        """One sentence for the person or system that sent the lead."""
        if self.outcome == self.Outcome.OUT_OF_SCOPE:
            return (f"{self.email} is a lead outside your scope; it was neither changed nor routed "
                    "(ops or the contact's owner can route it).")
        if self.outcome == self.Outcome.OPEN_CYCLE:
            cycle = self.cycle
            who = cycle.rep if cycle.rep_id else "nobody"
            return (f"{self.email} already has an open lead cycle (cycle {cycle.number}, "
                    f"{cycle.get_state_display()}) with {who}; it was not routed again.")
        decision = self.decision
        if not self.in_scope:
            state = "assigned to a rep" if decision.rep_id else "waiting for a rep"
            return f"Routed: the lead belongs to a book outside your scope and is {state} there."
        if decision.rep_id:
            return f"Assigned to {decision.rep.owner_name}: {decision.explanation}"
        return f"{OUTCOME_DETAIL.get(decision.outcome, decision.get_outcome_display())} {decision.explanation}".strip()


OUTCOME_DETAIL = {
    RoutingDecision.Outcome.QUEUED: "Queued: the lead waits in a first-come queue for its reps to claim.",
    RoutingDecision.Outcome.UNMATCHED: "Not assigned: the lead could not be matched to an account and waits in the "
    "ops queue (admin → Routing decisions). Send account_domain with a webmail address.",
    RoutingDecision.Outcome.NO_REP: "Not assigned: no rep is available; the lead waits in the ops queue.",
}


def _company_wide(actor) -> bool:
    return actor is None or user_sees_everything(actor)


def lead_intake(
    *,
    actor,
    email: str,
    source: str = Contact.Source.INBOUND,
    lead_type: str = LeadType.INBOUND,
    account_domain: str = "",
    account: Account | None = None,
    campaign: Campaign | None = None,
    via: str = "api",
    **fields,
) -> LeadIntake:
    """Create or update the contact for `email` and route it, within `actor`'s scope.

    `fields` are contact_upsert's (first_name, last_name, title, persona, buying_role): given
    non-blank values overwrite. `account` (the admin's choice for a new contact) must be one
    the actor sees. Raises ValidationError only for bad input (a field too long, an unknown
    lead type, an account outside scope); a hidden contact or an open cycle is an outcome.

    `campaign` (apps.campaigns): the lead arrived with it — recorded as the contact's
    interaction with the campaign (`via`: api / csv / admin), and the cycle routing opens is
    linked to it (apps.campaigns.services.campaign_lead_attach). A lead with an open cycle
    still gets the interaction; a hidden one gets nothing.
    """
    email = (email or "").strip().lower()
    unknown = set(fields) - set(CONTACT_UPSERT_FIELDS)
    if unknown:
        raise ValidationError({field: "This field cannot be set here." for field in sorted(unknown)})
    if lead_type not in LeadType.values:
        raise ValidationError({"lead_type": f"Unknown lead type “{lead_type}”; expected one of {', '.join(LeadType.values)}."})
    everything = _company_wide(actor)
    if account is not None and not everything and not accounts_visible_to(user=actor).filter(pk=account.pk).exists():
        raise ValidationError({"account": f"No account with id {account.pk} in your scope."})
    with transaction.atomic():
        # One statement: lock the contact (if any), learn whether the actor sees it and
        # whether it has an open cycle; contact_upsert then asks nothing more.
        row = (
            Contact.objects.select_for_update(no_key=True, of=("self",))
            .filter(email=email)
            .annotate(
                visible=Value(True) if everything else Exists(contacts_visible_to(user=actor).filter(pk=OuterRef("pk"))),
                open_cycle_id=Subquery(LeadCycle.objects.filter(contact_id=OuterRef("pk")).open().values("pk")[:1]),
            )
            .first()
        )
        if row is not None and not row.visible:
            return LeadIntake(outcome=LeadIntake.Outcome.OUT_OF_SCOPE, email=email)
        contact, created = contact_upsert(email=email, source=source, actor=actor, existing=row, **fields)
        if created and account is not None:
            Contact.objects.filter(pk=contact.pk).update(account=account)
            contact.account = account
        if row is not None and row.open_cycle_id is not None:
            current = LeadCycle.objects.select_related("rep").get(pk=row.open_cycle_id)
            if campaign is not None:
                campaign_lead_attach(campaign=campaign, contact=contact, cycle=None, actor=actor, via=via)
            return LeadIntake(outcome=LeadIntake.Outcome.OPEN_CYCLE, email=email, contact=contact, cycle=current)
        decision = lead_route(contact=contact, actor=actor, account_domain=account_domain, lead_type=lead_type)
        # The cycle routing opened, if any (lead_route sets it on the decision).
        cycle = getattr(decision, "cycle", None)
        if campaign is not None:
            campaign_lead_attach(campaign=campaign, contact=contact, cycle=cycle, actor=actor, via=via)
    # The decision, its account (owner as routing left it), rep and rule are the objects
    # routing used: nothing is read again for the answer.
    in_scope = everything or decision.account is None or account_visible_to(user=actor, account=decision.account)
    return LeadIntake(outcome=LeadIntake.Outcome.ROUTED, email=email, contact=contact, contact_created=created,
                      decision=decision, cycle=cycle, in_scope=in_scope)


def lead_intake_message(result) -> str:
    """One line for the admin about a lead intake result (apps.routing.intake), naming only
    what the user may see."""
    if not result.routed or not result.in_scope:
        return result.detail
    decision = result.decision
    return (f"Routed: {decision.get_outcome_display()}"
            + (f" → {decision.rep}" if decision.rep else " (waiting in the ops queue)") + f" — {decision.explanation}")
