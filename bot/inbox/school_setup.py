"""Creating a school from nothing: its row, its Twilio numbers and its first SENDCo (for `flask school create`)."""
from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, select

from bot.inbox.accounts import AccountError, add_staff
from bot.messaging.phones import InvalidPhoneNumber, normalise_phone
from storage.models import School, SchoolNumber, StaffUser, Trust


class SetupProblem(ValueError):
    """Why the school could not be created (nothing was)."""


def create_school(session: Session, *, name: str, numbers, whatsapp_numbers, sendco_email: str,
                  sendco_name: str, timezone: str = "Europe/London", region: str = "GB",
                  trust_id: int | None = None) -> tuple[School, str]:
    """Create everything in the caller's transaction; return the school and its SENDCo's one-time
    set-password token."""
    if not name.strip():
        raise SetupProblem("Give the school a name.")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SetupProblem(f"{timezone!r} is not a timezone (like Europe/London).") from None
    try:
        phones = [normalise_phone(number, region) for number in numbers]
        whatsapp = {normalise_phone(number, region) for number in whatsapp_numbers}
    except InvalidPhoneNumber:
        raise SetupProblem("A number is not a phone number; write it as +447…") from None
    if not whatsapp <= set(phones):
        raise SetupProblem("A --whatsapp number must also be given with --number.")
    taken = session.exec(select(SchoolNumber.phone).where(SchoolNumber.phone.in_(phones))).all()
    if taken:
        raise SetupProblem(f"{len(taken)} of these numbers already belong to a school.")
    school = School(name=name.strip(), timezone=timezone, default_region=region.upper(), trust_id=trust_id)
    session.add(school)
    session.flush()
    for phone in dict.fromkeys(phones):
        session.add(SchoolNumber(school_id=school.id, phone=phone, whatsapp=phone in whatsapp))
    try:
        _, token = add_staff(session, school.id, sendco_email, sendco_name, "sendco")
    except AccountError as problem:
        raise SetupProblem(str(problem)) from None
    return school, token


def trust_named(session: Session, name: str) -> Trust:
    """The trust with this name, created if new."""
    trust = session.exec(select(Trust).where(Trust.name == name.strip())).first()
    if trust is None:
        trust = Trust(name=name.strip())
        session.add(trust)
        session.flush()
    return trust


def add_trust_admin(session: Session, trust_name: str, email: str, name: str) -> str:
    """A trust admin account (homed at the trust's first school); return its set-password token."""
    trust = session.exec(select(Trust).where(Trust.name == trust_name.strip())).first()
    home = session.exec(select(School).where(School.trust_id == trust.id).order_by(School.id)).first() if trust else None
    if home is None:
        raise SetupProblem(f"No trust called {trust_name!r} with a school yet: create a school with --trust first.")
    try:
        _, token = add_staff(session, home.id, email, name, "sendco")
    except AccountError as problem:
        raise SetupProblem(str(problem)) from None
    staff = session.exec(select(StaffUser).where(StaffUser.email == email.strip())).one()
    staff.role = "trust_admin"
    return token
