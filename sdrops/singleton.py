"""The one shape of a settings model.

`SingletonSettings` is the one shape of a settings model: exactly one row, pk 1, backed by
a named `CheckConstraint(condition=Q(pk=1))` each subclass declares (a system check
refuses a subclass without it), read with `load()`, which always returns a saved row.

History: every settings model is tracked by django-pghistory (sdrops/models.py), whose
database triggers copy each insert and update into an event table — so a change made by
the admin, a service, a bulk `update()` or raw SQL is kept alike.
"""

from __future__ import annotations

from django.core import checks
from django.db import models
from django.db.models import Q


class SingletonSettings(models.Model):
    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)

    @classmethod
    def load(cls):
        """The one row, created with the defaults the first time (never an unsaved row)."""
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj

    @classmethod
    def check(cls, **kwargs):
        errors = super().check(**kwargs)
        single_row = [c for c in cls._meta.constraints
                      if isinstance(c, models.CheckConstraint) and c.condition == Q(pk=1)]
        if not cls._meta.abstract and not single_row:
            errors.append(checks.Error(
                f"{cls._meta.label} is a settings singleton without a CheckConstraint(condition=Q(pk=1)).",
                obj=cls, id="sdrops.E001",
            ))
        return errors
