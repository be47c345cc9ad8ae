"""Creating a school from nothing: its row, its Twilio numbers and its first SENDCo (for `flask school create`)."""
from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, select

from bot.inbox.accounts import AccountError, add_staff
from bot.messaging.phones import InvalidPhoneNumber, normalise_phone
from storage.models import School, SchoolNumber


class SetupProblem(ValueError):
    """Why the school could not be created (nothing was)."""


def create_school(session: Session, *, name: str, numbers, whatsapp_numbers, sendco_email: str,
                  sendco_name: str, timezone: str = "Europe/London", region: str = "GB") -> str:
    """Create everything in the caller's transaction; return the SENDCo's one-time set-password token."""
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
    school = School(name=name.strip(), timezone=timezone, default_region=region.upper())
    session.add(school)
    session.flush()
    for phone in dict.fromkeys(phones):
        session.add(SchoolNumber(school_id=school.id, phone=phone, whatsapp=phone in whatsapp))
    try:
        _, token = add_staff(session, school.id, sendco_email, sendco_name, "sendco")
    except AccountError as problem:
        raise SetupProblem(str(problem)) from None
    return token
