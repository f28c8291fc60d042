"""What apps.routing does when other apps announce a change. Connected in
RoutingConfig.ready; dispatch_uid makes connecting idempotent."""

from __future__ import annotations

from django.dispatch import receiver

from apps.icps.events import signals_recorded
from apps.meetings.events import meeting_dispositioned
from apps.routing.services import credit_grant, signalled_accounts_route_later
from sdrops.events import after_commit


@receiver(signals_recorded, dispatch_uid="routing.route_signalled_accounts")
@after_commit
def route_signalled_accounts(sender, *, account_ids, **kwargs):
    """"Signals: accounts with new timing signals are routed continuously to reps with
    capacity" — a pool account a signal puts in the Good Place goes to a rep at once (a
    queued task, after the signal commits)."""
    signalled_accounts_route_later(account_ids)


@receiver(meeting_dispositioned, dispatch_uid="routing.credit_no_show")
def credit_no_show(sender, *, meeting, **kwargs):
    """A meeting the prospect did not show up to is not the SDR's doing: a credit (in the
    disposition's transaction, once per meeting)."""
    if meeting.status == meeting.Status.NO_SHOW and meeting.sdr_id:
        credit_grant(rep=meeting.sdr, reason="meeting_no_show", account=meeting.account, meeting=meeting,
                     note=f"Meeting {meeting.scheduled_at:%Y-%m-%d} not completed: no-show")
