"""Staff accounts: one-time set-password links, and creating a school's staff.

The product sends no email, so a new account gets a link to set its password, shown once to
whoever created it (a SENDCo on the colleagues page, or the `school create` command). Only a
hash of the link's token is stored: a copy of the database cannot be used to sign in.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from sqlalchemy import func
from sqlmodel import Session, select
from werkzeug.security import generate_password_hash

from storage.models import StaffUser, utcnow

ROLES = {"sendco": "SENDCo", "staff": "Staff"}
LINK_DAYS = 7
MIN_PASSWORD = 10


class AccountError(ValueError):
    """An account change that cannot be made, with a message for the SENDCo."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_password_link(staff: StaffUser) -> str:
    """Give `staff` a fresh one-time token (the old one stops working) and return it."""
    token = secrets.token_urlsafe(32)
    staff.password_token_hash = _digest(token)
    staff.password_token_expires_at = utcnow() + timedelta(days=LINK_DAYS)
    return token


def staff_for_token(session: Session, token: str) -> StaffUser | None:
    """The active account this unexpired token belongs to, or None."""
    if not token or len(token) > 200:
        return None
    staff = session.exec(select(StaffUser).where(StaffUser.password_token_hash == _digest(token))).first()
    if staff is None or not staff.active or staff.password_token_expires_at is None:
        return None
    expires = staff.password_token_expires_at
    expires = expires if expires.tzinfo else expires.replace(tzinfo=timezone.utc)
    return staff if expires > datetime.now(timezone.utc) else None


def set_password(staff: StaffUser, password: str, confirm: str) -> None:
    """Set the password from a link: the link is used up and every earlier session ends."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"Choose a password of at least {MIN_PASSWORD} characters.")
    if password != confirm:
        raise AccountError("The two passwords are different. Type the same password twice.")
    staff.password_hash = generate_password_hash(password)
    staff.password_token_hash = None
    staff.password_token_expires_at = None
    staff.session_version += 1


def add_staff(session: Session, school_id: int, email: str, name: str, role: str) -> tuple[StaffUser, str]:
    """A new account without a usable password, and its one-time set-password token."""
    email, name = email.strip(), name.strip()
    if "@" not in email or len(email) > 200 or " " in email:
        raise AccountError("Enter the colleague's email address, like name@school.org.uk.")
    if not name:
        raise AccountError("Enter the colleague's name as families and colleagues should see it.")
    if role not in ROLES:
        raise AccountError("Choose SENDCo or Staff.")
    taken = session.exec(select(StaffUser.id).where(func.lower(StaffUser.email) == email.lower())).first()
    if taken is not None:
        raise AccountError("Someone already has an account with this email address.")
    staff = StaffUser(school_id=school_id, email=email, name=name[:120], role=role,
                      password_hash=generate_password_hash(secrets.token_urlsafe(32)))  # nobody knows it
    token = issue_password_link(staff)
    session.add(staff)
    session.flush()
    return staff, token
