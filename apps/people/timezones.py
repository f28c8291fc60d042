"""Whose clock a time is read on: the one place that turns a rep into a time zone.

Reps work in their own zone (`Rep.time_zone`, which also drives business hours and SLA
clocks); the morning email, the today list, SLA mails and the meetings admin read it here.
(Engineer "ux" extends this module with the viewer's zone and zone-named rendering.)
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def zone_named(name: str | None) -> dt.tzinfo:
    """A ZoneInfo for a stored name; an empty or unknown name (a typo in an import) is UTC
    rather than an error on every page the person opens."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def rep_zone(rep) -> dt.tzinfo:
    return zone_named(getattr(rep, "time_zone", None))
