"""Staff sign-in: login and logout views, `login_required`, and the signed-in user in `g`.

The session holds only the staff id. Each request reloads the staff row and its school, and
`g.school.id` is what scopes every inbox and simulator query.
"""
from __future__ import annotations

import functools
import logging
import time
from functools import lru_cache
from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from sqlalchemy import func
from sqlmodel import select
from werkzeug.security import check_password_hash, generate_password_hash

from bot.inbox import audit, bp, throttle
from storage.db import session_scope
from storage.models import School, StaffUser

log = logging.getLogger(__name__)
SESSION_KEY = "staff_id"
# The session cookie is signed, not stored: these make it revocable and short-lived.
VERSION_KEY, SIGNED_IN_KEY, SEEN_KEY = "session_version", "signed_in_at", "last_seen_at"
TRUST_ADMIN = "trust_admin"
TRUST_ADMIN_PAGES = frozenset({"inbox.trust_home", "inbox.trust_add_school", "inbox.logout"})


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    # Checked against when the email is unknown, so a wrong email takes as long as a wrong
    # password and the response time does not reveal who has an account.
    return generate_password_hash("no account has this password")


def _signed_in() -> tuple[StaffUser, School] | None:
    staff_id = session.get(SESSION_KEY)
    if not isinstance(staff_id, int) or not _session_is_current():
        return None
    with session_scope() as db:
        staff = db.get(StaffUser, staff_id)
        if staff is None or staff.session_version != session.get(VERSION_KEY) or not staff.active:
            return None  # signed out (here or anywhere else), the password changed, or deactivated
        session[SEEN_KEY] = time.time()
        return staff, db.get(School, staff.school_id)


def _session_is_current() -> bool:
    """Within the idle timeout and the maximum lifetime (both in config)."""
    now, config = time.time(), current_app.config
    signed_in, seen = session.get(SIGNED_IN_KEY), session.get(SEEN_KEY)
    if not isinstance(signed_in, (int, float)) or not isinstance(seen, (int, float)):
        return False
    return (now - seen <= config["SESSION_IDLE_MINUTES"] * 60
            and now - signed_in <= config["SESSION_MAX_HOURS"] * 3600)


def end_all_sessions(staff: StaffUser) -> None:
    """Revoke every session of this member of staff (on sign-out, and whenever the password changes)."""
    staff.session_version += 1


def login_required(view):
    """Send anyone not signed in to the login page; put `g.staff` and `g.school` in place."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        found = _signed_in()
        if found is None:
            session.clear()
            # Only a page can be returned to; a form post is not repeated after sign-in.
            next_url = request.full_path.rstrip("?") if request.method == "GET" else None
            return redirect(url_for("inbox.login", next=next_url))
        g.staff, g.school = found
        if g.staff.role == TRUST_ADMIN and request.endpoint not in TRUST_ADMIN_PAGES:
            # A trust admin sets up schools and SENDCos; reading families' messages is for school staff.
            if request.endpoint == "inbox.conversations":
                return redirect(url_for("inbox.trust_home"))
            return render_template("error.html", title="Trust admins do not read school pages",
                                   detail="This page is for the school's own staff. Your page is the trust's "
                                          "schools."), 403
        return view(*args, **kwargs)

    return wrapped


def sendco_required(view):
    """Like `login_required`, and only for a SENDCo: other staff get a 403 page saying why."""
    @functools.wraps(view)
    def checked(*args, **kwargs):
        if g.staff.role != "sendco":
            return render_template("error.html", title="Only the SENDCo can do this",
                                   detail="Ask your school's SENDCo: this page changes who can do what, "
                                          "the school's settings or exports families' data."), 403
        return view(*args, **kwargs)

    return login_required(checked)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an address elsewhere (an open redirect)."""
    parts = urlsplit(target or "")
    if not target or parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("inbox.conversations")
    return target


def _check_password(email: str, password: str) -> StaffUser | None:
    """The staff user if the password is right; audits a success, and a failure while the flood is small."""
    with session_scope() as db:
        staff = db.exec(select(StaffUser).where(func.lower(StaffUser.email) == email.lower())).first()
        ok = check_password_hash(staff.password_hash if staff else _decoy_hash(), password)
        if ok and staff.active:
            audit.record(db, staff.school_id, staff.id, audit.LOGIN)
            return staff
    if throttle.record_failure(email, request.remote_addr) <= throttle.AUDITED_FAILURES and staff is not None:
        with session_scope() as db:
            audit.record(db, staff.school_id, staff.id, audit.LOGIN_FAILED)
    return None


def _audit_lockout(email: str) -> None:
    with session_scope() as db:
        staff = db.exec(select(StaffUser).where(func.lower(StaffUser.email) == email.lower())).first()
        if staff is not None:
            audit.record(db, staff.school_id, staff.id, audit.LOGIN_LOCKED)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with email and password."""
    next_url = request.values.get("next", "")
    if request.method == "GET":
        return render_template("inbox/login.html", next_url=next_url, email="")
    email, password = request.form.get("email", "").strip(), request.form.get("password", "")
    wait = throttle.wait_seconds(email, request.remote_addr)
    if wait:
        if throttle.first_refusal_in_window(email, request.remote_addr):
            _audit_lockout(email)
        log.warning("login delayed: recent failed attempts")
        error = f"Too many failed attempts. Wait {wait} second{'s' if wait != 1 else ''}, then try again."
        return render_template("inbox/login.html", next_url=next_url, email=email, error=error), 429
    staff = _check_password(email, password) if email and password else None
    if staff is None:
        log.info("login failed")
        error = "That email and password do not match an account."
        return render_template("inbox/login.html", next_url=next_url, email=email, error=error), 401
    throttle.clear(email, request.remote_addr)
    session.clear()  # a fresh session at sign-in: nothing carried over from before
    session.update({SESSION_KEY: staff.id, VERSION_KEY: staff.session_version,
                    SIGNED_IN_KEY: time.time(), SEEN_KEY: time.time()})
    return redirect(_safe_next(next_url))


@bp.post("/logout")
@login_required
def logout():
    """Sign out (a POST with the CSRF token, so no other site can sign staff out)."""
    with session_scope() as db:
        end_all_sessions(db.get(StaffUser, g.staff.id))  # a copy of this cookie dies with it
        audit.record(db, g.school.id, g.staff.id, audit.LOGOUT)
    session.clear()
    flash("You are signed out.")
    return redirect(url_for("inbox.login"))


@bp.app_context_processor
def header_context() -> dict:
    """The signed-in user and school for the page header, and whether the simulator is on."""
    return {
        "current_staff": g.get("staff"),
        "current_school": g.get("school"),
        "simulator_enabled": "simulator" in current_app.blueprints,
    }
