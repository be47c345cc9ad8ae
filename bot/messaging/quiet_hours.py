"""Quiet hours: when a non-urgent message to a family must wait until the morning.

A quiet window is a pair of school-local whole hours `(start, end)`: messages created from
`start:00` wait until `end:00`. A window may cross midnight (20 → 8: evenings and nights) or
not (13 → 14: a lunch hour); `start == end` means no quiet hours at all. Hours are wall-clock
hours in the school's timezone, so a 20:00 start stays 20:00 across the clock changes.

Everything here is pure: the caller passes the current time and stores the answer in
`Message.not_before`. Urgent messages (staff's choice) skip this module entirely.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import NamedTuple
from zoneinfo import ZoneInfo


class QuietHours(NamedTuple):
    """A quiet window in local whole hours; equal hours mean "never quiet"."""

    start_hour: int
    end_hour: int


def zone(tz: str | ZoneInfo) -> ZoneInfo:
    """The ZoneInfo for a timezone name (ZoneInfo caches them); unknown names raise."""
    return tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)


def require_aware(moment: datetime, name: str = "time") -> datetime:
    """Return `moment` in UTC, refusing naive datetimes (they hide timezone bugs)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got a naive datetime")
    return moment.astimezone(timezone.utc)


def local_hour_to_utc(day: date, hour: int, tz: str | ZoneInfo) -> datetime:
    """The UTC instant of `hour:00` local time on `day`, correct across clock changes.

    On the spring-forward day a missing hour (01:00 in London) means the first moment after
    the gap (02:00 BST): zoneinfo's fold=0 reads a gap time with the earlier offset, which is
    exactly that. On the autumn day a repeated hour means its first occurrence.
    """
    local = datetime(day.year, day.month, day.day, hour, tzinfo=zone(tz))
    return local.astimezone(timezone.utc)


def _check_hours(start_hour: int, end_hour: int) -> None:
    for name, value in (("quiet_start_hour", start_hour), ("quiet_end_hour", end_hour)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 23:
            raise ValueError(f"{name} must be a whole hour from 0 to 23, got {value!r}")


def hour_is_quiet(hour: int, start_hour: int, end_hour: int) -> bool:
    """Whether a local wall-clock hour lies inside the quiet window."""
    _check_hours(start_hour, end_hour)
    if start_hour == end_hour:
        return False
    if start_hour < end_hour:
        return start_hour <= hour < end_hour
    return hour >= start_hour or hour < end_hour  # the window crosses midnight


def is_quiet(now_utc: datetime, tz: str | ZoneInfo, start_hour: int, end_hour: int) -> bool:
    """Whether `now_utc` falls inside the school-local quiet window."""
    local = require_aware(now_utc, "now_utc").astimezone(zone(tz))
    return hour_is_quiet(local.hour, start_hour, end_hour)


def next_allowed_time(now_utc: datetime, tz: str | ZoneInfo, quiet_start_hour: int,
                      quiet_end_hour: int) -> datetime:
    """`now_utc` if outside quiet hours, else the UTC instant the quiet window ends."""
    now_utc = require_aware(now_utc, "now_utc")
    local = now_utc.astimezone(zone(tz))
    if not hour_is_quiet(local.hour, quiet_start_hour, quiet_end_hour):
        return now_utc
    ends_on = local.date()
    if quiet_start_hour > quiet_end_hour and local.hour >= quiet_start_hour:
        ends_on += timedelta(days=1)  # the evening part of a window that ends tomorrow morning
    # Calendar arithmetic on the local date, then conversion: adding 24 hours to an instant
    # would land an hour off on the days the clocks change.
    release = local_hour_to_utc(ends_on, quiet_end_hour, tz)
    return max(release, now_utc)


def effective_quiet_hours(school, guardian=None) -> QuietHours:
    """The guardian's own quiet hours where set (e.g. a night-shift worker), else the school's.

    Each hour is overridden on its own, so a guardian who only set a later end hour keeps
    the school's start hour.
    """
    start = guardian.quiet_start_hour if guardian is not None else None
    end = guardian.quiet_end_hour if guardian is not None else None
    hours = QuietHours(
        school.quiet_start_hour if start is None else start,
        school.quiet_end_hour if end is None else end,
    )
    _check_hours(*hours)
    return hours
