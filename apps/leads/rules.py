"""Who may do what with a lead, beyond the model permissions: one place for each rule, used
by the services (which enforce it) and the screens (which offer the choice)."""

from __future__ import annotations

from apps.people.models import Rep
from sdrops.access import rep_for_user


def may_qualify_without_evidence(user) -> bool:
    """A lead is qualified on a meeting or an opportunity; without either, only a manager, ops
    or a superuser may qualify it (the override is recorded on the cycle)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    rep = rep_for_user(user)
    return rep is not None and rep.role in (Rep.Role.MANAGER, Rep.Role.OPS)


def may_mark_exception(user) -> bool:
    """Taking a lead cycle out of the numbers (and putting it back) is a manager's or ops'
    call, never the rep's own: the numbers are the rep's performance."""
    return may_qualify_without_evidence(user)
