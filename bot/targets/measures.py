"""Partnership measures for a school: two-way contact, check-in response rates, targets unheard.

- Families with at least one two-way exchange in the last 6 weeks: a carer wrote to the school
  and the school wrote to them (a message that reached their phone), both within the window —
  "more than three contacts a year" made visible.
- Check-in response rate by language and channel: check-ins sent, and how many got any answer.
- Targets with no family view yet: active targets no carer has said anything about.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from bot.targets.family_view import share_replies
from storage.models import CheckIn, CheckInAnswer, Child, Guardian, Message, Target

WINDOW = timedelta(weeks=6)
REACHED = ("accepted", "scheduled", "queued", "sending", "sent", "delivered", "read")


@dataclass(frozen=True)
class ResponseRate:
    """Check-ins sent to carers of one language and channel, and how many were answered."""

    language: str | None
    channel: str
    sent: int
    answered: int

    @property
    def percent(self) -> int:
        """Answered as a whole percentage of sent."""
        return round(100 * self.answered / self.sent) if self.sent else 0


@dataclass(frozen=True)
class Measures:
    """The school's figures, for the children list."""

    two_way_families: int
    known_families: int
    rates: list[ResponseRate]
    unheard_targets: list[tuple[Target, str]]  # (target, child's name)


def school_measures(session: Session, school_id: int, now: datetime) -> Measures:
    """Work out the measures for one school at `now`."""
    since = now - WINDOW
    wrote = select(Message.guardian_id).where(Message.school_id == school_id, Message.direction == "inbound",
                                              Message.created_at >= since)
    heard = select(Message.guardian_id).where(Message.school_id == school_id, Message.direction == "outbound",
                                              Message.status.in_(REACHED), Message.created_at >= since)
    two_way = session.exec(select(func.count(Guardian.id)).where(
        Guardian.school_id == school_id, Guardian.id.in_(wrote), Guardian.id.in_(heard))).one()
    known = session.exec(select(func.count(Guardian.id)).where(Guardian.school_id == school_id,
                                                                Guardian.known.is_(True))).one()
    return Measures(two_way_families=two_way, known_families=known, rates=_rates(session, school_id),
                    unheard_targets=_unheard(session, school_id))


def _rates(session: Session, school_id: int) -> list[ResponseRate]:
    answered = select(CheckInAnswer.check_in_id).where(CheckInAnswer.school_id == school_id)
    rows = session.exec(select(Guardian.preferred_language, Guardian.preferred_channel, CheckIn.id)
                        .join(Guardian, Guardian.id == CheckIn.guardian_id)
                        .where(CheckIn.school_id == school_id, CheckIn.status == "sent")).all()
    answered_ids = set(session.exec(answered).all())
    groups: dict[tuple, list[int]] = {}
    for language, channel, checkin_id in rows:
        groups.setdefault((language, channel), []).append(checkin_id)
    return [ResponseRate(language, channel, len(ids), sum(i in answered_ids for i in ids))
            for (language, channel), ids in sorted(groups.items(), key=lambda item: (item[0][0] or "", item[0][1]))]


def _unheard(session: Session, school_id: int) -> list[tuple[Target, str]]:
    answered = select(CheckInAnswer.target_id).where(CheckInAnswer.school_id == school_id,
                                                     CheckInAnswer.target_id.is_not(None))
    rows = session.exec(select(Target, Child.name).join(Child, Child.id == Target.child_id)
                        .where(Target.school_id == school_id, Target.status == "active",
                               Target.id.not_in(answered)).order_by(Child.name, Target.id)).all()
    # A reply to a share that names the target ("2 we read every night") is the family's view too.
    replied = {target_id for target_id, _ in share_replies(session, [target.id for target, _ in rows])}
    return [(target, name) for target, name in rows if target.id not in replied]
