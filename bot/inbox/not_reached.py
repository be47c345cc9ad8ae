"""“Not reached”: carers the school is not getting through to, each with the reason in words and a next step.

A carer is listed when they opted out, are marked do not contact or without consent, when the
last message to them failed, when nothing reached them in the last N days although something was
sent, or when messages reach them but they have never answered.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import g, render_template, request
from sqlalchemy import func
from sqlmodel import Session, select

from bot.inbox import bp
from bot.inbox.auth import login_required
from bot.inbox.wording import FAILED_STATUSES, explain_error
from storage.db import session_scope
from storage.models import Guardian, Message, utcnow

REACHED = ("delivered", "read")
DEFAULT_DAYS = 30


@dataclass
class NotReached:
    """One carer, why they are not being reached, and what to do about it."""

    guardian: Guardian
    reason: str
    next_step: str
    rank: int  # most pressing first


def _last_outbound(session: Session, school_id: int) -> dict[int, Message]:
    newest = (select(func.max(Message.id)).where(Message.school_id == school_id, Message.direction == "outbound",
                                                  Message.failover_of_id.is_(None) | (Message.status.in_(REACHED)))
              .group_by(Message.guardian_id))
    # The newest outbound per carer; a failover copy counts once it arrived (then the carer was reached).
    rows = session.exec(select(Message).where(Message.id.in_(newest))).all()
    return {message.guardian_id: message for message in rows}


def _counts(session: Session, school_id: int, since) -> tuple[dict, dict, dict]:
    def per_guardian(*conditions):
        query = (select(Message.guardian_id, func.count(Message.id)).where(Message.school_id == school_id, *conditions)
                 .group_by(Message.guardian_id))
        return dict(session.exec(query).all())

    return (per_guardian(Message.direction == "inbound", Message.kind != "keyword"),
            per_guardian(Message.direction == "outbound", Message.status.in_(REACHED), Message.created_at >= since),
            per_guardian(Message.direction == "outbound", Message.created_at >= since))


def not_reached_list(session: Session, school_id: int, days: int) -> list[NotReached]:
    """The school's carers not being reached, most pressing first."""
    since = utcnow() - timedelta(days=days)
    carers = session.exec(select(Guardian).where(Guardian.school_id == school_id, Guardian.known,
                                                 Guardian.archived_at.is_(None)).order_by(Guardian.name)).all()
    last = _last_outbound(session, school_id)
    answered, reached, tried = _counts(session, school_id, since)
    found = []
    for guardian in carers:
        entry = _why(guardian, last.get(guardian.id), answered.get(guardian.id, 0), reached.get(guardian.id, 0),
                     tried.get(guardian.id, 0), days)
        if entry:
            found.append(NotReached(guardian, *entry))
    return sorted(found, key=lambda item: item.rank)


def _why(guardian: Guardian, last: Message | None, answered: int, reached: int, tried: int, days: int):
    if guardian.opted_out:
        return ("Opted out: texted STOP.", "Nothing can be sent until they text START. If it matters, "
                "phone them or speak to them at the gate.", 0)
    if last is not None and last.status in FAILED_STATUSES:
        return (f"The last message did not arrive: {explain_error(last.error_code, last.error_message)}.",
                "Check the number with them (phone, or at the gate), then correct it on their family page.", 1)
    if guardian.do_not_contact:
        return ("Marked “do not contact”.", "Check with the family whether this still applies.", 2)
    if not guardian.consent:
        return ("Has not agreed to be contacted.", "Ask them for consent, then tick it on their family page.", 2)
    if tried and not reached:
        return (f"Nothing sent in the last {days} days has arrived yet.",
                "Look at their conversation: messages may be waiting for quiet hours or still sending.", 3)
    if last is None:
        return ("Never sent anything.", "Write to them: open their family page and choose “Write to them”.", 4)
    if not answered:
        return ("Messages arrive but they have never answered.",
                "Check their language on their family page, or try WhatsApp or a call.", 5)
    return None


@bp.get("/not-reached")
@login_required
def not_reached():
    """Carers the school is not getting through to, with reasons and next steps."""
    days = request.args.get("days", DEFAULT_DAYS, type=int)
    days = days if days and 1 <= days <= 365 else DEFAULT_DAYS
    with session_scope() as db:
        rows = not_reached_list(db, g.school.id, days)
        return render_template("staff/not_reached.html", rows=rows, days=days)
