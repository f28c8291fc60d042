"""The meeting flow's editable limits: every change recorded in MeetingSettingsChange."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.meetings import selectors
from apps.meetings.models import (
    MeetingSettings,
    MeetingSettingsChange,
)
from apps.people.actors import actor_user

logger = logging.getLogger(__name__)


SETTINGS_FIELDS = (
    "no_show_limit", "reschedule_touches", "reschedule_days", "disposition_due_hours",
    "default_duration_minutes", "opportunity_at_booking",
)


def meeting_settings_update(*, actor, **values) -> MeetingSettings:
    """Change the editable limits; each changed field leaves a MeetingSettingsChange row."""
    unknown = set(values) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown meeting setting(s): {', '.join(sorted(unknown))}.")
    selectors.meeting_settings_get()
    with transaction.atomic():
        row = MeetingSettings.objects.select_for_update().get(pk=1)
        changes = []
        for field, value in values.items():
            old = getattr(row, field)
            if old != value:
                setattr(row, field, value)
                changes.append(MeetingSettingsChange(
                    settings_row=row, field=field, old_value=str(old), new_value=str(value), actor=actor_user(actor)
                ))
        if not changes:
            return row
        row.full_clean()
        row.updated_at = timezone.now()
        row.save()
        MeetingSettingsChange.objects.bulk_create(changes)
    return row
