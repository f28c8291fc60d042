"""django-q2 tasks: thin, id-taking, idempotent wrappers over apps.routing.services.

Delivery is at-least-once, so each must be safe twice: a distribution fills books only up
to capacity (a second run finds no open slots), a retrieval only takes accounts still
owned and inactive, rest processing marks each signal as added.
"""

from __future__ import annotations

from apps.people.models import Team
from apps.routing import services
from apps.routing.models import Distribution


def distribution_run_task(team_id: int | None = None, segment: str = "") -> int:
    """The weekly distribution; returns the number of accounts assigned."""

    team = Team.objects.get(pk=team_id) if team_id else None
    distribution = services.distribution_run(team=team, segment=segment or None)
    return distribution.lines.count()


def route_signalled_accounts(account_ids: list[int]) -> int:
    """Pool accounts a new timing signal put in the Good Place go to a rep now; returns how
    many were assigned (a second run finds them owned)."""
    return sum(1 for decision in services.accounts_route_signalled(account_ids=account_ids) if decision.rep_id)


def retrieval_run_task() -> int:
    """The daily retrieval (and the end of rest periods); returns accounts retrieved."""
    retrieved = services.retrieval_run()
    services.rest_periods_process()
    return len(retrieved)


def distribution_commit_task(distribution_id: int, user_id: int | None = None) -> int:
    from django.contrib.auth import get_user_model


    actor = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    distribution = services.distribution_commit(distribution=Distribution.objects.get(pk=distribution_id), actor=actor)
    return distribution.lines.count()
