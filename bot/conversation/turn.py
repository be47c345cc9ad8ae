"""Acting on a guardian's stored messages, strictly in the order they came.

`process_guardian` is the per-guardian step: the worker runs it for every inbound message,
and a voice webhook (which must answer with TwiML in the request) can call it inline. It holds
the guardian's row lock, so two messages arriving together wait for each other, and it takes
every unprocessed message in id order. A failure loses nothing: the message stays "received"
and the job's retry or the sweep runs this again.
"""
from __future__ import annotations

from sqlmodel import Session, select

from bot.conversation import flow_runs
from bot.conversation.keyword_replies import apply_keyword, keyword_for
from bot.guardians import learn_language, lock_guardian
from bot.language.detection import detect
from bot.tasks import defer
from storage.db import session_scope
from storage.models import Conversation, Guardian, Message, School


def process_guardian(guardian_id: int) -> int:
    """Act on a guardian's received messages, oldest first; how many were processed."""
    with session_scope() as session:
        guardian = lock_guardian(session, guardian_id)
        if guardian is None:
            return 0  # removed since the message came (a job takes ids and may outlive its row)
        received = session.exec(select(Message).where(
            Message.guardian_id == guardian_id, Message.direction == "inbound",
            Message.status == "received").order_by(Message.id)).all()
        for message in received:
            _process(session, message, guardian)
            message.status = "processed"
            if message.translation_status == "pending":
                defer(session, "translate_message", message.id)
        return len(received)


def _process(session: Session, message: Message, guardian: Guardian) -> None:
    """Language, keywords and the guardian's question flow for one message."""
    school = session.get(School, message.school_id)
    _note_arrival(session, message, guardian)
    detection = detect(message.body, prior=guardian.preferred_language)
    message.language, message.language_confidence = detection.language, detection.confidence
    message.script = detection.script
    learn_language(guardian, message)
    if message.language == school.staff_language or not message.body.strip():
        message.translation_status, message.translation_engine = "not_needed", "none"
    keyword = keyword_for(session, message, guardian)
    if keyword:
        message.kind, message.translation_status = "keyword", "not_needed"
        apply_keyword(session, keyword, guardian, school, message.channel, message.script)
        return
    flow_runs.answer(session, message, guardian, school)


def _note_arrival(session: Session, message: Message, guardian: Guardian) -> None:
    # Kept here, not in the webhook: the webhook only inserts, so it never waits on this
    # guardian's row lock. WhatsApp's 24-hour window counts from when the message arrived.
    if guardian.last_inbound_at is None or guardian.last_inbound_at < message.created_at:
        guardian.last_inbound_at = message.created_at
    conversation = session.get(Conversation, message.conversation_id)
    if conversation.last_message_at is None or conversation.last_message_at < message.created_at:
        conversation.last_message_at = message.created_at
