"""The review reminder plan: parsing, placing steps in time (DST, late booking), UK dates."""
import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.messaging.quiet_hours import hour_is_quiet
from bot.reviews.plan import (
    DEFAULT_GRACE, DEFAULT_PLAN, LATE_REMINDER_MIN_LEAD, LATE_REQUEST_MIN_LEAD, SKIP_AFTER_REVIEW,
    SKIP_ALREADY_REQUESTED, SKIP_COVERED_BY_REQUEST, SKIP_REVIEW_TOO_SOON, SKIP_STALE, SKIP_SUPERSEDED,
    SKIP_TOO_LATE_FOR_REQUEST, PlanError, PlanStep, format_uk_datetime, is_stale, parse_plan,
    parse_uk_datetime, plan_reminders, send_time_skip_reason,
)

LONDON = "Europe/London"
UTC = timezone.utc


def london(*args) -> datetime:
    """A London wall-clock time as an aware UTC instant."""
    return datetime(*args, tzinfo=ZoneInfo(LONDON)).astimezone(UTC)


def by_days(planned) -> dict:
    """Planned reminders keyed by days_before."""
    return {reminder.days_before: reminder for reminder in planned}


def sent(planned) -> list:
    """The reminders that will actually go out."""
    return [reminder for reminder in planned if reminder.skip_reason is None]


# --- the plan itself ---------------------------------------------------------------------

def test_default_plan_avoids_quiet_hours_school_run_and_comes_in_order():
    assert [(s.kind, s.days_before) for s in DEFAULT_PLAN] == [
        ("contribution_request", 14), ("reminder", 7), ("reminder", 1)]
    for step in DEFAULT_PLAN:
        assert not hour_is_quiet(step.hour, 20, 8)
        assert step.hour not in (8, 15)  # drop-off and pick-up
    assert parse_plan(None) == list(DEFAULT_PLAN)


def test_parse_plan_reads_json_text_and_lists_and_sorts_earliest_first():
    raw = [{"kind": "reminder", "days_before": 2, "hour": 12},
           {"kind": "contribution_request", "days_before": 21, "hour": 9}]
    expected = [PlanStep("contribution_request", 21, 9), PlanStep("reminder", 2, 12)]
    assert parse_plan(raw) == expected
    assert parse_plan(json.dumps(raw)) == expected
    assert parse_plan([]) == []  # a school may choose to send no reminders


@pytest.mark.parametrize("raw, message", [
    ("[not json", "not valid JSON"),
    ({"kind": "reminder"}, "JSON list"),
    (["reminder"], "step 1 must be an object"),
    ([{"kind": "reminder", "days_before": 2}], "exactly kind, days_before and hour"),
    ([{"kind": "reminder", "days_before": 2, "hour": 9, "minute": 5}], "exactly kind"),
    ([{"kind": "nag", "days_before": 2, "hour": 9}], "kind must be one of"),
    ([{"kind": "reminder", "days_before": -1, "hour": 9}], "days_before"),
    ([{"kind": "reminder", "days_before": True, "hour": 9}], "days_before"),
    ([{"kind": "reminder", "days_before": 1.5, "hour": 9}], "days_before"),
    ([{"kind": "reminder", "days_before": 2, "hour": 24}], "hour must be"),
    ([{"kind": "reminder", "days_before": 2, "hour": "9"}], "hour must be"),
    ([{"kind": "reminder", "days_before": 2, "hour": 9}, {"kind": "reminder", "days_before": 2, "hour": 16}],
     "same day"),
    ([{"kind": "contribution_request", "days_before": 14, "hour": 10},
      {"kind": "contribution_request", "days_before": 10, "hour": 10}], "only once"),
])
def test_parse_plan_refuses_bad_plans_saying_what_is_wrong(raw, message):
    with pytest.raises(PlanError, match=message):
        parse_plan(raw)


def test_parse_plan_can_check_hours_against_quiet_hours():
    raw = [{"kind": "reminder", "days_before": 1, "hour": 21}]
    assert parse_plan(raw) == [PlanStep("reminder", 1, 21)]
    with pytest.raises(PlanError, match="step 1: 21:00 is inside the school's quiet hours"):
        parse_plan(raw, quiet_hours=(20, 8))


# --- placing steps in time ------------------------------------------------------------------

