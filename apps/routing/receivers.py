"""What apps.routing does when other apps announce a change. Connected in
RoutingConfig.ready; dispatch_uid makes connecting idempotent."""

from __future__ import annotations

from django.dispatch import receiver

from apps.icps.events import signals_recorded
from apps.routing.services import signalled_accounts_route_later
from sdrops.events import after_commit


@receiver(signals_recorded, dispatch_uid="routing.route_signalled_accounts")
@after_commit
def route_signalled_accounts(sender, *, account_ids, **kwargs):
    """"Signals: accounts with new timing signals are routed continuously to reps with
    capacity" — a pool account a signal puts in the Good Place goes to a rep at once (a
    queued task, after the signal commits)."""
    signalled_accounts_route_later(account_ids)
