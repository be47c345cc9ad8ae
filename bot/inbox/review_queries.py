"""Queries behind the review pages. Every one takes the staff member's school id (or a review
already loaded through one), so no page can show one school's reviews to another. None commit;
`record_request_by_hand` is the one write, made inside the view's transaction.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, select

from bot.reviews.schedule import guardians_of
from storage.models import Child, Conversation, FlowAnswer, FlowRun, Guardian, Message, Reminder, Review

PAST_LIMIT = 50
CONTRIBUTION_FLOW = "pre_review"
REMINDER_FLOW = "review_reminder"


@dataclass
class ReviewRow:
    """One line of the review list: the review and the child's name."""

    review: Review
    child: str


@dataclass
class Reached:
    """One guardian of the child and everything the school planned or sent them for one review."""

    guardian: Guardian
    reminders: list[Reminder] = field(default_factory=list)
    messages: dict[int, Message] = field(default_factory=dict)  # reminder's message id -> message
    failovers: dict[int, Message] = field(default_factory=dict)  # message id -> its failover copy
    reply: FlowAnswer | None = None  # their one-tap answer to the reminder
    conversation_id: int | None = None


def upcoming_reviews(session: Session, school_id: int, now: datetime) -> list[ReviewRow]:
    """Scheduled reviews still to come, soonest first."""
    query = (select(Review, Child.name).join(Child, Child.id == Review.child_id)
             .where(Review.school_id == school_id, Review.status == "scheduled", Review.starts_at >= now)
             .order_by(Review.starts_at, Review.id))
    return [ReviewRow(review, child) for review, child in session.exec(query)]


def past_reviews(session: Session, school_id: int, now: datetime, limit: int = PAST_LIMIT) -> list[ReviewRow]:
    """Reviews that have happened or were cancelled, most recent first."""
    query = (select(Review, Child.name).join(Child, Child.id == Review.child_id)
             .where(Review.school_id == school_id, (Review.status != "scheduled") | (Review.starts_at < now))
             .order_by(Review.starts_at.desc(), Review.id.desc()).limit(limit))
    return [ReviewRow(review, child) for review, child in session.exec(query)]


def get_review(session: Session, school_id: int, review_id: int) -> Review | None:
    """A review of this school, or None (also for another school's)."""
    return session.exec(select(Review).where(Review.id == review_id, Review.school_id == school_id)).first()


def school_children(session: Session, school_id: int) -> list[Child]:
    """The school's children, by name (the choices when scheduling a review)."""
    return list(session.exec(select(Child).where(Child.school_id == school_id).order_by(Child.name, Child.id)))


def get_child(session: Session, school_id: int, child_id: int) -> Child | None:
    """A child of this school, or None."""
    return session.exec(select(Child).where(Child.id == child_id, Child.school_id == school_id)).first()


def school_guardians_of(session: Session, school_id: int, child_id: int) -> list[Guardian]:
    """The child's guardians who belong to this school."""
    return [guardian for guardian in guardians_of(session, child_id) if guardian.school_id == school_id]


def who_was_reached(session: Session, review: Review) -> list[Reached]:
    """For each guardian of the review's child: reminders, their messages and failovers, the reply."""
    reached = [Reached(guardian) for guardian in school_guardians_of(session, review.school_id, review.child_id)]
    reminders = session.exec(select(Reminder).where(Reminder.review_id == review.id)
                             .order_by(Reminder.due_at, Reminder.id)).all()
    message_ids = [r.message_id for r in reminders if r.message_id]
    messages = _messages(session, review.school_id, message_ids)
    failovers = _failovers(session, review.school_id, message_ids)
    replies = reminder_replies(session, review.id)
    conversations = _conversation_ids(session, review.school_id, [entry.guardian.id for entry in reached])
    for entry in reached:
        entry.reminders = [r for r in reminders if r.guardian_id == entry.guardian.id]
        entry.messages = {i: messages[i] for i in (r.message_id for r in entry.reminders) if i in messages}
        entry.failovers = {i: failovers[i] for i in entry.messages if i in failovers}
        entry.reply = replies.get(entry.guardian.id)
        entry.conversation_id = conversations.get(entry.guardian.id)
    return reached


def families_told(session: Session, review: Review) -> list[Guardian]:
    """Guardians who already received a message about this review (they hear of a move or a cancellation)."""
    told = set(session.exec(select(Reminder.guardian_id).where(Reminder.review_id == review.id,
                                                               Reminder.status == "sent")))
    return [guardian for guardian in school_guardians_of(session, review.school_id, review.child_id)
            if guardian.id in told and not guardian.opted_out]


def reminder_replies(session: Session, review_id: int) -> dict[int, FlowAnswer]:
    """Each guardian's latest answered one-tap reply to a reminder about this review."""
    query = (select(FlowAnswer).join(FlowRun, FlowRun.id == FlowAnswer.flow_run_id)
             .where(FlowAnswer.review_id == review_id, FlowRun.review_id == review_id,
                    FlowRun.flow_id == REMINDER_FLOW, FlowAnswer.status == "answered")
             .order_by(FlowAnswer.id))
    return {answer.guardian_id: answer for answer in session.exec(query)}


def contribution_runs(session: Session, review: Review) -> list[FlowRun]:
    """Every run of the pre-review questions for this review, oldest first."""
    query = (select(FlowRun).where(FlowRun.review_id == review.id, FlowRun.school_id == review.school_id,
                                   FlowRun.flow_id == CONTRIBUTION_FLOW)
             .order_by(FlowRun.started_at, FlowRun.id))
    return list(session.exec(query))


def messages_by_id(session: Session, school_id: int, message_ids: list[int]) -> dict[int, Message]:
    """The school's messages with these ids."""
    return _messages(session, school_id, message_ids)


def _messages(session: Session, school_id: int, message_ids: list[int]) -> dict[int, Message]:
    if not message_ids:
        return {}
    rows = session.exec(select(Message).where(Message.id.in_(message_ids), Message.school_id == school_id))
    return {message.id: message for message in rows}


def _failovers(session: Session, school_id: int, message_ids: list[int]) -> dict[int, Message]:
    if not message_ids:
        return {}
    rows = session.exec(select(Message).where(Message.failover_of_id.in_(message_ids),
                                              Message.school_id == school_id).order_by(Message.id))
    return {message.failover_of_id: message for message in rows}


def _conversation_ids(session: Session, school_id: int, guardian_ids: list[int]) -> dict[int, int]:
    if not guardian_ids:
        return {}
    rows = session.exec(select(Conversation.guardian_id, Conversation.id).where(
        Conversation.guardian_id.in_(guardian_ids), Conversation.school_id == school_id))
    return dict(rows.all())
