"""Whose clock a time is read on: the one place that turns a rep or a user into a time zone
and a stored (UTC) datetime into words with the zone named, e.g. "2026-12-01 15:00 EST".

Reps work in their own zone (`Rep.time_zone`, which also drives business hours and SLA
clocks; an ops admin sets theirs on the profile page). Users without a rep pick one on their profile
(apps.workspace.models.Profile); failing that, the server's TIME_ZONE. Pages get the viewer's
zone activated for the whole request (apps.workspace.middleware), so Django's own rendering,
form parsing and the `when` filter all agree; emails and CSVs call `when(value, tz=...)` with
the reader's zone explicitly, because no request is active when a worker sends them.
"""

from __future__ import annotations

import datetime as dt
import functools
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone

from sdrops.access import rep_for_user


def zone_named(name: str | None) -> dt.tzinfo:
    """A ZoneInfo for a stored name; an empty or unknown name (a typo in an import) is UTC
    rather than an error on every page the person opens."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def rep_zone(rep) -> dt.tzinfo:
    return zone_named(getattr(rep, "time_zone", None))


def user_zone_is_personal(user) -> bool:
    """Whether the user picks their own zone on their profile: users without a rep and ops
    (who hold no leads). Everyone else reads times on their rep's clock, the one their
    business hours and SLA deadlines run on, so the two never disagree."""
    rep = rep_for_user(user)
    return rep is None or rep.role == rep.Role.OPS


def user_zone(user) -> dt.tzinfo:
    """The zone a user reads times in: their rep's (an ops admin sets their own on the profile
    page, stored on their rep), else their profile's, else the server's. Django caches the
    related lookups on the user object, so a page pays for them once (users with a rep: no
    query beyond the rep the auth middleware's user already brings)."""
    rep = rep_for_user(user)
    if rep is not None:
        return rep_zone(rep)
    if getattr(user, "is_authenticated", False):
        try:
            profile = user.workspace_profile
        except ObjectDoesNotExist:
            profile = None
        if profile is not None and profile.time_zone:
            return zone_named(profile.time_zone)
    return zone_named(settings.TIME_ZONE)


def zone_label(value: dt.datetime, tz: dt.tzinfo | None = None) -> str:
    """The short name of the zone at that moment ("EST" in winter, "EDT" in summer); zones
    without an abbreviation ("+03") are named by their key instead, which people recognise."""
    tz = tz or timezone.get_current_timezone()
    name = value.astimezone(tz).tzname() or ""
    if name[:1] in "+-" and hasattr(tz, "key"):
        return tz.key
    return name


FORMATS = {
    "datetime": "%Y-%m-%d %H:%M",
    "date": "%Y-%m-%d",
    "time": "%H:%M",
    "long": "%a %d %b %Y, %H:%M",
}


def when(value: dt.datetime | None, tz: dt.tzinfo | None = None, *, style: str = "datetime") -> str:
    """A stored datetime in the reader's zone with that zone named: "2026-12-01 15:00 EST".
    `tz` defaults to the active zone (the viewer's, on a page). Dates alone carry no zone."""
    if value is None:
        return ""
    if not isinstance(value, dt.datetime):
        return value.strftime(FORMATS["date"])
    tz = tz or timezone.get_current_timezone()
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    local = value.astimezone(tz)
    text = local.strftime(FORMATS.get(style, style))
    if style == "date":
        return text
    return f"{text} {zone_label(value, tz)}"


@functools.cache
def zone_choices() -> tuple[tuple[str, str], ...]:
    """Every IANA zone name, for a profile's select box. Read once a process: listing them walks
    the zone database's directory tree (30 ms a page)."""
    return tuple((name, name.replace("_", " ")) for name in sorted(available_timezones()) if "/" in name or name == "UTC")
