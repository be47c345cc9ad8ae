"""Worker jobs. Each takes ids, loads rows, and is safe to run twice.

They run inside the app context that worker.py (or a test) pushes.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from rq import Retry
from sqlmodel import select

from bot.language import detect
from bot.outbound import deliver, enqueue_delivery
from bot.queue import enqueue
from bot.translation import TranslationUnavailable
from storage.db import session_scope
from storage.models import Guardian, Message, School, utcnow

log = logging.getLogger(__name__)

TRANSLATION_RETRY = Retry(max=3, interval=[5, 30, 120])
# The sweep leaves fresh rows to the jobs already enqueued for them.
SWEEP_GRACE = timedelta(minutes=2)


def translate_message(message_id: int) -> str | None:
    """Translate a parent's message into the school's staff language and store it beside it."""
    with session_scope() as session:
        message = session.get(Message, message_id)
        if message is None or message.direction != "inbound" or message.translation_status != "pending":
            return None
        target = session.get(School, message.school_id).staff_language
        if not message.body.strip():
            message.translation_status = "not_needed"
            return message.translation_status
        if message.language is None:
            prior = session.get(Guardian, message.guardian_id).preferred_language
            detection = detect(message.body, prior=prior)
            message.language, message.language_confidence = detection.language, detection.confidence
        if message.language is None:
            message.translation_status = "unavailable"
            message.translation_note = "the language of this message could not be recognised"
        elif message.language == target:
            message.translation_status, message.translation_engine = "not_needed", "none"
        else:
            try:
                result = current_app.extensions["translator"].translate(message.body, message.language, target)
            except TranslationUnavailable as missing:
                message.translation_status, message.translation_note = "unavailable", missing.reason
            else:
                message.translation, message.translation_engine = result.text, result.engine
                message.translation_status = "done"
        return message.translation_status


def deliver_message(message_id: int) -> None:
    """Send one stored outbound message (once, whatever happens to the job)."""
    deliver(message_id)


def sweep_pending() -> dict[str, int]:
    """Re-enqueue work the database says is still pending (Redis lost it, or was down)."""
    cutoff = utcnow() - SWEEP_GRACE
    with session_scope() as session:
        untranslated = session.exec(select(Message.id).where(
            Message.direction == "inbound", Message.translation_status == "pending",
            Message.created_at < cutoff)).all()
        unsent = session.exec(select(Message.id).where(
            Message.status == "outbox", Message.created_at < cutoff)).all()
    for message_id in untranslated:
        enqueue(translate_message, message_id, retry=TRANSLATION_RETRY)
    for message_id in unsent:
        enqueue_delivery(message_id)
    if untranslated or unsent:
        log.info("sweep re-enqueued %d translations and %d deliveries", len(untranslated), len(unsent))
    return {"translations": len(untranslated), "deliveries": len(unsent)}
