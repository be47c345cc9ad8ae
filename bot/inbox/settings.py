"""School settings (SENDCo only): name, timezone, quiet hours, staff language, the reminder plan in
words, the school's Twilio numbers, and which WhatsApp templates are approved. Every change audited.

The reminder plan is checked with the same rules reviews use (bot/reviews/plan.py); a plan that
would not work is refused with the reason, and nothing is saved.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from sqlmodel import select

from bot.inbox import audit, bp, queries
from bot.inbox.auth import sendco_required
from bot.inbox.family_forms import whole_number
from bot.inbox.languages import choices
from bot.language.i18n import default_catalogs
from bot.messaging.phones import InvalidPhoneNumber, normalise_phone
from bot.messaging.routing import parse_whatsapp_templates
from bot.reviews.plan import PlanError, parse_plan
from storage.db import session_scope
from storage.models import School, SchoolNumber

STEP_WORDS = {"contribution_request": "Ask for the family's views", "reminder": "Remind them of the meeting"}
PLAN_ROWS = 5
MIN_RETENTION_DAYS = 30  # shorter would delete what staff are still working on
CHANGE_SETTINGS, ADD_NUMBER, REMOVE_NUMBER = "change_settings", "add_school_number", "remove_school_number"
CHANGE_TEMPLATES = "change_whatsapp_templates"


def _page(db, school: School, error: str | None = None, status: int = 200):
    numbers = db.exec(select(SchoolNumber).where(SchoolNumber.school_id == school.id).order_by(SchoolNumber.id)).all()
    plan = parse_plan(school.reminder_plan or None)
    own = parse_whatsapp_templates(school.whatsapp_templates or {})
    return render_template("staff/settings.html", school=school, numbers=numbers, plan=plan, step_words=STEP_WORDS,
                           plan_rows=PLAN_ROWS, languages=choices(), error=error, own_templates=own,
                           templates=parse_whatsapp_templates(current_app.config.get("WHATSAPP_TEMPLATES")),
                           catalogue=_catalogue_choices()), status


def _catalogue_choices() -> list[tuple[str, str]]:
    """(key, its English text) of every parent message, for choosing which one a template is."""
    english = default_catalogs().messages("en")
    return [(key, text if len(text) <= 70 else text[:69] + "…") for key, text in sorted(english.items())]


def _hour(name: str) -> int:
    value = whole_number(request.form.get(name), 2)
    if value is None or not 0 <= value <= 23:
        raise ValueError("Quiet hours are whole hours from 0 to 23.")
    return value


def _plan_from_form(quiet: tuple[int, int]) -> list[dict]:
    steps = []
    for index in range(PLAN_ROWS):
        days = request.form.get(f"days_{index}", "").strip()
        if not days:
            continue  # an empty row is no step
        kind = request.form.get(f"kind_{index}", "")
        days, hour = whole_number(days), whole_number(request.form.get(f"hour_{index}"))
        if days is None or hour is None:
            raise ValueError(f"Reminder step {index + 1}: write the days before and the hour as whole numbers.")
        steps.append({"kind": kind, "days_before": days, "hour": hour})
    try:
        parse_plan(steps, quiet)
    except PlanError as problem:
        raise ValueError(f"The reminder plan cannot be used: {problem}.") from None
    return steps


def _retention() -> int | None:
    if not request.form.get("retention_days", "").strip():
        return None
    value = whole_number(request.form.get("retention_days"))
    if value is None or not MIN_RETENTION_DAYS <= value <= 3650:
        raise ValueError(f"Keep messages for at least {MIN_RETENTION_DAYS} days (and at most 3650), or leave it empty.")
    return value


@bp.get("/settings")
@sendco_required
def settings():
    """The school's settings."""
    with session_scope() as db:
        return _page(db, db.get(School, g.school.id))


