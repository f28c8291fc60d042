"""Counting time on an SLA policy's clock: calendar hours, or business hours in the rep's
time zone (working days, working hours, public holidays from the `holidays` package)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import holidays

from apps.people.timezones import zone_named

# A business-hours deadline further than this is a configuration error (e.g. no working days).
_MAX_DAYS = 3660


@lru_cache(maxsize=64)
def _holiday_calendar(country: str, subdivision: str):
    if not country:
        return None
    return holidays.country_holidays(country.upper(), subdiv=subdivision or None)


@dataclass(frozen=True)
class BusinessCalendar:
    tz: dt.tzinfo
    start: dt.time
    end: dt.time
    working_days: tuple[int, ...]
    holiday_country: str = ""
    holiday_subdivision: str = ""

    @classmethod
    def for_policy(cls, policy, *, time_zone: str) -> BusinessCalendar:
        return cls(
            tz=zone_named(time_zone),
            start=policy.business_start,
            end=policy.business_end,
            working_days=policy.working_day_numbers(),
            holiday_country=policy.holiday_country,
            holiday_subdivision=policy.holiday_subdivision,
        )

    def is_business_day(self, day: dt.date) -> bool:
        if day.weekday() not in self.working_days:
            return False
        calendar = _holiday_calendar(self.holiday_country, self.holiday_subdivision)
        return calendar is None or day not in calendar

    def _window(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        # Local wall-clock times made aware in the rep's zone; DST days get their real length.
        return (
            dt.datetime.combine(day, self.start, tzinfo=self.tz),
            dt.datetime.combine(day, self.end, tzinfo=self.tz),
        )

    def elapsed(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        """Business time between two instants (zero if end is not after start)."""
        if end <= start:
            return dt.timedelta(0)
        total = dt.timedelta(0)
        day = start.astimezone(self.tz).date()
        last = end.astimezone(self.tz).date()
        while day <= last:
            if self.is_business_day(day):
                open_at, close_at = self._window(day)
                lo, hi = max(open_at, start), min(close_at, end)
                if hi > lo:
                    total += hi - lo
            day += dt.timedelta(days=1)
        return total

    def add(self, start: dt.datetime, amount: dt.timedelta) -> dt.datetime:
        """The instant `amount` of business time after `start`."""
        remaining = amount
        day = start.astimezone(self.tz).date()
        for _ in range(_MAX_DAYS):
            if self.is_business_day(day):
                open_at, close_at = self._window(day)
                lo = max(open_at, start)
                if close_at > lo:
                    if lo + remaining <= close_at:
                        return lo + remaining
                    remaining -= close_at - lo
            day += dt.timedelta(days=1)
        raise ValueError("The business calendar has no working time; check the policy's working days.")


def policy_elapsed(policy, *, time_zone: str, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    if policy is None or policy.clock == "calendar":
        return max(end - start, dt.timedelta(0))
    return BusinessCalendar.for_policy(policy, time_zone=time_zone).elapsed(start, end)


def policy_deadline(policy, *, time_zone: str, start: dt.datetime, minutes: int) -> dt.datetime:
    amount = dt.timedelta(minutes=minutes)
    if policy.clock == "calendar":
        return start + amount
    return BusinessCalendar.for_policy(policy, time_zone=time_zone).add(start, amount)


def holidays_between(country: str, subdivision: str, first: dt.date, last: dt.date) -> list[dt.date]:
    """The public holidays of `country` (and subdivision) from `first` to `last` inclusive."""
    calendar = _holiday_calendar(country, subdivision)
    return [] if calendar is None else sorted(calendar[first:last + dt.timedelta(days=1)])
