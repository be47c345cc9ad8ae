"""The demo school: a SENDCo, a Twilio number and families who write in several languages.

Numbers are from Ofcom's drama range (07700 900000–900999): they never reach a real phone.
"""
from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select
from werkzeug.security import generate_password_hash

from storage.models import (CheckIn, CheckInAnswer, Child, Conversation, Guardian, GuardianChild, Message, Review,
                            School, SchoolNumber, StaffUser, Target, TargetRevision, TargetShare, utcnow)

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
    session.flush()
    _seed_targets(session, school)
    return school


# Kuba's three targets: (English, how to help at home, the Polish his mother was sent, school's notes).
DEMO_TARGETS = [
    ("Kuba will ask an adult for help using his now/next card", "Use a now/next card for getting ready in the morning",
     "Kuba poprosi dorosłego o pomoc, używając karty teraz/potem", "Uses it in maths most days; still shy at lunch."),
    ("Kuba will read a short book with an adult for 10 minutes", None,
     "Kuba przeczyta krótką książkę z dorosłym przez 10 minut", "Reads with his TA three times a week."),
    ("Kuba will put on his coat by himself", "Let him try the zip first before helping",
     "Kuba sam założy kurtkę", None),
]
# Two check-ins, three weeks apart: (the mother's words, English, trend per target), oldest first.
DEMO_CHECKINS = [
    [("2", "2", 2), ("Czytamy co wieczór, lubi książki o dinozaurach", "We read every evening, he likes dinosaur books", 1),
     ("Trudniej, płacze przy zamku", "Harder, he cries at the zip", 3)],
    [("Lepiej, sam pokazuje kartę rano", "Better, he shows the card himself in the morning", 1), ("1", "1", 1),
     ("2", "2", 2)],
]


def _seed_targets(session: Session, school: School) -> None:
    """Kuba Kowalski's targets, shared with his Polish-speaking mother, and two check-ins she answered."""
    mother = session.exec(select(Guardian).where(Guardian.school_id == school.id, Guardian.name == "Anna Kowalska")).one()
    child = session.exec(select(Child).where(Child.school_id == school.id, Child.name == "Kuba Kowalski")).one()
    conversation = session.exec(select(Conversation).where(Conversation.guardian_id == mother.id)).one()
    now = utcnow()
    shared_at = now - timedelta(weeks=7)
    targets = []
    for text, help_line, _polish, notes in DEMO_TARGETS:
        target = Target(school_id=school.id, child_id=child.id, text=text, help_at_home=help_line,
                        starts_on=(shared_at - timedelta(days=3)).date(), school_notes=notes)
        session.add(target)
        session.flush()
        session.add(TargetRevision(target_id=target.id, revision=1, text=text, help_at_home=help_line,
                                   starts_on=target.starts_on, status="active", school_notes=notes))
        targets.append(target)
    share = Message(school_id=school.id, conversation_id=conversation.id, guardian_id=mother.id, direction="outbound",
                    channel="whatsapp", kind="staff_reply", body="(demo) Kuba's targets", language="pl",
                    translation="(demo) Cele Kuby", translation_engine="human", translation_status="human",
                    status="delivered", created_at=shared_at, sent_at=shared_at, simulated=True)
    session.add(share)
    session.flush()
    for number, (target, (_, _, polish, _)) in enumerate(zip(targets, DEMO_TARGETS), start=1):
        session.add(TargetShare(school_id=school.id, target_id=target.id, guardian_id=mother.id, revision=1,
                                number=number, language="pl", text=polish, engine="human", message_id=share.id,
                                created_at=shared_at))
    for weeks_ago, answers in zip((4, 1), DEMO_CHECKINS):
        asked = now - timedelta(weeks=weeks_ago)
        checkin = CheckIn(school_id=school.id, child_id=child.id, guardian_id=mother.id, due_at=asked, status="sent",
                          sent_at=asked, target_ids=[t.id for t in targets])
        session.add(checkin)
        session.flush()
        for minutes, (target, (words, english, trend)) in enumerate(zip(targets, answers), start=1):
            said = asked + timedelta(hours=2, minutes=minutes)
            message = Message(school_id=school.id, conversation_id=conversation.id, guardian_id=mother.id,
                              direction="inbound", channel="whatsapp", kind="flow_answer", body=words, language="pl",
                              translation=english, translation_engine="human", translation_status="human",
                              status="processed", created_at=said, simulated=True)
            session.add(message)
            session.flush()
            session.add(CheckInAnswer(school_id=school.id, target_id=target.id, child_id=child.id,
                                      guardian_id=mother.id, check_in_id=checkin.id, message_id=message.id,
                                      trend=trend, answered_on=said.date(), created_at=said))
    conversation.last_message_at = now - timedelta(weeks=1)
