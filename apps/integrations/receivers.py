"""What apps.integrations does when other apps announce a change: write the webhook outbox
inside the change's transaction, so a notification exists exactly when the change
committed. Connected in IntegrationsConfig.ready; dispatch_uid makes connecting idempotent."""

from __future__ import annotations

from django.dispatch import receiver

from apps.accounts.events import owners_changed
from apps.integrations.outbox import (
    outbox_write,
    outbox_write_meeting_dispositioned,
    outbox_write_owner_changes,
)
from apps.leads.events import lead_changed
from apps.meetings.events import meeting_dispositioned
from apps.routing.events import return_decided


@receiver(owners_changed, dispatch_uid="integrations.outbox_owner_changes")
def owner_changes_to_outbox(sender, *, events, **kwargs):
    outbox_write_owner_changes(events)


@receiver(return_decided, dispatch_uid="integrations.outbox_return_decided")
def return_decided_to_outbox(sender, *, event_type, build_data, occurred_at, **kwargs):
    outbox_write(event_type=event_type, build_data=build_data, occurred_at=occurred_at)


@receiver(meeting_dispositioned, dispatch_uid="integrations.outbox_meeting_dispositioned")
def meeting_dispositioned_to_outbox(sender, *, meeting, **kwargs):
    outbox_write_meeting_dispositioned(meeting)


@receiver(lead_changed, dispatch_uid="integrations.outbox_lead_changed")
def lead_changed_to_outbox(sender, *, event_type, build_data, occurred_at, **kwargs):
    outbox_write(event_type=event_type, build_data=build_data, occurred_at=occurred_at)
