"""Who an update to many families goes to: carers chosen by year group, SEND status, language,
a review this month, or ticked one by one; and who will not get it, with the reason in words.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlmodel import Session, select

from bot.inbox.display import school_zone
from bot.language.i18n import english_name
from bot.messaging.channel import get_channel
from bot.messaging.outbound import parent_language
from bot.messaging.phones import can_receive_replies
from storage.models import Child, Guardian, GuardianChild, Review, School


@dataclass
class Filters:
    """What the SENDCo chose on the update page (blank: everyone)."""

    year_group: str = ""
    send_status: str = ""
    language: str = ""
    review_this_month: bool = False

    @classmethod
    def from_args(cls, args) -> "Filters":
        """Read the filters from a form or query string."""
        return cls(year_group=args.get("year_group", "")[:40], send_status=args.get("send_status", "")[:40],
                   language=args.get("language", "")[:20], review_this_month=args.get("review_this_month") == "yes")


@dataclass
class Recipient:
    """A carer the update is for; `reason` says why they will not get it (None: they will)."""

    guardian: Guardian
    language: str
    children: list[str] = field(default_factory=list)
    reason: str | None = None


def why_not(guardian: Guardian) -> str | None:
    """Why a message started by staff cannot go to this carer, in words; None when it can."""
    if guardian.opted_out:
        return "Opted out (texted STOP): they must text START to hear from the school again."
    if guardian.do_not_contact:
        return "Marked “do not contact” on their family page."
    if not guardian.consent:
        return "Has not agreed to be contacted (their family page says so)."
    if not can_receive_replies(guardian.phone):
        return "No mobile number we can text."
    if guardian.preferred_channel == "voice" and not get_channel().speaks(guardian.preferred_language):
        # A voice-first family hears messages; an update typed once cannot be spoken in a language
        # the provider has no voice for (calls play staff recordings, made per message).
        return (f"No voice for {english_name(guardian.preferred_language or '')}: they get messages as calls; "
                "write to them in their conversation and record it there, or arrange an interpreter.")
    return None


def _month_bounds(school: School) -> tuple[datetime, datetime]:
    zone = school_zone(school)
    now = datetime.now(zone)
    start = datetime.combine(now.date().replace(day=1), time(0), zone)
    end = datetime.combine((start.date().replace(day=28) + timedelta(days=4)).replace(day=1),
                           time(0), zone)
    return start, end


def matching_carers(session: Session, school: School, filters: Filters) -> list[Recipient]:
    """Every carer (not archived) of a child (not archived) matching the filters, by name."""
    query = (select(Guardian, Child.name).join(GuardianChild, GuardianChild.guardian_id == Guardian.id)
             .join(Child, Child.id == GuardianChild.child_id)
             .where(Guardian.school_id == school.id, Child.school_id == school.id, Guardian.archived_at.is_(None),
                    Child.archived_at.is_(None), Guardian.known))
    if filters.year_group:
        query = query.where(Child.year_group == filters.year_group)
    if filters.send_status:
        query = query.where(Child.send_status == filters.send_status)
    if filters.review_this_month:
        start, end = _month_bounds(school)
        reviewed = select(Review.child_id).where(Review.school_id == school.id, Review.status == "scheduled",
                                                 Review.starts_at >= start, Review.starts_at < end)
        query = query.where(Child.id.in_(reviewed))
    found: dict[int, Recipient] = {}
    for guardian, child_name in session.exec(query.order_by(Guardian.name, Child.name)):
        language = parent_language(guardian, school)
        if filters.language and language != filters.language:
            continue
        recipient = found.setdefault(guardian.id, Recipient(guardian, language, reason=why_not(guardian)))
        recipient.children.append(child_name)
    return list(found.values())


def ticked(session: Session, school: School, guardian_ids: list[int]) -> list[Recipient]:
    """The school's carers with these ids (another school's ids are simply not found)."""
    if not guardian_ids:
        return []
    guardians = session.exec(select(Guardian).where(Guardian.school_id == school.id, Guardian.id.in_(guardian_ids),
                                                    Guardian.known).order_by(Guardian.name)).all()
    names: dict[int, list[str]] = {}
    for guardian_id, child_name in session.exec(
            select(GuardianChild.guardian_id, Child.name).join(Child, Child.id == GuardianChild.child_id)
            .where(GuardianChild.guardian_id.in_([g.id for g in guardians]), Child.school_id == school.id)):
        names.setdefault(guardian_id, []).append(child_name)
    return [Recipient(g, parent_language(g, school), sorted(names.get(g.id, [])), why_not(g)) for g in guardians]