def test_steps_fall_at_local_hours_across_the_spring_clock_change():
    review = london(2026, 4, 2, 10, 0)  # BST; two of the steps fall in GMT
    planned = plan_reminders(review, LONDON, DEFAULT_PLAN, now_utc=london(2026, 3, 1, 9, 0))
    assert [r.skip_reason for r in planned] == [None, None, None]
    due = {r.days_before: r.due_at_utc for r in planned}
    assert due[14] == datetime(2026, 3, 19, 10, 0, tzinfo=UTC)  # 10:00 GMT
    assert due[7] == datetime(2026, 3, 26, 10, 0, tzinfo=UTC)   # 10:00 GMT
    assert due[1] == datetime(2026, 4, 1, 15, 0, tzinfo=UTC)    # 16:00 BST
    for reminder in planned:
        local = reminder.due_at_utc.astimezone(ZoneInfo(LONDON))
        step = next(s for s in DEFAULT_PLAN if s.days_before == reminder.days_before)
        assert (local.hour, local.minute) == (step.hour, 0)
        assert local.date() == review.astimezone(ZoneInfo(LONDON)).date() - timedelta(days=step.days_before)


def test_steps_fall_at_local_hours_across_the_autumn_clock_change():
    review = london(2026, 10, 30, 9, 30)
    due = {r.days_before: r.due_at_utc for r in plan_reminders(review, LONDON, DEFAULT_PLAN, london(2026, 9, 1, 9))}
    assert due[14] == datetime(2026, 10, 16, 9, 0, tzinfo=UTC)  # 10:00 BST
    assert due[1] == datetime(2026, 10, 29, 16, 0, tzinfo=UTC)  # 16:00 GMT


def test_days_count_from_the_schools_local_date_not_the_utc_date():
    # 20:30 in New York on 10 March is already 11 March in UTC.
    review = datetime(2026, 3, 10, 20, 30, tzinfo=ZoneInfo("America/New_York")).astimezone(UTC)
    assert review.date().day == 11
    plan = [PlanStep("reminder", 1, 10)]
    (reminder,) = plan_reminders(review, "America/New_York", plan, now_utc=review - timedelta(days=30))
    assert reminder.due_at_utc.astimezone(ZoneInfo("America/New_York")) == datetime(
        2026, 3, 9, 10, 0, tzinfo=ZoneInfo("America/New_York"))


def test_a_step_due_after_the_review_starts_never_happens():
    plan = [PlanStep("reminder", 0, 8), PlanStep("reminder", 0, 10)]
    review = london(2026, 5, 12, 9, 0)
    planned = plan_reminders(review, LONDON, plan, now_utc=london(2026, 5, 1, 9, 0))
    assert [(r.due_at_utc == london(2026, 5, 12, 8, 0), r.skip_reason) for r in planned] == [
        (True, None), (False, SKIP_AFTER_REVIEW)]


def test_booked_ten_days_ahead_the_request_goes_now_and_both_reminders_stay():
    review = london(2026, 6, 18, 10, 0)
    now = london(2026, 6, 8, 11, 15)
    planned = by_days(plan_reminders(review, LONDON, DEFAULT_PLAN, now))
    assert planned[14].due_at_utc == now and planned[14].skip_reason is None
    assert planned[7].due_at_utc == london(2026, 6, 11, 10, 0) and planned[7].skip_reason is None
    assert planned[1].skip_reason is None


def test_booked_three_days_ahead_the_week_reminder_is_superseded():
    review = london(2026, 6, 18, 10, 0)
    now = london(2026, 6, 15, 9, 0)
    planned = by_days(plan_reminders(review, LONDON, DEFAULT_PLAN, now))
    assert planned[14].due_at_utc == now and planned[14].skip_reason is None
    assert planned[7].skip_reason == SKIP_SUPERSEDED
    assert planned[1].due_at_utc == london(2026, 6, 17, 16, 0) and planned[1].skip_reason is None


def test_booked_under_two_days_ahead_no_request_only_the_day_before_reminder():
    review = london(2026, 6, 18, 10, 0)
    now = london(2026, 6, 16, 10, 30)
    planned = by_days(plan_reminders(review, LONDON, DEFAULT_PLAN, now))
    assert planned[14].skip_reason == SKIP_TOO_LATE_FOR_REQUEST
    assert planned[7].skip_reason == SKIP_SUPERSEDED
    assert [r.days_before for r in sent(planned.values())] == [1]


