"""Campaign reads."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.campaigns.models import Alarm, CampaignInteraction, NurtureEntry
from apps.people.selectors import contacts_visible_to, scoped_rep_ids, user_sees_everything


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


def alarms_visible_to(*, user) -> QuerySet[Alarm]:
    """Alarms about the reps the user sees (a manager: their teams; ops: all)."""
    qs = Alarm.objects.select_related("rep", "manager")
    rep_ids = scoped_rep_ids(user=user)
    return qs if rep_ids is None else qs.filter(rep_id__in=rep_ids)
