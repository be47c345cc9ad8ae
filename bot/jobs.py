"""Worker jobs. Each takes ids, loads rows, and is safe to run twice.

They run inside the app context that worker.py (or a test) pushes.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from rq import Retry
from sqlalchemy import or_
from sqlmodel import select

from bot.language import detect
from bot import flow_runs
from bot.delivery import deliver, fail_over
from bot.outbound import enqueue_delivery
from bot.queue import enqueue
from bot.reviews import due_reminder_ids, send_reminders
from bot.translation import TranslationUnavailable
from storage.db import session_scope
from storage.models import Guardian, Message, School, utcnow

log = logging.getLogger(__name__)

TRANSLATION_RETRY = Retry(max=3, interval=[5, 30, 120])
# The sweep leaves fresh rows to the jobs already enqueued for them.
SWEEP_GRACE = timedelta(minutes=2)
# Reminders per job: small enough that two workers share a large fan-out, large enough that a
# trust's 10,000 reminders are not 10,000 jobs.
REMINDER_BATCH = 100


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


def process_inbound(guardian_id: int) -> None:
    """Act on a guardian's messages that were stored but not yet processed (the sweep's retry)."""
    from bot.inbound import process_received

    process_received(guardian_id)


def send_reminder_batch(reminder_ids: list[int]) -> int:
    """Send a batch of due reminders (the sweep splits them so every worker can take a share)."""
    with session_scope() as session:
        to_send = send_reminders(session, reminder_ids, utcnow())
    for message_id in to_send:
        enqueue_delivery(message_id)
    return len(to_send)


def deliver_message(message_id: int) -> None:
    """Send one stored outbound message (once, whatever happens to the job)."""
    deliver(message_id)


def sweep_pending() -> dict[str, int]:
    """Re-enqueue what the database says is still pending; recover sends and deliveries that stalled.

    Redis may have lost jobs (a restart, a flush, an outage): the rows are the truth.
    """
    now = utcnow()
    config = current_app.config
    with session_scope() as session:
        unprocessed = session.exec(select(Message.guardian_id).distinct().where(
            Message.direction == "inbound", Message.status == "received",
            Message.created_at < now - SWEEP_GRACE)).all()
        untranslated = session.exec(select(Message.id).where(
            Message.direction == "inbound", Message.translation_status == "pending",
            Message.created_at < now - SWEEP_GRACE)).all()
        stalled = _recover_interrupted_sends(session, now - timedelta(minutes=config["DISPATCH_RECOVERY_MINUTES"]))
        unsent = session.exec(select(Message.id).where(
            Message.status == "outbox", Message.created_at < now - SWEEP_GRACE,
            or_(Message.not_before.is_(None), Message.not_before <= now))).all()
        failovers = _fail_over_silent_whatsapp(session, now - timedelta(minutes=config["WHATSAPP_FAILOVER_MINUTES"]))
    with session_scope() as session:
        due_reminders = due_reminder_ids(session, now)
    with session_scope() as session:
        chasers = flow_runs.time_out_quiet_runs(session, now)
    for guardian_id in unprocessed:
        enqueue(process_inbound, guardian_id)
    for message_id in untranslated:
        enqueue(translate_message, message_id, retry=TRANSLATION_RETRY)
    for start in range(0, len(due_reminders), REMINDER_BATCH):
        enqueue(send_reminder_batch, due_reminders[start:start + REMINDER_BATCH])
    for message_id in [*unsent, *failovers, *chasers]:
        enqueue_delivery(message_id)
    counts = {"unprocessed": len(unprocessed), "translations": len(untranslated), "deliveries": len(unsent), "recovered_sends": stalled,
              "failovers": len(failovers), "due_reminders": len(due_reminders), "flow_timeouts": len(chasers)}
    if any(counts.values()):
        log.info("sweep: %s", counts)
    return counts


def _recover_interrupted_sends(session, cutoff) -> int:
    # A worker killed between claiming a message and storing Twilio's answer leaves it in
    # "dispatching". Twilio reports every message it accepted to the status callback (which
    # carries our id), so silence this long means it never got there: back to the outbox.
    stuck = session.exec(select(Message).where(
        Message.status == "dispatching", Message.provider_sid.is_(None),
        Message.status_updated_at < cutoff)).all()
    for message in stuck:
        message.status, message.status_updated_at = "outbox", utcnow()
        message.error_message = "The worker stopped while sending; Twilio never reported it, so it was sent again."
    return len(stuck)


def _fail_over_silent_whatsapp(session, cutoff) -> list[int]:
    # WhatsApp accepted it but never confirmed delivery: the phone may be off WhatsApp.
    silent = session.exec(select(Message).where(
        Message.direction == "outbound", Message.channel == "whatsapp",
        Message.status.in_(["queued", "accepted", "sending", "sent"]), Message.sent_at < cutoff)).all()
    return [copy for message in silent if (copy := fail_over(session, message, None, "undelivered"))]
