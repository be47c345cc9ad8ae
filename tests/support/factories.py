"""Factories for schools, staff, guardians and children, so tests don't copy set-up."""
from __future__ import annotations

import itertools
import uuid

from sqlmodel import Session
from werkzeug.security import generate_password_hash

from storage.models import Child, Conversation, Guardian, GuardianChild, School, SchoolNumber, StaffUser

_numbers = itertools.count(1)
STAFF_PASSWORD = "correct horse battery staple"


def make_school(session: Session, name: str = "Test School", phone: str | None = None,
                whatsapp: bool = True, **fields) -> School:
    """A school with one Twilio number (SMS and WhatsApp).

    No quiet hours unless a test asks for them, so a test's result never depends on the hour
    the suite happens to run at.
    """
    fields.setdefault("quiet_start_hour", 0)
    fields.setdefault("quiet_end_hour", 0)
    school = School(name=name, **fields)
    session.add(school)
    session.flush()
    phone = phone or f"+44770090{next(_numbers):04d}"
    session.add(SchoolNumber(school_id=school.id, phone=phone, whatsapp=whatsapp))
    session.flush()
    return school


def make_staff(session: Session, school: School, email: str | None = None) -> StaffUser:
    """A staff user whose password is STAFF_PASSWORD."""
    staff = StaffUser(school_id=school.id, email=email or f"staff-{uuid.uuid4().hex[:8]}@school.example",
                      name="Test SENDCo", password_hash=generate_password_hash(STAFF_PASSWORD))
    session.add(staff)
    session.flush()
    return staff


def make_guardian(session: Session, school: School, phone: str, *, name: str = "Test Parent",
                  language: str | None = None, channel: str = "sms", child: str | None = "Test Child",
                  **fields) -> Guardian:
    """A known guardian with a conversation and (by default) one child."""
    guardian = Guardian(school_id=school.id, name=name, phone=phone, preferred_language=language,
                        preferred_channel=channel, **fields)
    session.add(guardian)
    session.flush()
    session.add(Conversation(school_id=school.id, guardian_id=guardian.id))
    if child:
        kid = Child(school_id=school.id, name=child)
        session.add(kid)
        session.flush()
        session.add(GuardianChild(guardian_id=guardian.id, child_id=kid.id))
    session.flush()
    return guardian


def school_number(session: Session, school: School) -> str:
    """The school's first Twilio number."""
    from storage.queries import school_sender

    return school_sender(session, school.id, "sms")
