"""Writes of the workspace: a user's own preferences."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.people.models import Rep
from apps.people.timezones import zone_choices
from apps.workspace.models import Profile
from sdrops.access import rep_for_user


def profile_time_zone_set(*, user, time_zone: str) -> Profile | None:
    """A user without a rep, or an ops admin, chooses the zone they read times in. An ops
    admin's is stored on their rep (ops hold no leads, so it drives no SLA clock); everyone
    else's rep zone is set by ops on the rep, because it runs their business hours and SLA
    deadlines too."""
    if time_zone not in {name for name, _ in zone_choices()}:
        raise ValidationError({"time_zone": f"Unknown time zone “{time_zone}”."})
    rep = rep_for_user(user)
    if rep is not None:
        if rep.role != Rep.Role.OPS:
            raise ValidationError({"time_zone": "Your time zone is your rep's; ops change it on the rep."})
        with transaction.atomic():
            locked = Rep.objects.select_for_update().get(pk=rep.pk)
            locked.time_zone = time_zone
            locked.save(update_fields=["time_zone"])
        rep.time_zone = time_zone
        return None
    with transaction.atomic():
        profile, _ = Profile.objects.select_for_update().get_or_create(user=user)
        profile.time_zone = time_zone
        profile.full_clean()
        profile.save(update_fields=["time_zone"])
    return profile
