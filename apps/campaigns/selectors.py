"""Campaign reads."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.campaigns.models import CampaignInteraction
from apps.people.selectors import contacts_visible_to, user_sees_everything


def campaign_interactions_visible_to(*, user) -> QuerySet[CampaignInteraction]:
    """Interactions of the contacts the user sees (campaigns themselves are company records)."""
    qs = CampaignInteraction.objects.select_related("campaign", "contact", "lead_cycle")
    if user_sees_everything(user):
        return qs
    return qs.filter(contact__in=contacts_visible_to(user=user))
