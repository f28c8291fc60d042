"""What apps.cadences does when other apps announce a change: an account's open follow-up
tasks move with it to its new owner (apps.cadences.follow_ups.follow_ups_follow_owner), inside
the ownership transaction. Connected in CadencesConfig.ready; dispatch_uid keeps it once."""

from __future__ import annotations

from django.dispatch import receiver

from apps.accounts.events import owners_changed
from apps.cadences.follow_ups import follow_ups_follow_owner


@receiver(owners_changed, dispatch_uid="cadences.follow_ups_follow_owner")
def follow_ups_move_with_owner(sender, *, events, first_owners=False, **kwargs):
    if not first_owners:  # new accounts' first owners: no task to move (and no events to read back)
        follow_ups_follow_owner(events=events)
