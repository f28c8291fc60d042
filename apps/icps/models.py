from __future__ import annotations

from django.db import models
from django.utils import timezone


class ICP(models.Model):
    """An ideal customer profile: qualifiers and weighted scoring rules (see services)."""

    name = models.CharField(max_length=120, unique=True)
    active = models.BooleanField(default=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "ICP"
        verbose_name_plural = "ICPs"

    def __str__(self) -> str:
        return self.name
