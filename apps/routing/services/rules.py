"""The rules of engagement, capacity and routing rules: every change recorded in RulesChange."""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction

from apps.people.actors import actor_user
from apps.routing.models import (
    RulesChange,
)

logger = logging.getLogger(__name__)


def _plain(value):
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, int | float | str | bool | dict):
        return value
    return str(value)


def rules_save(*, instance, actor=None, fields: list[str] | None = None):
    """Save a rules-of-engagement, capacity or routing-rule object and record what changed
    (field → [old, new]) in RulesChange, in one transaction."""
    model = type(instance)
    names = fields or [f.attname for f in model._meta.concrete_fields if not f.primary_key]
    with transaction.atomic():
        old = model.objects.filter(pk=instance.pk).values(*names).first() if instance.pk else None
        instance.full_clean()
        instance.save()
        new = {name: getattr(instance, name) for name in names}
        if old is None:
            changes = {name: [None, _plain(value)] for name, value in new.items()}
            action = "added"
        else:
            changes = {name: [_plain(old[name]), _plain(new[name])] for name in names if _plain(old[name]) != _plain(new[name])}
            action = "changed"
        if changes:
            RulesChange.objects.create(
                object_type=model._meta.verbose_name, object_id=instance.pk, object_repr=str(instance)[:200],
                action=action, changes=changes, actor=actor_user(actor),
            )
    return instance


def rules_delete(*, instance, actor=None) -> None:
    with transaction.atomic():
        RulesChange.objects.create(
            object_type=type(instance)._meta.verbose_name, object_id=instance.pk, object_repr=str(instance)[:200],
            action="deleted", changes={}, actor=actor_user(actor),
        )
        instance.delete()
