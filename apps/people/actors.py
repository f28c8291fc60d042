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
