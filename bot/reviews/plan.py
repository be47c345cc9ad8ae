"""The review reminder plan: which messages a family gets before a SEND review, and when.

A plan is a list of steps `PlanStep(kind, days_before, hour)`: "send `kind` on the local date
`days_before` days before the review, at `hour`:00 school time". Kinds are
"contribution_request" (asks for the parent's views, which need time to gather) and
"reminder". A school may store its own plan as JSON in `School.reminder_plan`:
`[{"kind": "reminder", "days_before": 7, "hour": 10}, ...]`.

The default hours avoid the school run (about 08:00–09:15 and 14:45–15:45), the evening
and bedtime, and fall while the SEND team is in school to answer a reply the same day:

- 14 days before at 10:00: the contribution request. Children are in class, the office is
  open, and a parent has two weeks to think, talk to the child and answer.
- 7 days before at 10:00: a reminder, early enough to book time off work or childcare.
- 1 day before at 16:00: after pick-up, before tea and bedtime, and while staff are still on
  site to rearrange if the parent says they cannot come.

Everything here is pure: callers pass the current time. Staff type and read review dates day
first, the UK way: `parse_uk_datetime` and `format_uk_datetime` at the end of this module.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Sequence

from bot.messaging.quiet_hours import hour_is_quiet, local_hour_to_utc, require_aware, zone

KINDS = ("contribution_request", "reminder")
MAX_DAYS_BEFORE = 120


@dataclass(frozen=True)
class PlanStep:
    """One step of a plan: send `kind` `days_before` days ahead, at `hour`:00 local time."""

    kind: str
    days_before: int
    hour: int


@dataclass(frozen=True)
class PlannedReminder:
    """A step placed in time. `skip_reason` set means it will never be sent (and says why)."""

    kind: str
    days_before: int
    due_at_utc: datetime
    skip_reason: str | None = None


# A tuple, not a list: a module-level default that someone appends to changes every school.
DEFAULT_PLAN: tuple[PlanStep, ...] = (
    PlanStep("contribution_request", 14, 10),
    PlanStep("reminder", 7, 10),
    PlanStep("reminder", 1, 16),
)

# A parent needs time to gather views; closer than this, asking for them is pointless.
LATE_REQUEST_MIN_LEAD = timedelta(days=2)
# A reminder sent later than planned still helps if the review is at least this far off.
LATE_REMINDER_MIN_LEAD = timedelta(hours=2)
# A contribution request names the date; a reminder right after it is noise.
MIN_GAP_AFTER_LATE_REQUEST = timedelta(hours=24)
# A planned message whose time passed more than this long ago (worker down) is not sent late.
DEFAULT_GRACE = timedelta(hours=6)

SKIP_AFTER_REVIEW = "Would fall after the review starts."
SKIP_TOO_LATE_FOR_REQUEST = "The review is less than 2 days away: too late to ask for the family's views in advance."
SKIP_ALREADY_REQUESTED = "The family has already been asked for their views for this review."
SKIP_SUPERSEDED = "A later reminder about the same review replaces it."
SKIP_COVERED_BY_REQUEST = "The request for the family's views, sent shortly before, already gives the date."
SKIP_REVIEW_TOO_SOON = "The review starts in less than 2 hours: too late for a reminder."
SKIP_STALE = "Its time passed long ago (the system was not running): not sent late."


class PlanError(ValueError):
    """A reminder plan that cannot be used, with a message that says what to fix."""


def parse_plan(raw: str | list | None, quiet_hours: tuple[int, int] | None = None) -> list[PlanStep]:
    """Validate a stored plan (JSON text or list); None means the default plan."""
    if raw is None:
        return list(DEFAULT_PLAN)
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as error:
            raise PlanError(f"the reminder plan is not valid JSON: {error.msg}") from None
    if not isinstance(raw, list):
        raise PlanError("the reminder plan must be a JSON list of steps")
    steps = [_parse_step(index, item, quiet_hours) for index, item in enumerate(raw, start=1)]
    days = [step.days_before for step in steps]
    if len(days) != len(set(days)):
        raise PlanError("two steps fall on the same day before the review: families would get two messages that day")
    if sum(step.kind == "contribution_request" for step in steps) > 1:
        raise PlanError("a plan may ask for the family's views only once")
    return sorted(steps, key=lambda step: -step.days_before)


def _parse_step(index: int, item, quiet_hours: tuple[int, int] | None) -> PlanStep:
    if not isinstance(item, dict) or set(item) != {"kind", "days_before", "hour"}:
        raise PlanError(f"step {index} must be an object with exactly kind, days_before and hour")
    kind, days, hour = item["kind"], item["days_before"], item["hour"]
    if kind not in KINDS:
        raise PlanError(f"step {index}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if not _is_int(days) or not 0 <= days <= MAX_DAYS_BEFORE:
        raise PlanError(f"step {index}: days_before must be a whole number from 0 to {MAX_DAYS_BEFORE}")
    if not _is_int(hour) or not 0 <= hour <= 23:
        raise PlanError(f"step {index}: hour must be a whole hour from 0 to 23")
    if quiet_hours is not None and hour_is_quiet(hour, *quiet_hours):
        raise PlanError(f"step {index}: {hour}:00 is inside the school's quiet hours")
    return PlanStep(kind, days, hour)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def plan_reminders(review_starts_at_utc: datetime, school_tz: str, plan: Sequence[PlanStep],
                   now_utc: datetime, contribution_already_requested: bool = False) -> list[PlannedReminder]:
    """Place each plan step in time for one review, deciding now what late steps become.

    Each step is due on the local date (review date − days_before) at its hour, converted to
    UTC through the school's timezone (so 10:00 stays 10:00 across clock changes). Then:

    1. A step due at or after the review's start never happens (SKIP_AFTER_REVIEW).
    2. A step still in the future keeps its time.
    3. A contribution request whose time has passed (the review was booked late) goes out now
       if the review is at least 2 days away; otherwise it is skipped. It is also skipped if
       the family was already asked for this review (e.g. the review was moved).
    4. A reminder whose time has passed is skipped if a later reminder is still to come
       (SKIP_SUPERSEDED). If none is, the latest passed reminder goes out now when the review
       is at least 2 hours away, else it is skipped.
    5. A reminder due within 24 hours after a contribution request that goes out late is
       skipped: that request already gives the date.

    "Now" means `now_utc`; quiet hours still apply when it is sent. One entry per plan step,
    earliest due first; skipped entries keep the time they would have had.
    """
    starts_at = require_aware(review_starts_at_utc, "review_starts_at_utc")
    now = require_aware(now_utc, "now_utc")
    review_day = starts_at.astimezone(zone(school_tz)).date()
    placed = [(step, local_hour_to_utc(review_day - timedelta(days=step.days_before), step.hour, school_tz))
              for step in plan]
    reminders = [due for step, due in placed if step.kind == "reminder" and due < starts_at]
    future_reminder_exists = any(due >= now for due in reminders)
    latest_passed_reminder = max((due for due in reminders if due < now), default=None)
    late_request_at = None
    planned = []
    for step, due in placed:
        if due >= starts_at:
            planned.append(PlannedReminder(step.kind, step.days_before, due, SKIP_AFTER_REVIEW))
        elif step.kind == "contribution_request":
            reminder = _place_request(step, due, starts_at, now, contribution_already_requested)
            if reminder.skip_reason is None and due < now:
                late_request_at = now
            planned.append(reminder)
        elif due >= now:
            planned.append(PlannedReminder(step.kind, step.days_before, due))
        elif future_reminder_exists or due != latest_passed_reminder:
            planned.append(PlannedReminder(step.kind, step.days_before, due, SKIP_SUPERSEDED))
        elif starts_at - now < LATE_REMINDER_MIN_LEAD:
            planned.append(PlannedReminder(step.kind, step.days_before, due, SKIP_REVIEW_TOO_SOON))
        else:
            planned.append(PlannedReminder(step.kind, step.days_before, now))
    if late_request_at is not None:
        planned = [_covered_by_request(reminder, late_request_at) for reminder in planned]
    return sorted(planned, key=lambda reminder: (reminder.due_at_utc, -reminder.days_before))


def _place_request(step: PlanStep, due: datetime, starts_at: datetime, now: datetime,
                   already_requested: bool) -> PlannedReminder:
    if already_requested:
        return PlannedReminder(step.kind, step.days_before, due, SKIP_ALREADY_REQUESTED)
    if due >= now:
        return PlannedReminder(step.kind, step.days_before, due)
    if starts_at - now >= LATE_REQUEST_MIN_LEAD:
        return PlannedReminder(step.kind, step.days_before, now)
    return PlannedReminder(step.kind, step.days_before, due, SKIP_TOO_LATE_FOR_REQUEST)


def _covered_by_request(reminder: PlannedReminder, request_at: datetime) -> PlannedReminder:
    if (reminder.kind == "reminder" and reminder.skip_reason is None
            and reminder.due_at_utc < request_at + MIN_GAP_AFTER_LATE_REQUEST):
        return replace(reminder, skip_reason=SKIP_COVERED_BY_REQUEST)
    return reminder


def is_stale(due_at: datetime, now: datetime, grace: timedelta = DEFAULT_GRACE) -> bool:
    """Whether a planned message's time passed more than `grace` ago (skip it, don't send late)."""
    return require_aware(now, "now") - require_aware(due_at, "due_at") > grace


def send_time_skip_reason(kind: str, due_at: datetime, review_starts_at: datetime, now: datetime,
                          grace: timedelta = DEFAULT_GRACE) -> str | None:
    """Why a planned reminder must not be sent now (None: send it), judged when the worker picks it up.

    Judge this when moving a reminder from planned to queued, not when a quiet-hours hold ends:
    a 19:30 reminder held until 08:00 was on time. A stale contribution request still goes if
    the family would have 2 days to answer, so a day's outage does not lose the request.
    """
    starts_at, now = require_aware(review_starts_at, "review_starts_at"), require_aware(now, "now")
    if starts_at - now < LATE_REMINDER_MIN_LEAD:
        return SKIP_AFTER_REVIEW if now >= starts_at else SKIP_REVIEW_TOO_SOON
    if not is_stale(due_at, now, grace):
        return None
    if kind == "contribution_request" and starts_at - now >= LATE_REQUEST_MIN_LEAD:
        return None
    return SKIP_STALE


_DAY_FIRST = re.compile(r"(?P<day>\d{1,2})[/.\-](?P<month>\d{1,2})[/.\-](?P<year>\d+)")
_YEAR_FIRST = re.compile(r"(?P<year>\d{4})[/\-](?P<month>\d{1,2})[/\-](?P<day>\d{1,2})")
_TIME = re.compile(r"(?P<hour>\d{1,2})(?:[:.](?P<minute>\d{2}))?\s*(?:(?P<half>[ap])\.?m\.?)?", re.IGNORECASE)
_SEPARATOR = re.compile(r"\s*(?:,|\bat\b|T|\s)\s*", re.IGNORECASE)
# A review before 07:00 typed without am/pm is almost certainly "3:30" meaning the afternoon.
_EARLIEST_UNMARKED_HOUR = 7
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def parse_uk_datetime(text: str, tz: str) -> datetime:
    """Read a date and time typed day first ("03/12/2026 15:30") in `tz`; return it in UTC.

    Also accepted: "3.12.2026 3:30pm", "3-12-2026, 3pm", "2026-12-03T15:30". Refused with a
    message saying what to write instead: two-digit years, month-first dates, a time without
    am/pm before 07:00, and local times that occur twice or never when the clocks change.
    """
    cleaned = " ".join((text or "").split())
    date_match = _YEAR_FIRST.match(cleaned) or _DAY_FIRST.match(cleaned)
    if not cleaned or date_match is None:
        raise ValueError(f"{cleaned!r} is not a date: write it day first, like 03/12/2026 15:30")
    rest = cleaned[date_match.end():]
    separator = _SEPARATOR.match(rest)
    time_match = _TIME.fullmatch(rest[separator.end():]) if separator else None
    if time_match is None:
        raise ValueError(f"{cleaned!r} needs a time after the date, like 03/12/2026 15:30")
    year, month, day = (int(date_match[name]) for name in ("year", "month", "day"))
    if len(date_match["year"]) != 4:
        raise ValueError(f"write the year in full (like 2026) in {cleaned!r}")
    hour, minute = _read_time(time_match, cleaned)
    try:
        naive = datetime(year, month, day, hour, minute)
    except ValueError:
        if month > 12 and day <= 12:
            raise ValueError(f"{cleaned!r} looks month first: in the UK the day comes first, "
                             f"so write {month:02d}/{day:02d}/{year}") from None
        raise ValueError(f"{cleaned!r} is not a real date (day first: DD/MM/YYYY)") from None
    return _localise(naive, tz, cleaned)


def _read_time(match: re.Match, cleaned: str) -> tuple[int, int]:
    hour, minute, half = int(match["hour"]), int(match["minute"] or 0), (match["half"] or "").lower()
    if half:
        if not 1 <= hour <= 12 or minute > 59:
            raise ValueError(f"{cleaned!r} has an impossible time: with am/pm the hour is 1 to 12")
        return hour % 12 + (12 if half == "p" else 0), minute
    if match["minute"] is None:
        raise ValueError(f"{cleaned!r}: write the time with minutes (15:00) or am/pm (3pm)")
    if hour > 23 or minute > 59:
        raise ValueError(f"{cleaned!r} has an impossible time: use 00:00 to 23:59")
    if hour < _EARLIEST_UNMARKED_HOUR:
        raise ValueError(f"{cleaned!r}: is {hour}:{minute:02d} in the morning or afternoon? "
                         f"Write {hour + 12}:{minute:02d} or {hour}:{minute:02d}am")
    return hour, minute


def _localise(naive: datetime, tz: str, cleaned: str) -> datetime:
    # zoneinfo gives a missing or repeated local time two different offsets (fold 0 and 1):
    # a missing one does not survive the round trip through UTC, a repeated one does.
    first, second = naive.replace(tzinfo=zone(tz)), naive.replace(tzinfo=zone(tz), fold=1)
    as_utc = first.astimezone(timezone.utc)
    if as_utc.astimezone(zone(tz)).replace(tzinfo=None) != naive:
        raise ValueError(f"{cleaned!r} does not exist: the clocks go forward then")
    if first.utcoffset() != second.utcoffset():
        raise ValueError(f"{cleaned!r} happens twice when the clocks go back: choose another time")
    return as_utc


def format_uk_datetime(dt_utc: datetime, tz: str) -> str:
    """A time the way UK staff read it, in the school's timezone: "Thu 3 Dec 2026, 15:30"."""
    local = require_aware(dt_utc, "dt_utc").astimezone(zone(tz))
    # Fixed English names: strftime's %a/%b follow the process locale.
    return (f"{_WEEKDAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]} {local.year}, "
            f"{local.hour:02d}:{local.minute:02d}")
