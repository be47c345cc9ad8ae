"""Colleagues (SENDCo only): add a member of staff, give a role, deactivate; and the set-password page.

A new colleague's set-password link is shown once, on the page that created it (the product
sends no email); the SENDCo passes it on. Every change is audited.
"""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlmodel import select

from bot.inbox import audit, bp, queries
from bot.inbox.accounts import ROLES, AccountError, add_staff, issue_password_link, set_password, staff_for_token
from bot.inbox.auth import sendco_required
from storage.db import session_scope
from storage.models import StaffUser


def _colleagues(db) -> list[StaffUser]:
    return list(db.exec(select(StaffUser).where(StaffUser.school_id == g.school.id)
                        .order_by(StaffUser.active.desc(), StaffUser.name)).all())


def _page(db, link: str | None = None, error: str | None = None, form: dict | None = None, status: int = 200):
    return render_template("staff/colleagues.html", colleagues=_colleagues(db), roles=ROLES, link=link,
                           error=error, form=form or {}), status


def _own_colleague(db, staff_id: int) -> StaffUser:
    return queries.school_row(db, StaffUser, g.school.id, staff_id) or abort(404)


@bp.get("/colleagues")
@sendco_required
def colleagues():
    """The school's staff accounts."""
    with session_scope() as db:
        return _page(db)


@bp.post("/colleagues")
@sendco_required
def add_colleague():
    """Create an account and show its one-time set-password link."""
    form = {key: request.form.get(key, "") for key in ("email", "name", "role")}
    with session_scope() as db:
        try:
            staff, token = add_staff(db, g.school.id, form["email"], form["name"], form["role"])
        except AccountError as error:
            return _page(db, error=str(error), form=form, status=400)
        audit.record(db, g.school.id, g.staff.id, audit.ADD_STAFF, f"staff:{staff.id}")
        link = url_for("inbox.set_password_page", token=token, _external=True)
        return _page(db, link=link)


@bp.post("/colleagues/<int:staff_id>")
@sendco_required
def change_colleague(staff_id: int):
    """Change a colleague's role, deactivate or reactivate them, or make a new set-password link."""
    action = request.form.get("action", "")
    with session_scope() as db:
        staff = _own_colleague(db, staff_id)
        if staff.id == g.staff.id and action in ("deactivate", "role"):
            return _page(db, error="You cannot change your own access; ask another SENDCo.", status=400)
        if action == "role" and request.form.get("role") in ROLES:
            staff.role = request.form["role"]
            flash(f"{staff.name} is now {ROLES[staff.role]}.")
        elif action == "deactivate":
            staff.active = False
            staff.session_version += 1  # signed out everywhere at once
            flash(f"{staff.name} can no longer sign in.")
        elif action == "activate":
            staff.active = True
            flash(f"{staff.name} can sign in again.")
        elif action == "link":
            token = issue_password_link(staff)
            audit.record(db, g.school.id, g.staff.id, audit.STAFF_LINK, f"staff:{staff.id}")
            return _page(db, link=url_for("inbox.set_password_page", token=token, _external=True))
        else:
            return _page(db, error="Choose what to change.", status=400)
        audit.record(db, g.school.id, g.staff.id, f"staff_{action}", f"staff:{staff.id}")
    return redirect(url_for("inbox.colleagues"))


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password_page(token: str):
    """Choose a password from a one-time link; the link is used up."""
    with session_scope() as db:
        staff = staff_for_token(db, token)
        if staff is None:
            return render_template("error.html", title="This link does not work",
                                   detail="It has been used, has expired or was mistyped. "
                                          "Ask your SENDCo for a new link."), 404
        if request.method == "GET":
            return render_template("staff/set_password.html", staff=staff)
        try:
            set_password(staff, request.form.get("password", ""), request.form.get("confirm", ""))
        except AccountError as error:
            return render_template("staff/set_password.html", staff=staff, error=str(error)), 400
        audit.record(db, staff.school_id, staff.id, audit.SET_PASSWORD, f"staff:{staff.id}")
    flash("Your password is set. Sign in with your email and the new password.")
    return redirect(url_for("inbox.login"))
