"""Campaign reads."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.campaigns.models import CampaignInteraction, NurtureEntry
from apps.people.selectors import contacts_visible_to, user_sees_everything


def campaign_interactions_visible_to(*, user) -> QuerySet[CampaignInteraction]:
    """Interactions of the contacts the user sees (campaigns themselves are company records)."""
    qs = CampaignInteraction.objects.select_related("campaign", "contact", "lead_cycle")
    if user_sees_everything(user):
        return qs
    return qs.filter(contact__in=contacts_visible_to(user=user))


def nurture_entries_visible_to(*, user) -> QuerySet[NurtureEntry]:
    qs = NurtureEntry.objects.select_related("contact", "program", "new_cycle")
    if user_sees_everything(user):
        return qs
    return qs.filter(contact__in=contacts_visible_to(user=user))
