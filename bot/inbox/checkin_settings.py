"""The check-in settings page: the school's rhythm and its holidays (no check-ins in holidays).

Any change cancels the check-ins planned so far and plans them again on the new rhythm. The
lead links this page from the school's settings page; it stands alone until then.
"""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from bot.inbox import audit, bp
from bot.inbox.auth import login_required, sendco_required
from bot.inbox.safety import parse_id
from bot.targets import checkins
from bot.targets.records import parse_day
from bot.targets.rhythm import MAX_EVERY_WEEKS, MIN_EVERY_WEEKS
from bot.messaging.quiet_hours import hour_is_quiet
from storage.db import session_scope
from storage.models import SchoolHoliday, utcnow

SET_RHYTHM, ADD_HOLIDAY, REMOVE_HOLIDAY = "checkins.rhythm", "checkins.holiday_add", "checkins.holiday_remove"
MAX_HOLIDAY_NAME = 80


def _page(db, error: str | None = None, form=None, status: int = 200):
    page = render_template("inbox/checkin_settings.html", rhythm=checkins.rhythm_for(db, g.school.id),
                           holidays=checkins.holidays_for(db, g.school.id), error=error, form=form or {},
                           school=g.school, min_weeks=MIN_EVERY_WEEKS, max_weeks=MAX_EVERY_WEEKS)
    return page, status


@bp.get("/checkins/settings")
@login_required
def checkin_settings():
    """The school's check-in rhythm and holidays."""
    with session_scope() as db:
        return _page(db)


@bp.post("/checkins/settings")
@sendco_required
def save_rhythm():
    """Change how often families are asked, at what hour, or switch check-ins off; then re-plan."""
    with session_scope() as db:
        every, hour = parse_id(request.form.get("every_weeks", "")), parse_id(request.form.get("hour", ""))
        if every is None or not MIN_EVERY_WEEKS <= every <= MAX_EVERY_WEEKS:
            return _page(db, f"Choose every {MIN_EVERY_WEEKS} to {MAX_EVERY_WEEKS} weeks.", request.form, 400)
        if hour is None or not 0 <= hour <= 23:
            return _page(db, "Choose a whole hour from 0 to 23.", request.form, 400)
        if hour_is_quiet(hour, g.school.quiet_start_hour, g.school.quiet_end_hour):
            return _page(db, f"{hour}:00 is inside the school's quiet hours: families would get it the next morning. "
                             "Choose a time in the school day.", request.form, 400)
        rhythm = checkins.rhythm_for(db, g.school.id)
        rhythm.every_weeks, rhythm.hour = every, hour
        rhythm.enabled, rhythm.updated_at = request.form.get("enabled") == "yes", utcnow()
        db.add(rhythm)
        db.flush()
        checkins.replan(db, g.school, utcnow(), "The school's check-in rhythm changed.")
        audit.record(db, g.school.id, g.staff.id, SET_RHYTHM, f"school:{g.school.id}")
    flash("Saved. Check-ins are planned again on the new rhythm.")
    return redirect(url_for("inbox.checkin_settings"))


@bp.post("/checkins/holidays")
@sendco_required
def add_holiday():
    """Add a school holiday: check-ins that would fall in it move to the first school day after."""
    with session_scope() as db:
        name = " ".join(request.form.get("name", "").split())
        try:
            first, last = parse_day(request.form.get("first_day", "")), parse_day(request.form.get("last_day", ""))
        except ValueError as problem:
            return _page(db, str(problem), request.form, 400)
        if not name or len(name) > MAX_HOLIDAY_NAME:
            return _page(db, f"Name the holiday (up to {MAX_HOLIDAY_NAME} characters), like \"Christmas holidays\".",
                         request.form, 400)
        if last < first or (last - first).days > 120:
            return _page(db, "The last day must be on or after the first, and a holiday at most 120 days long.",
                         request.form, 400)
        holiday = SchoolHoliday(school_id=g.school.id, name=name, first_day=first, last_day=last)
        db.add(holiday)
        db.flush()
        checkins.replan(db, g.school, utcnow(), "The school's holidays changed.")
        audit.record(db, g.school.id, g.staff.id, ADD_HOLIDAY, f"holiday:{holiday.id}")
    flash("Holiday added. No check-ins are sent in it.")
    return redirect(url_for("inbox.checkin_settings"))


@bp.post("/checkins/holidays/<int:holiday_id>/delete")
@sendco_required
def remove_holiday(holiday_id: int):
    """Remove a holiday (typed by mistake); check-ins are planned again."""
    with session_scope() as db:
        holiday = db.get(SchoolHoliday, holiday_id)
        if holiday is None or holiday.school_id != g.school.id:
            return render_template("error.html", title="Not found",
                                   detail="There is no such holiday in your school's settings."), 404
        db.delete(holiday)
        db.flush()
        checkins.replan(db, g.school, utcnow(), "The school's holidays changed.")
        audit.record(db, g.school.id, g.staff.id, REMOVE_HOLIDAY, f"holiday:{holiday_id}")
    flash("Holiday removed.")
    return redirect(url_for("inbox.checkin_settings"))
