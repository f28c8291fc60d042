"""Who did it: services take `actor` as a user, a rep (acting as their user) or nothing / the
system (None, or anything without a primary key such as AnonymousUser). Audit columns
(`actor`, `created_by`, `reviewed_by`, …) hold the user; this is the one conversion."""

from __future__ import annotations

from apps.people.models import Rep


def actor_user(actor):
    """The user behind `actor`, or None for the system."""
    if isinstance(actor, Rep):
        return actor.user
    return actor if getattr(actor, "pk", None) else None


def actor_scope_user(actor):
    """The user whose scope applies to what `actor` may see: None only for the system (no
    actor), a rep's user, else the actor itself — so an anonymous or unsaved user sees
    nothing rather than everything (fail closed, unlike the audit column's None)."""
    if actor is None:
        return None
    return actor.user if isinstance(actor, Rep) else actor
