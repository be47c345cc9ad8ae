"""A trust's own page (trust admins only): its schools and their SENDCos, and adding a school with its
first SENDCo (whose one-time set-password link is shown once). Trust admins see no conversations.
"""
from __future__ import annotations

from flask import abort, g, render_template, request, url_for
from sqlmodel import select

from bot.inbox import audit, bp
from bot.inbox.auth import TRUST_ADMIN, login_required
from bot.inbox.school_setup import SetupProblem, create_school
from storage.db import session_scope
from storage.models import School, SchoolNumber, StaffUser, Trust

ADD_SCHOOL = "add_school"


def _page(db, link: str | None = None, error: str | None = None, form: dict | None = None, status: int = 200):
    trust = db.get(Trust, g.school.trust_id) if g.school.trust_id else None
    schools = db.exec(select(School).where(School.trust_id == trust.id).order_by(School.name)).all() if trust else []
    ids = [school.id for school in schools] or [0]
    numbers = db.exec(select(SchoolNumber).where(SchoolNumber.school_id.in_(ids))).all()
    sendcos = db.exec(select(StaffUser).where(StaffUser.school_id.in_(ids), StaffUser.role == "sendco")).all()
    return render_template("staff/trust.html", trust=trust, schools=schools, link=link, error=error, form=form or {},
                           numbers={s.id: [n for n in numbers if n.school_id == s.id] for s in schools},
                           sendcos={s.id: [u for u in sendcos if u.school_id == s.id] for s in schools}), status


@bp.get("/trust")
@login_required
def trust_home():
    """The trust's schools, their numbers and SENDCos."""
    if g.staff.role != TRUST_ADMIN:
        abort(404)
    with session_scope() as db:
        return _page(db)


@bp.post("/trust/schools")
@login_required
def trust_add_school():
    """Add a school to the trust with its Twilio number and first SENDCo."""
    if g.staff.role != TRUST_ADMIN or not g.school.trust_id:
        abort(404)
    form = {key: request.form.get(key, "").strip() for key in ("name", "number", "sendco_email", "sendco_name")}
    with session_scope() as db:
        try:
            with db.begin_nested():
                school, token = create_school(
                    db, name=form["name"], numbers=[form["number"]],
                    whatsapp_numbers=[form["number"]] if request.form.get("whatsapp") == "yes" else [],
                    sendco_email=form["sendco_email"], sendco_name=form["sendco_name"], timezone=g.school.timezone,
                    region=g.school.default_region, trust_id=g.school.trust_id)
        except SetupProblem as problem:
            return _page(db, error=str(problem), form=form, status=400)
        audit.record(db, g.school.id, g.staff.id, ADD_SCHOOL, f"school:{school.id}")
        return _page(db, link=url_for("inbox.set_password_page", token=token, _external=True))