@bp.post("/settings")
@sendco_required
def save_settings():
    """Save name, timezone, quiet hours, staff language and the reminder plan, all or nothing."""
    with session_scope() as db:
        school = db.get(School, g.school.id)
        try:
            name = request.form.get("name", "").strip()
            if not name:
                raise ValueError("Give the school's name.")
            zone = request.form.get("timezone", "").strip()
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"“{zone}” is not a timezone; write it like Europe/London.") from None
            language = request.form.get("staff_language", "")
            if language not in dict(choices()):
                raise ValueError("Choose the language staff read from the list.")
            quiet = (_hour("quiet_start_hour"), _hour("quiet_end_hour"))
            plan = _plan_from_form(quiet)
            retention = _retention()
        except ValueError as problem:
            return _page(db, school, str(problem), 400)
        school.name, school.timezone, school.staff_language = name[:200], zone, language
        school.quiet_start_hour, school.quiet_end_hour, school.reminder_plan = *quiet, plan
        school.retention_days = retention
        audit.record(db, school.id, g.staff.id, CHANGE_SETTINGS, f"school:{school.id}")
    flash("Settings saved. Reviews scheduled from now on follow the new reminder plan.")
    return redirect(url_for("inbox.settings"))


@bp.post("/settings/templates")
@sendco_required
def save_template():
    """Add or replace one approved WhatsApp template (message × language → content SID), or remove one."""
    key, language, sid = (request.form.get(name, "").strip() for name in ("key", "language", "sid"))
    with session_scope() as db:
        school = db.get(School, g.school.id)
        own = {k: dict(v) for k, v in parse_whatsapp_templates(school.whatsapp_templates or {}).items()}
        if request.form.get("action") == "remove":
            own.get(key, {}).pop(language, None)
            own = {k: v for k, v in own.items() if v}
        else:
            if key not in dict(_catalogue_choices()) or language not in dict(choices()):
                return _page(db, school, "Choose the message and the language from the lists.", 400)
            try:
                parse_whatsapp_templates({key: {language: sid}})
            except ValueError:
                return _page(db, school, "A template SID is HX followed by 32 letters and digits, as Twilio "
                                         "shows it once WhatsApp approves the template.", 400)
            own.setdefault(key, {})[language] = sid
        school.whatsapp_templates = own or None
        audit.record(db, school.id, g.staff.id, CHANGE_TEMPLATES, f"school:{school.id}")
    flash("WhatsApp templates saved.")
    return redirect(url_for("inbox.settings", _anchor="templates-title"))


@bp.post("/settings/numbers")
@sendco_required
def add_number():
    """Add a Twilio number of the school (SMS, and WhatsApp when ticked)."""
    with session_scope() as db:
        school = db.get(School, g.school.id)
        try:
            phone = normalise_phone(request.form.get("phone", ""), school.default_region)
        except InvalidPhoneNumber:
            return _page(db, school, "That is not a phone number; write it as +447…", 400)
        if db.exec(select(SchoolNumber).where(SchoolNumber.phone == phone)).first() is not None:
            return _page(db, school, "This number is already set up (here or for another school).", 400)
        number = SchoolNumber(school_id=school.id, phone=phone, whatsapp=request.form.get("whatsapp") == "yes")
        db.add(number)
        db.flush()
        audit.record(db, school.id, g.staff.id, ADD_NUMBER, f"school_number:{number.id}")
    flash("Number added. Point its Twilio webhooks at this server (see the README).")
    return redirect(url_for("inbox.settings"))


@bp.post("/settings/numbers/<int:number_id>/remove")
@sendco_required
def remove_number(number_id: int):
    """Remove a number (not the last: the school must keep one to send from)."""
    with session_scope() as db:
        number = queries.school_row(db, SchoolNumber, g.school.id, number_id) or abort(404)
        count = len(db.exec(select(SchoolNumber.id).where(SchoolNumber.school_id == g.school.id)).all())
        if count <= 1:
            return _page(db, db.get(School, g.school.id), "This is the school's only number: add another first.", 400)
        db.delete(number)
        audit.record(db, g.school.id, g.staff.id, REMOVE_NUMBER, f"school_number:{number_id}")
    flash("Number removed.")
    return redirect(url_for("inbox.settings"))
