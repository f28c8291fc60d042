"""Campaign writes: a lead arriving with a campaign, a contact's touch with a campaign.

`campaign_lead_attach` is called by lead intake (apps.routing.intake.lead_intake) inside its
transaction, right after routing: the interaction is recorded, and when routing opened a
cycle the cycle is linked to the campaign, its SLA clock restarted on the offer's policy (if
ops keyed one on the offer) and the lead enrolled in the campaign's cadence.

Known limit: the `lead.assigned` webhook is written while the cycle opens, before the offer's
policy is applied, so its deadlines are the lead type's; the cycle itself (and the SLA check)
use the offer's.
"""

from __future__ import annotations

import contextlib
import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.cadences.models import Enrolment
from apps.cadences.services import enrolment_create
from apps.campaigns.models import Campaign, CampaignInteraction, OfferSlaPolicy
from apps.leads.business_hours import policy_deadline
from apps.leads.models import LeadCycle
from apps.people.models import Contact, Rep


def _user(actor):
    return actor.user if isinstance(actor, Rep) else actor if getattr(actor, "pk", None) else None


def campaign_interaction_record(
    *,
    campaign: Campaign,
    contact: Contact,
    actor=None,
    via: str = CampaignInteraction.Via.API,
    at: dt.datetime | None = None,
    cycle: LeadCycle | None = None,
) -> CampaignInteraction:
    """One touch of `contact` with `campaign` (with the cycle it opened, if it opened one)."""
    return CampaignInteraction.objects.create(
        campaign=campaign, contact=contact, lead_cycle=cycle, occurred_at=at or timezone.now(), via=via,
        actor=_user(actor),
    )


def _offer_policy(offer: str):
    row = OfferSlaPolicy.objects.select_related("policy").filter(offer=offer, policy__active=True).first()
    return row.policy if row else None


def campaign_sla_clock_apply(*, cycle: LeadCycle, campaign: Campaign) -> bool:
    """Restart the cycle's SLA deadlines on the policy keyed on the campaign's offer, from the
    same assigned-at. Only while nobody has touched it yet. Returns whether it changed."""
    policy = _offer_policy(campaign.offer)
    if policy is None or cycle.first_touch_at is not None:
        return False
    tz = cycle.rep.time_zone if cycle.rep_id else "UTC"
    cycle.sla_policy = policy
    cycle.sla_target_at = policy_deadline(policy, time_zone=tz, start=cycle.assigned_at, minutes=policy.target_minutes)
    cycle.sla_maximum_at = policy_deadline(policy, time_zone=tz, start=cycle.assigned_at, minutes=policy.maximum_minutes)
    LeadCycle.objects.filter(pk=cycle.pk).update(
        sla_policy=policy, sla_target_at=cycle.sla_target_at, sla_maximum_at=cycle.sla_maximum_at
    )
    return True


def campaign_lead_attach(
    *,
    campaign: Campaign,
    contact: Contact,
    cycle: LeadCycle | None,
    actor=None,
    via: str = CampaignInteraction.Via.API,
    at: dt.datetime | None = None,
) -> CampaignInteraction:
    """A lead arrived with `campaign`. `cycle` is the cycle this arrival opened (None when the
    lead was queued, unmatched or already had an open cycle: then it is an interaction only).
    """

    # Lazy: cadences.services imports people services that import routing; this module is
    # imported by routing's intake.

    with transaction.atomic():
        link = cycle if cycle is not None and not cycle.campaign_interactions.exists() else None
        interaction = campaign_interaction_record(campaign=campaign, contact=contact, actor=actor, via=via, at=at, cycle=link)
        if link is not None:
            _cycle_joins_campaign(cycle=link, campaign=campaign, actor=actor)
    return interaction


