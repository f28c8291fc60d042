"""Writes of the workspace: a user's own preferences."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.people.timezones import zone_choices
from apps.workspace.models import Profile


def profile_time_zone_set(*, user, time_zone: str) -> Profile:
    """A user without a rep chooses the zone they read times in (a rep's zone lives on the
    rep, set by ops, because it also drives their business hours and SLA clocks)."""
    if time_zone not in {name for name, _ in zone_choices()}:
        raise ValidationError({"time_zone": f"Unknown time zone “{time_zone}”."})
    with transaction.atomic():
        profile, _ = Profile.objects.select_for_update().get_or_create(user=user)
        profile.time_zone = time_zone
        profile.full_clean()
        profile.save(update_fields=["time_zone"])
    return profile