def test_booked_exactly_two_days_ahead_of_an_evening_review_the_request_covers_the_reminder():
    review = london(2026, 6, 18, 18, 0)
    now = review - LATE_REQUEST_MIN_LEAD  # the boundary still counts as enough time
    planned = by_days(plan_reminders(review, LONDON, DEFAULT_PLAN, now))
    assert planned[14].due_at_utc == now and planned[14].skip_reason is None
    # The day-before reminder (17 June 16:00) would follow 22 hours after the request.
    assert planned[1].skip_reason == SKIP_COVERED_BY_REQUEST
    assert len(sent(planned.values())) == 1


def test_booked_the_evening_before_the_latest_reminder_goes_out_now():
    review = london(2026, 6, 18, 9, 0)
    now = london(2026, 6, 17, 18, 0)
    planned = plan_reminders(review, LONDON, DEFAULT_PLAN, now)
    assert [(r.days_before, r.due_at_utc) for r in sent(planned)] == [(1, now)]
    assert by_days(planned)[7].skip_reason == SKIP_SUPERSEDED


def test_booked_an_hour_before_nothing_is_sent():
    review = london(2026, 6, 18, 9, 0)
    planned = by_days(plan_reminders(review, LONDON, DEFAULT_PLAN, review - timedelta(hours=1)))
    assert sent(planned.values()) == []
    assert planned[1].skip_reason == SKIP_REVIEW_TOO_SOON


def test_a_moved_review_does_not_ask_for_views_twice():
    review = london(2026, 7, 1, 10, 0)
    planned = by_days(plan_reminders(review, LONDON, DEFAULT_PLAN, london(2026, 6, 1, 9, 0),
                                     contribution_already_requested=True))
    assert planned[14].skip_reason == SKIP_ALREADY_REQUESTED
    assert planned[7].skip_reason is None and planned[1].skip_reason is None


def test_result_is_ordered_by_due_time_and_naive_times_are_refused():
    review = london(2026, 6, 18, 10, 0)
    planned = plan_reminders(review, LONDON, list(reversed(DEFAULT_PLAN)), london(2026, 5, 1, 9, 0))
    assert [r.due_at_utc for r in planned] == sorted(r.due_at_utc for r in planned)
    with pytest.raises(ValueError, match="timezone-aware"):
        plan_reminders(datetime(2026, 6, 18, 10), LONDON, DEFAULT_PLAN, london(2026, 5, 1, 9, 0))


@settings(max_examples=500, deadline=None, database=None)
@given(
    review=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31)),
    hours_ahead=st.floats(min_value=-48, max_value=24 * 30),
)
def test_never_double_send_never_silent(review, hours_ahead):
    review = review.replace(second=0, microsecond=0).replace(tzinfo=UTC)
    now = review - timedelta(hours=hours_ahead)
    planned = plan_reminders(review, LONDON, DEFAULT_PLAN, now)
    assert len(planned) == len(DEFAULT_PLAN)
    going = sent(planned)
    for reminder in going:
        assert now <= reminder.due_at_utc < review
    due_now = [r for r in going if r.due_at_utc == now and r.kind == "reminder"]
    assert len(due_now) <= 1
    assert len({r.due_at_utc for r in going}) == len(going)  # never two at the same moment
    if review - now >= LATE_REMINDER_MIN_LEAD:
        assert going, "a family with a review coming up must hear about it"
    if review - now >= LATE_REQUEST_MIN_LEAD:
        assert any(r.kind == "contribution_request" for r in going)


# --- at send time -------------------------------------------------------------------------------

def test_is_stale_after_the_grace_period_only():
    due = london(2026, 6, 10, 10, 0)
    assert not is_stale(due, due + DEFAULT_GRACE)
    assert is_stale(due, due + DEFAULT_GRACE + timedelta(seconds=1))
    assert not is_stale(due, due - timedelta(hours=1))
    assert is_stale(due, due + timedelta(hours=2), grace=timedelta(hours=1))


