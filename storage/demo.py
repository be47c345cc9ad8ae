"""The demo school: a SENDCo, a Twilio number and families who write in several languages.

Numbers are from Ofcom's drama range (07700 900000–900999): they never reach a real phone.
"""
from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select
from werkzeug.security import generate_password_hash

from storage.models import (Child, Conversation, Guardian, GuardianChild, Review, School, SchoolNumber, StaffUser,
                            utcnow)

DEMO_SCHOOL = "Riverside Primary School"
DEMO_NUMBER = "+447700900000"
DEMO_STAFF_EMAIL = "sendco@riverside.example"
DEMO_STAFF_PASSWORD = "riverside-demo"

# (guardian name, phone, language, channel, child name, child's SEND status)
DEMO_FAMILIES = [
    ("María García", "+447700900101", "es", "sms", "Lucas García", "SEN support"),
    ("Anna Kowalska", "+447700900102", "pl", "whatsapp", "Kuba Kowalski", "EHCP"),
    ("Ayesha Khan", "+447700900103", "ur", "sms", "Zain Khan", "SEN support"),
    ("Fatima Al-Sayed", "+447700900104", "ar", "whatsapp", "Omar Al-Sayed", "EHCP"),
    ("Ioana Popescu", "+447700900105", "ro", "sms", "Andrei Popescu", "SEN support"),
    ("Sarah Jones", "+447700900106", "en", "sms", "Mia Jones", "SEN support"),
    # Families who cannot read a text in any language: the school phones them (issue 10).
    ("Rahima Begum", "+447700900107", "bn", "voice", "Ayaan Begum", "SEN support"),
    ("Hodan Abdi", "+447700900108", "so", "voice", "Sagal Abdi", "EHCP"),
]
# Voice-first families' children have a review coming up, so a call can carry its reminder at once.
DEMO_REVIEW_DAYS = {"Ayaan Begum": 10, "Sagal Abdi": 12}


def seed_demo(session: Session) -> School:
    """Create the demo school once (running it again changes nothing)."""
    existing = session.exec(select(School).where(School.name == DEMO_SCHOOL)).first()
    if existing:
        return existing
    school = School(name=DEMO_SCHOOL)
    session.add(school)
    session.flush()
    session.add(SchoolNumber(school_id=school.id, phone=DEMO_NUMBER, whatsapp=True))
    session.add(StaffUser(school_id=school.id, email=DEMO_STAFF_EMAIL, name="Ms Patel (SENDCo)",
                          password_hash=generate_password_hash(DEMO_STAFF_PASSWORD)))
    for name, phone, language, channel, child_name, status in DEMO_FAMILIES:
        guardian = Guardian(school_id=school.id, name=name, phone=phone,
                            preferred_language=language, preferred_channel=channel)
        child = Child(school_id=school.id, name=child_name, send_status=status)
        session.add_all([guardian, child])
        session.flush()
        session.add(GuardianChild(guardian_id=guardian.id, child_id=child.id, relationship="parent"))
        session.add(Conversation(school_id=school.id, guardian_id=guardian.id))
        if child_name in DEMO_REVIEW_DAYS:  # reminders are planned by the app when staff schedule; none here
            starts = (utcnow() + timedelta(days=DEMO_REVIEW_DAYS[child_name])).replace(hour=14, minute=0, second=0,
                                                                                      microsecond=0)
            session.add(Review(school_id=school.id, child_id=child.id, starts_at=starts, kind="sen_support",
                               location="Room 4"))
    return school
