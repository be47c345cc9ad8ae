"""Quiet hours: when a non-urgent message waits, and until when (school-local, across DST)."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.messaging.quiet_hours import (
    QuietHours, effective_quiet_hours, hour_is_quiet, is_quiet, local_hour_to_utc, next_allowed_time,
)
from storage.models import Guardian, School

LONDON = "Europe/London"
UTC = timezone.utc


def london(*args) -> datetime:
    """A London wall-clock time as an aware UTC instant (what callers pass in)."""
    return datetime(*args, tzinfo=ZoneInfo(LONDON)).astimezone(UTC)


@pytest.mark.parametrize("local, expected", [
    ((2026, 1, 14, 19, 59), None),                    # just before quiet hours: now
    ((2026, 1, 14, 20, 0), (2026, 1, 15, 8, 0)),      # start: the next morning
    ((2026, 1, 14, 23, 30), (2026, 1, 15, 8, 0)),
    ((2026, 1, 15, 2, 0), (2026, 1, 15, 8, 0)),       # after midnight: the same morning
    ((2026, 1, 15, 7, 59), (2026, 1, 15, 8, 0)),
    ((2026, 1, 15, 8, 0), None),                      # end: now
    ((2026, 7, 14, 21, 0), (2026, 7, 15, 8, 0)),      # summer (BST): still 08:00 local
])
def test_window_crossing_midnight(local, expected):
    now = london(*local)
    released = next_allowed_time(now, LONDON, 20, 8)
    assert released == (now if expected is None else london(*expected))


def test_summer_release_is_eight_local_which_is_seven_utc():
    released = next_allowed_time(london(2026, 7, 14, 22, 0), LONDON, 20, 8)
    assert released == datetime(2026, 7, 15, 7, 0, tzinfo=UTC)
    assert released.tzinfo == UTC


@pytest.mark.parametrize("local, expected", [
    ((2026, 5, 6, 12, 59), None),
    ((2026, 5, 6, 13, 0), (2026, 5, 6, 14, 0)),
    ((2026, 5, 6, 13, 45), (2026, 5, 6, 14, 0)),
    ((2026, 5, 6, 14, 0), None),
    ((2026, 5, 6, 23, 0), None),
])
def test_window_within_a_day(local, expected):
    now = london(*local)
    assert next_allowed_time(now, LONDON, 13, 14) == (now if expected is None else london(*expected))


@pytest.mark.parametrize("hour", range(24))
def test_equal_hours_mean_no_quiet_hours(hour):
    now = london(2026, 3, 2, hour, 30)
    assert next_allowed_time(now, LONDON, 9, 9) == now
    assert not is_quiet(now, LONDON, 9, 9)


def test_spring_forward_night_releases_at_eight_bst():
    # 28→29 March 2026: the clocks jump 01:00 GMT → 02:00 BST, so the night is an hour shorter.
    now = london(2026, 3, 28, 21, 0)
    released = next_allowed_time(now, LONDON, 20, 8)
    assert released == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    assert released.astimezone(ZoneInfo(LONDON)).hour == 8
    assert released - now == timedelta(hours=10)


def test_fall_back_night_releases_at_eight_gmt():
    # 24→25 October 2026: 02:00 BST → 01:00 GMT, so the night is an hour longer.
    now = london(2026, 10, 24, 21, 0)
    released = next_allowed_time(now, LONDON, 20, 8)
    assert released == datetime(2026, 10, 25, 8, 0, tzinfo=UTC)
    assert released - now == timedelta(hours=12)


def test_during_the_repeated_hour_the_window_still_ends_at_eight():
    second_one_thirty = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 01:30 GMT, after 01:30 BST
    assert second_one_thirty.astimezone(ZoneInfo(LONDON)).hour == 1
    assert next_allowed_time(second_one_thirty, LONDON, 20, 8) == datetime(2026, 10, 25, 8, 0, tzinfo=UTC)


def test_end_hour_missing_on_spring_day_means_the_end_of_the_gap():
    # Quiet 22 → 1, but 01:00 does not exist on 29 March: released at 02:00 BST (01:00 UTC).
    now = london(2026, 3, 28, 23, 0)
    released = next_allowed_time(now, LONDON, 22, 1)
    assert released == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert released.astimezone(ZoneInfo(LONDON)).hour == 2
    assert released > now


def test_local_hour_to_utc_keeps_wall_clock_in_both_seasons():
    assert local_hour_to_utc(datetime(2026, 1, 10).date(), 10, LONDON) == datetime(2026, 1, 10, 10, tzinfo=UTC)
    assert local_hour_to_utc(datetime(2026, 6, 10).date(), 10, LONDON) == datetime(2026, 6, 10, 9, tzinfo=UTC)


def test_other_timezones_use_their_own_clock():
    now = datetime(2026, 1, 15, 3, 0, tzinfo=UTC)  # 22:00 the evening before in New York
    released = next_allowed_time(now, "America/New_York", 20, 8)
    assert released == datetime(2026, 1, 15, 13, 0, tzinfo=UTC)  # 08:00 EST


def test_naive_times_and_bad_hours_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        next_allowed_time(datetime(2026, 1, 1, 21), LONDON, 20, 8)
    with pytest.raises(ValueError, match="quiet_start_hour"):
        next_allowed_time(london(2026, 1, 1, 21), LONDON, 24, 8)
    with pytest.raises(ValueError, match="quiet_end_hour"):
        hour_is_quiet(3, 20, -1)
    with pytest.raises(ValueError, match="quiet_end_hour"):
        hour_is_quiet(3, 20, True)


ZONES = ["Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "America/Santiago"]


@settings(max_examples=400, deadline=None, database=None)
@given(
    now=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)),
    tz=st.sampled_from(ZONES), start=st.integers(0, 23), end=st.integers(0, 23),
)
def test_release_is_now_or_the_first_moment_after_the_window(now, tz, start, end):
    released = next_allowed_time(now, tz, start, end)
    assert released >= now
    assert (released == now) == (not is_quiet(now, tz, start, end))
    if released > now:
        assert released - now <= timedelta(hours=25)
        assert not is_quiet(released, tz, start, end)
        assert is_quiet(released - timedelta(seconds=1), tz, start, end)
        local = released.astimezone(ZoneInfo(tz))
        assert local.minute == 0 and local.second == 0


def test_guardian_hours_override_the_school_hour_by_hour():
    school = School(name="Oak Primary", quiet_start_hour=20, quiet_end_hour=8)
    night_shift = Guardian(school_id=1, phone="+447700900001", quiet_start_hour=9, quiet_end_hour=17)
    late_riser = Guardian(school_id=1, phone="+447700900002", quiet_end_hour=10)
    default = Guardian(school_id=1, phone="+447700900003")
    assert effective_quiet_hours(school, night_shift) == QuietHours(9, 17)
    assert effective_quiet_hours(school, late_riser) == QuietHours(20, 10)
    assert effective_quiet_hours(school, default) == QuietHours(20, 8)
    assert effective_quiet_hours(school) == (20, 8)
    start, end = effective_quiet_hours(school, night_shift)
    assert next_allowed_time(london(2026, 2, 3, 11, 0), LONDON, start, end) == london(2026, 2, 3, 17, 0)


def test_guardian_zero_hour_is_an_override_not_unset():
    school = School(name="Oak Primary", quiet_start_hour=20, quiet_end_hour=8)
    guardian = Guardian(school_id=1, phone="+447700900004", quiet_start_hour=0, quiet_end_hour=6)
    assert effective_quiet_hours(school, guardian) == QuietHours(0, 6)