def _cycle_joins_campaign(*, cycle: LeadCycle, campaign: Campaign, actor=None) -> None:
    """The cycle's campaign name, the offer's SLA clock, the campaign's cadence."""
    LeadCycle.objects.filter(pk=cycle.pk).update(campaign=campaign.name[:200])
    cycle.campaign = campaign.name[:200]
    campaign_sla_clock_apply(cycle=cycle, campaign=campaign)
    cadence = campaign.cadence
    if (cadence is not None and cadence.active and cycle.rep_id
            and not Enrolment.objects.filter(contact_id=cycle.contact_id, state=Enrolment.State.ACTIVE).exists()):
        # A cadence without steps must not refuse the lead: the lead is routed and the rep
        # enrols it by hand (the campaign admin warns about such a cadence).
        with contextlib.suppress(ValidationError):
            enrolment_create(contact=cycle.contact, cadence=cadence, rep=cycle.rep, actor=actor, at=cycle.assigned_at)


def campaign_link_waiting(*, cycle: LeadCycle, since: dt.datetime, actor=None) -> CampaignInteraction | None:
    """A lead that waited for a rep (a first-come queue) got its cycle now: the latest campaign
    interaction it arrived with since it started waiting becomes the cycle's campaign."""
    with transaction.atomic():
        if cycle.campaign_interactions.exists():
            return None
        interaction = (CampaignInteraction.objects.select_for_update(of=("self",)).select_related("campaign__cadence")
                       .filter(contact_id=cycle.contact_id, lead_cycle__isnull=True, occurred_at__gte=since)
                       .order_by("-occurred_at", "-id").first())
        if interaction is None:
            return None
        interaction.lead_cycle = cycle
        interaction.save(update_fields=["lead_cycle"])
        _cycle_joins_campaign(cycle=cycle, campaign=interaction.campaign, actor=actor)
    return interaction


def campaign_by_reference(*, value) -> Campaign:
    """The campaign a lead names: its id, or its name (case-insensitive). Campaigns are company
    records every caller may see, so an unknown one is simply refused."""
    if value in (None, ""):
        raise ValidationError({"campaign": "Name a campaign."})
    text = str(value).strip()
    campaign = None
    # ASCII digits only ("²".isdigit() is true) and within a bigint, else it can only be a name.
    if text.isascii() and text.isdigit() and len(text) <= 18:
        campaign = Campaign.objects.filter(pk=int(text)).first()
    if campaign is None:
        campaign = Campaign.objects.filter(name__iexact=text).first()
    if campaign is None:
        raise ValidationError({"campaign": f"No campaign “{text[:100]}”: ops add campaigns in the admin (Campaigns)."})
    return campaign


# Cycles written in bulk with only the free-text campaign (the demo seed's COPY, an old
# import): the same statements as migration campaigns 0002, kept here for live callers.
SQL_CAMPAIGNS_FROM_TEXT = """
    INSERT INTO campaigns_campaign (name, source, channel, offer, goal, cost, description, created_at)
    SELECT DISTINCT ON (lower(btrim(c.campaign))) btrim(c.campaign), 'inbound', '', 'other', 'leads', 0,
           'Created from the free-text campaign of existing lead cycles.', now()
    FROM people_leadcycle c
    WHERE btrim(c.campaign) <> ''
    ORDER BY lower(btrim(c.campaign)), c.assigned_at, c.id
    ON CONFLICT DO NOTHING
"""
SQL_LINK_CYCLES_BY_TEXT = """
    INSERT INTO campaigns_campaigninteraction (campaign_id, contact_id, lead_cycle_id, occurred_at, via)
    SELECT k.id, c.contact_id, c.id, c.assigned_at, 'migration'
    FROM people_leadcycle c
    JOIN campaigns_campaign k ON lower(k.name) = lower(btrim(c.campaign))
    WHERE btrim(c.campaign) <> ''
    ON CONFLICT DO NOTHING
"""


def campaigns_from_free_text() -> int:
    """Campaign records for every free-text campaign of the lead cycles, and the cycles linked
    to them; safe to re-run. Returns the cycles linked now."""
    from django.db import connection

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(SQL_CAMPAIGNS_FROM_TEXT)
        cursor.execute(SQL_LINK_CYCLES_BY_TEXT)
        return cursor.rowcount
