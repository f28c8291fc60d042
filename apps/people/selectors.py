"""Who a user is in the organisation, and which reps' records they may see."""

from __future__ import annotations

from apps.people.models import Rep


def manager_of(rep: Rep | None) -> Rep | None:
    """The manager who hears about `rep`'s work: their team's manager, else their own."""
    if rep is None:
        return None
    if rep.team_id and rep.team.manager_id:
        return rep.team.manager
    return rep.manager


def rep_by_owner_name(owner_name: str) -> Rep | None:
    """The rep a CRM's `company_owner` names: case and runs of spaces are ignored."""
    cleaned = normalize_owner_name(owner_name)
    if not cleaned:
        return None
    return Rep.objects.filter(owner_name__iexact=cleaned).first()


def normalize_owner_name(owner_name: str) -> str:
    return " ".join((owner_name or "").split())