def test_send_time_decisions_after_an_outage():
    review = london(2026, 6, 18, 10, 0)
    on_time = london(2026, 6, 11, 10, 0)
    assert send_time_skip_reason("reminder", on_time, review, on_time + timedelta(minutes=5)) is None
    a_day_late = on_time + timedelta(days=1)
    assert send_time_skip_reason("reminder", on_time, review, a_day_late) == SKIP_STALE
    # A late request still goes while the family has two days to answer, not after.
    assert send_time_skip_reason("contribution_request", on_time, review, a_day_late) is None
    assert send_time_skip_reason("contribution_request", on_time, review,
                                 review - timedelta(days=1)) == SKIP_STALE
    assert send_time_skip_reason("reminder", review - timedelta(hours=1), review,
                                 review - timedelta(minutes=30)) == SKIP_REVIEW_TOO_SOON
    assert send_time_skip_reason("reminder", on_time, review, review + timedelta(minutes=1)) == SKIP_AFTER_REVIEW


# --- UK dates ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text, local", [
    ("03/12/2026 15:30", (2026, 12, 3, 15, 30)),
    ("3/12/2026 15:30", (2026, 12, 3, 15, 30)),
    ("  03/12/2026   15:30 ", (2026, 12, 3, 15, 30)),
    ("3.12.2026 3:30pm", (2026, 12, 3, 15, 30)),
    ("3-12-2026, 3pm", (2026, 12, 3, 15, 0)),
    ("3/12/2026 at 3.30 p.m.", (2026, 12, 3, 15, 30)),
    ("03/12/2026 9:15AM", (2026, 12, 3, 9, 15)),
    ("03/12/2026 12pm", (2026, 12, 3, 12, 0)),
    ("2026-12-03T15:30", (2026, 12, 3, 15, 30)),
    ("01/07/2026 09:00", (2026, 7, 1, 9, 0)),  # summer: BST
    ("04/05/2026 07:00", (2026, 5, 4, 7, 0)),  # 4 May, not 5 April
])
def test_parse_uk_datetime_reads_day_first(text, local):
    parsed = parse_uk_datetime(text, LONDON)
    assert parsed == london(*local)
    assert parsed.tzinfo == UTC


@pytest.mark.parametrize("text, message", [
    ("", "not a date"),
    ("next Tuesday", "not a date"),
    ("03/12/2026", "needs a time"),
    ("03/12/26 15:30", "year in full"),
    ("12/25/2026 10:00", "write 25/12/2026"),
    ("31/02/2026 10:00", "not a real date"),
    ("03/12/2026 3:30", r"morning or afternoon\? Write 15:30 or 3:30am"),
    ("03/12/2026 15", "with minutes"),
    ("03/12/2026 13pm", "impossible time"),
    ("03/12/2026 24:00", "impossible time"),
    ("03/12/2026 15:61", "impossible time"),
    ("29/03/2026 1:30am", "does not exist"),
    ("25/10/2026 1:30am", "happens twice"),
])
def test_parse_uk_datetime_refuses_unclear_input(text, message):
    with pytest.raises(ValueError, match=message):
        parse_uk_datetime(text, LONDON)


def test_format_uk_datetime_shows_school_local_time():
    assert format_uk_datetime(datetime(2026, 12, 3, 15, 30, tzinfo=UTC), LONDON) == "Thu 3 Dec 2026, 15:30"
    assert format_uk_datetime(datetime(2026, 7, 1, 8, 5, tzinfo=UTC), LONDON) == "Wed 1 Jul 2026, 09:05"
    with pytest.raises(ValueError, match="timezone-aware"):
        format_uk_datetime(datetime(2026, 7, 1, 8, 5), LONDON)


@settings(max_examples=300, deadline=None, database=None)
@given(moment=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31)))
def test_formatted_times_parse_back_unless_the_clocks_make_them_unclear(moment):
    moment = moment.replace(second=0, microsecond=0, tzinfo=UTC)
    shown = format_uk_datetime(moment, LONDON)
    local = moment.astimezone(ZoneInfo(LONDON))
    typed = local.strftime("%d/%m/%Y ") + f"{local.hour % 12 or 12}:{local.minute:02d}{'pm' if local.hour >= 12 else 'am'}"
    try:
        parsed = parse_uk_datetime(typed, LONDON)
    except ValueError as error:
        assert "twice" in str(error)  # only the repeated autumn hour is refused
        return
    assert parsed == moment
    assert format_uk_datetime(parsed, LONDON) == shown
