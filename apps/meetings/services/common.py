"""Small helpers the meeting services share."""

from __future__ import annotations

import datetime as dt
import logging

from apps.people.timezones import when

logger = logging.getLogger(__name__)


def _fmt(value: dt.datetime) -> str:
    return when(value)
