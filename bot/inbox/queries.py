"""Queries behind the inbox and the simulator. Every one takes the staff member's school id.

A row from another school is simply not found (the view answers 404), so no page can show
one school's families to another. Like storage.queries, these never commit.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, or_
from sqlmodel import Session, select

from storage.models import Child, Conversation, Guardian, GuardianChild, Message, StaffUser, VoiceRecording

LIST_LIMIT = 200
# Outbound statuses that mean the parent's phone has the message (or the network has it).
HANDED_OVER = ("accepted", "scheduled", "queued", "sending", "sent", "delivered", "read")


@dataclass
class ConversationRow:
    """One line of the conversation list."""

    conversation: Conversation
    guardian: Guardian
    unread: int
    children: list[str] = field(default_factory=list)
    last_message: Message | None = None


def _unread_count():
    """Inbound messages newer than the moment staff last opened the conversation."""
    return (
        select(func.count(Message.id))
        .where(Message.conversation_id == Conversation.id, Message.direction == "inbound",
               or_(Conversation.staff_read_at.is_(None), Message.created_at > Conversation.staff_read_at))
        .correlate(Conversation)
        .scalar_subquery()
    )


def conversation_rows(session: Session, school_id: int, limit: int = LIST_LIMIT) -> list[ConversationRow]:
    """The school's conversations: unread first, then the most recent."""
    unread = _unread_count().label("unread")
    query = (
        select(Conversation, Guardian, unread)
        .join(Guardian, Guardian.id == Conversation.guardian_id)
        .where(Conversation.school_id == school_id, Guardian.school_id == school_id)
        .order_by((unread > 0).desc(), Conversation.last_message_at.desc().nulls_last(),
                  Conversation.id.desc())
        .limit(limit)
    )
    rows = [ConversationRow(conversation, guardian, count) for conversation, guardian, count in session.exec(query)]
    children = children_names(session, school_id, [row.guardian.id for row in rows])
    latest = latest_messages(session, school_id, [row.conversation.id for row in rows])
    for row in rows:
        row.children = children.get(row.guardian.id, [])
        row.last_message = latest.get(row.conversation.id)
    return rows


def children_names(session: Session, school_id: int, guardian_ids: list[int]) -> dict[int, list[str]]:
    """Each guardian's children's names, alphabetical."""
    if not guardian_ids:
        return {}
    query = (
        select(GuardianChild.guardian_id, Child.name)
        .join(Child, Child.id == GuardianChild.child_id)
        .where(GuardianChild.guardian_id.in_(guardian_ids), Child.school_id == school_id)
        .order_by(Child.name)
    )
    names: dict[int, list[str]] = {}
    for guardian_id, name in session.exec(query):
        names.setdefault(guardian_id, []).append(name)
    return names


def latest_messages(session: Session, school_id: int, conversation_ids: list[int]) -> dict[int, Message]:
    """The newest message of each conversation."""
    if not conversation_ids:
        return {}
    newest = (
        select(func.max(Message.id))
        .where(Message.school_id == school_id, Message.conversation_id.in_(conversation_ids))
        .group_by(Message.conversation_id)
    )
    messages = session.exec(select(Message).where(Message.id.in_(newest))).all()
    return {message.conversation_id: message for message in messages}


def school_row(session: Session, model, school_id: int, row_id: int):
    """A row of one school's table by id, or None (a missing row and another school's look alike)."""
    row = session.get(model, row_id)
    return row if row is not None and row.school_id == school_id else None


def get_conversation(session: Session, school_id: int, conversation_id: int) -> Conversation | None:
    """A conversation of this school, or None (also for another school's)."""
    return session.exec(
        select(Conversation).where(Conversation.id == conversation_id, Conversation.school_id == school_id)
    ).first()


def conversation_message(session: Session, school_id: int, conversation_id: int, message_id: int) -> Message | None:
    """One message of one of this school's conversations, or None (also for another school's)."""
    return session.exec(select(Message).where(Message.id == message_id, Message.school_id == school_id,
                                              Message.conversation_id == conversation_id)).first()


def message_by_send_key(session: Session, school_id: int, send_key: str) -> Message | None:
    """The school's staff reply stored from the send form with this one-time key, if any."""
    return session.exec(select(Message).where(Message.school_id == school_id, Message.send_key == send_key)).first()


def mark_read(session: Session, conversation: Conversation) -> None:
    """Mark the inbound messages stored so far as read; one arriving a moment later stays unread."""
    newest = session.exec(select(func.max(Message.created_at)).where(
        Message.conversation_id == conversation.id, Message.direction == "inbound")).one()
    if newest is not None and (conversation.staff_read_at is None or newest > conversation.staff_read_at):
        conversation.staff_read_at = newest


def thread_messages(session: Session, conversation: Conversation) -> list[Message]:
    """Every message of a conversation, oldest first."""
    query = (select(Message)
             .where(Message.conversation_id == conversation.id, Message.school_id == conversation.school_id)
             .order_by(Message.created_at, Message.id))
    return list(session.exec(query).all())


def staff_names(session: Session, school_id: int, staff_ids: set[int]) -> dict[int, str]:
    """Names of the school's staff who wrote these messages."""
    if not staff_ids:
        return {}
    query = select(StaffUser.id, StaffUser.name).where(StaffUser.id.in_(staff_ids), StaffUser.school_id == school_id)
    return dict(session.exec(query).all())


def school_guardians(session: Session, school_id: int) -> list[Guardian]:
    """The school's guardians, known contacts first, by name."""
    query = select(Guardian).where(Guardian.school_id == school_id).order_by(
        Guardian.known.desc(), Guardian.name, Guardian.id)
    return list(session.exec(query).all())


def get_guardian(session: Session, school_id: int, guardian_id: int) -> Guardian | None:
    """A guardian of this school, or None (also for another school's)."""
    return session.exec(select(Guardian).where(Guardian.id == guardian_id, Guardian.school_id == school_id)).first()


def guardian_by_phone(session: Session, school_id: int, phone: str) -> Guardian | None:
    """The school's guardian with this E.164 number."""
    return session.exec(select(Guardian).where(Guardian.school_id == school_id, Guardian.phone == phone)).first()


def phone_view_messages(session: Session, school_id: int, guardian_id: int) -> list[Message]:
    """What the parent's phone holds: what they sent, and what actually reached them."""
    query = (
        select(Message)
        .where(Message.school_id == school_id, Message.guardian_id == guardian_id,
               or_(Message.direction == "inbound", Message.status.in_(HANDED_OVER)))
        .order_by(Message.created_at, Message.id)
    )
    return list(session.exec(query).all())


def recordings_for(session: Session, school_id: int, message_ids: list[int]) -> dict:
    """message id -> the parent's recording left with it (voice messages, answers recorded on a call)."""
    if not message_ids:
        return {}
    rows = session.exec(select(VoiceRecording).where(VoiceRecording.school_id == school_id,
                                                     VoiceRecording.message_id.in_(message_ids))).all()
    return {row.message_id: row for row in rows}
