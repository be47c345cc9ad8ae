"""Checking and saving what staff type about a family: a carer's details and a child's.

Every problem comes back as a plain sentence for the form (never an exception page); nothing is
saved unless the whole form is right. Used by the families pages and by the CSV import.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import phonenumbers
from sqlmodel import Session, select

from bot.inbox.languages import SCRIPTS, choices
from storage.models import Child, Conversation, Guardian, GuardianChild, School

CHANNELS = {"sms": "SMS", "whatsapp": "WhatsApp", "voice": "Voice call"}
SEND_STATUSES = ("SEN support", "EHCP")
YEAR_GROUPS = ("Nursery", "Reception") + tuple(f"Year {n}" for n in range(1, 14))
# Ofcom keeps 07700 900000–900999 for drama: never a real phone, so the demo and tests use it.
DRAMA_RANGE = ("+447700900",)


def whole_number(text: str | None, digits: int = 4) -> int | None:
    """A small whole number typed in a form ("7"), or None ("", "-1", "²", "7.5", "99999")."""
    text = (text or "").strip()
    return int(text) if re.fullmatch(rf"[0-9]{{1,{digits}}}", text) else None


class FormProblem(ValueError):
    """What is wrong with a form, in words for the person who filled it in."""


def phone_problem(raw: str, region: str) -> tuple[str | None, str | None]:
    """(E.164 number, None) for a number we can text in `region`, or (None, what is wrong)."""
    raw = (raw or "").strip()
    if not raw:
        return None, "Enter a mobile number."
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None, f"“{raw}” is not a phone number."
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if not (phonenumbers.is_valid_number(parsed) or (e164.startswith(DRAMA_RANGE) and len(e164) == 13)):
        return None, f"“{raw}” is not a valid phone number (check the digits; numbers abroad start with +)."
    return e164, None


def year_group(text: str | None) -> str | None:
    """"3", "Y3", "year 3", "Year 3" → "Year 3"; "R" → "Reception"; other text kept as written."""
    text = (text or "").strip()
    if not text:
        return None
    lowered = text.lower().replace("year", "").replace("yr", "").strip().lstrip("y").strip()
    number = whole_number(lowered, 2)
    if number is not None and 1 <= number <= 13:
        return f"Year {number}"
    if lowered in ("r", "rec", "reception"):
        return "Reception"
    return text[:40]


def send_status(text: str | None) -> str | None:
    """"K", "SEN Support" → "SEN support"; "E", "EHC plan" → "EHCP"; None for blank or none."""
    lowered = (text or "").strip().lower()
    if lowered in ("k", "sen support", "sen_support", "support"):
        return "SEN support"
    if lowered in ("e", "ehcp", "ehc plan", "ehc", "statement"):
        return "EHCP"
    return None


@dataclass
class CarerDetails:
    """A carer form, checked: only built when every field is right."""

    name: str
    phone: str
    relationship: str | None
    language: str | None
    script: str | None
    channel: str
    quiet_start_hour: int | None
    quiet_end_hour: int | None
    consent: bool
    do_not_contact: bool
    problems: list[str] = field(default_factory=list)


def _hour(value: str, what: str, problems: list[str]) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    number = whole_number(value, 2)
    if number is not None and 0 <= number <= 23:
        return number
    problems.append(f"{what} must be an hour from 0 to 23, or blank for the school's.")
    return None


def check_carer(form: dict, school: School) -> CarerDetails:
    """The carer's details from a submitted form; raise FormProblem listing everything wrong."""
    problems: list[str] = []
    name = (form.get("name") or "").strip()
    if not name:
        problems.append("Enter the carer's name.")
    phone, problem = phone_problem(form.get("phone", ""), school.default_region)
    if problem:
        problems.append(problem)
    language = (form.get("language") or "").strip() or None
    if language and language not in dict(choices()):
        problems.append("Choose a language from the list.")
    script = (form.get("script") or "").strip() or None
    if script and script not in SCRIPTS:
        problems.append("Choose how they write from the list.")
    channel = form.get("channel") or "sms"
    if channel not in CHANNELS:
        problems.append("Choose SMS, WhatsApp or a voice call.")
    start = _hour(form.get("quiet_start_hour", ""), "Quiet hours start", problems)
    end = _hour(form.get("quiet_end_hour", ""), "Quiet hours end", problems)
    if (start is None) != (end is None):
        problems.append("Give both ends of the carer's quiet hours, or neither.")
    if problems:
        raise FormProblem(" ".join(problems))
    return CarerDetails(name=name[:120], phone=phone, relationship=(form.get("relationship") or "").strip()[:60] or None,
                        language=language, script=script, channel=channel, quiet_start_hour=start,
                        quiet_end_hour=end, consent=form.get("consent") == "yes",
                        do_not_contact=form.get("do_not_contact") == "yes")


def phone_owner(session: Session, school_id: int, phone: str) -> Guardian | None:
    """The school's carer (or unknown sender) with this number."""
    return session.exec(select(Guardian).where(Guardian.school_id == school_id, Guardian.phone == phone)).first()


def save_carer(session: Session, school: School, details: CarerDetails, guardian: Guardian | None = None,
               child: Child | None = None) -> Guardian:
    """Create or update a carer (and link them to `child`); raise FormProblem for a number already in use.

    A number that wrote in before anyone registered it is that person: the new details go on
    their row, so their messages stay with them.
    """
    owner = phone_owner(session, school.id, details.phone)
    if owner is not None and (guardian is None or owner.id != guardian.id):
        if owner.known and owner.archived_at is None:
            raise FormProblem(f"{owner.name or 'Another carer'} already has this number at this school. "
                              "Each carer needs their own number.")
        if guardian is None:
            guardian = owner  # an unknown sender (or an archived carer) becomes this carer
        else:
            raise FormProblem("This number belongs to an archived carer or an unknown sender; "
                              "open them from the families page instead.")
    if guardian is None:
        guardian = Guardian(school_id=school.id, phone=details.phone)
        session.add(guardian)
    if details.script != guardian.preferred_script:
        guardian.script_source = "staff" if details.script or guardian.script_source else None
    guardian.name, guardian.phone, guardian.known = details.name, details.phone, True
    guardian.preferred_language, guardian.preferred_script = details.language, details.script
    guardian.preferred_channel = details.channel
    guardian.quiet_start_hour, guardian.quiet_end_hour = details.quiet_start_hour, details.quiet_end_hour
    guardian.consent, guardian.do_not_contact, guardian.archived_at = details.consent, details.do_not_contact, None
    session.flush()
    if session.exec(select(Conversation).where(Conversation.guardian_id == guardian.id)).first() is None:
        session.add(Conversation(school_id=school.id, guardian_id=guardian.id))
    if child is not None:
        link = session.get(GuardianChild, (guardian.id, child.id))
        if link is None:
            session.add(GuardianChild(guardian_id=guardian.id, child_id=child.id, relationship=details.relationship))
        else:
            link.relationship = details.relationship or link.relationship
    elif details.relationship:
        for link in session.exec(select(GuardianChild).where(GuardianChild.guardian_id == guardian.id)):
            link.relationship = details.relationship
    session.flush()
    return guardian


def check_child(form: dict) -> tuple[str, str | None, str | None]:
    """(name, year group, SEND status) from a child form; raise FormProblem."""
    name = (form.get("name") or "").strip()
    if not name:
        raise FormProblem("Enter the child's name.")
    status = (form.get("send_status") or "").strip()
    if status and status not in SEND_STATUSES:
        raise FormProblem("Choose SEN support or EHCP.")
    return name[:120], year_group(form.get("year_group")), status or None
