"""When the next check-in falls: every N weeks after the last, in term time, at the school's hour.

Pure: callers pass the current time. A date in a school holiday moves to the first school day
after it (so nothing is sent in holidays), and a weekend to the Monday: families hear from the
school on school days, when the SEND team is in to answer.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.messaging.quiet_hours import local_hour_to_utc, require_aware, zone

DEFAULT_EVERY_WEEKS = 3
MIN_EVERY_WEEKS, MAX_EVERY_WEEKS = 1, 12
DEFAULT_HOUR = 16  # after pick-up, while staff are still in school
MAX_DAYS_AHEAD = 400  # a holiday list that never ends is a typo, not a reason to loop forever


@dataclass(frozen=True)
class Holiday:
    """A school holiday, first and last day inclusive."""

    first_day: date
    last_day: date

    def covers(self, day: date) -> bool:
        """Whether `day` falls in this holiday."""
        return self.first_day <= day <= self.last_day


def is_school_day(day: date, holidays: list[Holiday]) -> bool:
    """A weekday outside every holiday."""
    return day.weekday() < 5 and not any(holiday.covers(day) for holiday in holidays)


def first_school_day(day: date, holidays: list[Holiday]) -> date:
    """`day` itself if it is a school day, else the next one."""
    for _ in range(MAX_DAYS_AHEAD):
        if is_school_day(day, holidays):
            return day
        day += timedelta(days=1)
    raise ValueError("no school day in the next year: check the holiday dates")


def next_checkin_at(last_utc: datetime, every_weeks: int, hour: int, holidays: list[Holiday], tz: str,
                    now_utc: datetime) -> datetime:
    """The next check-in `every_weeks` after `last_utc` (the last check-in, or when the targets were
    shared), on a school day at `hour`:00 local time; never in the past."""
    if not MIN_EVERY_WEEKS <= every_weeks <= MAX_EVERY_WEEKS:
        raise ValueError(f"every_weeks must be from {MIN_EVERY_WEEKS} to {MAX_EVERY_WEEKS}")
    now = require_aware(now_utc, "now_utc")
    day = require_aware(last_utc, "last_utc").astimezone(zone(tz)).date() + timedelta(weeks=every_weeks)
    today = now.astimezone(zone(tz)).date()
    if day < today:
        day = today  # overdue (targets shared long ago, or the rhythm shortened): the next school day
    day = first_school_day(day, holidays)
    due = local_hour_to_utc(day, hour, tz)
    if due < now:
        due = local_hour_to_utc(first_school_day(day + timedelta(days=1), holidays), hour, tz)
    return due
