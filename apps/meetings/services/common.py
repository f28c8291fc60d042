"""Small helpers the meeting services share."""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone

from apps.people.models import Rep

logger = logging.getLogger(__name__)


def _user(actor):
    """Services accept a user or a rep as actor; audit columns hold the user."""
    if isinstance(actor, Rep):
        return actor.user
    return actor if getattr(actor, "pk", None) else None


def _fmt(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
