from __future__ import annotations

from django.conf import settings
from django.db import models


class Profile(models.Model):
    """Per-user preferences that are not part of a rep's record. A user with a rep reads
    times in the rep's zone (it also drives their SLA clocks; an ops admin sets theirs on the
    profile page, stored on the rep); the zone here is for users without a rep (consultants,
    superusers)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="workspace_profile")
    time_zone = models.CharField(max_length=64, blank=True, default="",
                                 help_text="Times on pages, in forms, emails and CSVs are shown in this zone.")

    def __str__(self) -> str:
        return f"Profile of {self.user}"
