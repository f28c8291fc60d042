"""Who a user is in the organisation, and which reps' records they may see."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from apps.people.models import Contact, Rep


def rep_for_user(user) -> Rep | None:
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.rep
    except Rep.DoesNotExist:
        return None


def user_sees_everything(user) -> bool:
    """Superusers and ops admins see every record; everyone else is scoped."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    rep = rep_for_user(user)
    return rep is not None and rep.role == Rep.Role.OPS


def manager_of(rep: Rep | None) -> Rep | None:
    """The manager who hears about `rep`'s work: their team's manager, else their own."""
    if rep is None:
        return None
    if rep.team_id and rep.team.manager_id:
        return rep.team.manager
    return rep.manager


def reps_managed_by(*, rep: Rep) -> QuerySet[Rep]:
    """A manager's people: members of the teams they manage and their direct reports."""
    return Rep.objects.filter(Q(team__manager=rep) | Q(manager=rep)).distinct()


def scoped_rep_ids(*, user) -> set[int] | None:
    """The reps whose records `user` may see; None means no limit (ops)."""
    if user_sees_everything(user):
        return None
    rep = rep_for_user(user)
    if rep is None:
        return set()
    ids = {rep.pk}
    if rep.role == Rep.Role.MANAGER:
        ids.update(reps_managed_by(rep=rep).values_list("pk", flat=True))
    return ids


def reps_visible_to(*, user) -> QuerySet[Rep]:
    ids = scoped_rep_ids(user=user)
    qs = Rep.objects.all()
    return qs if ids is None else qs.filter(pk__in=ids)


def contacts_visible_to(*, user) -> QuerySet[Contact]:
    from apps.accounts.selectors import accounts_visible_to

    qs = Contact.objects.all()
    if user_sees_everything(user):
        return qs
    return qs.filter(account__in=accounts_visible_to(user=user))


def rep_by_owner_name(owner_name: str) -> Rep | None:
    """The rep a CRM's `company_owner` names: case and runs of spaces are ignored."""
    cleaned = normalize_owner_name(owner_name)
    if not cleaned:
        return None
    return Rep.objects.filter(owner_name__iexact=cleaned).first()


def normalize_owner_name(owner_name: str) -> str:
    return " ".join((owner_name or "").split())
