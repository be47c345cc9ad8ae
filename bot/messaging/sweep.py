"""The messaging part of the sweep: whatever the database says is still pending, handed back to the worker.

Redis may have lost jobs (a restart, a flush, an outage): the rows are the truth. Each helper
finds one kind of pending work and defers its job on the sweep's session.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_
from sqlmodel import Session, select

from bot.messaging.status import fail_over
from bot.tasks import defer
from storage.models import Message

SILENT_STATUSES = ("queued", "accepted", "sending", "sent")


def sweep_messaging(session: Session, now: datetime) -> dict[str, int]:
    """Re-queue unprocessed, untranslated and unsent messages; recover stalled sends and silent WhatsApp."""
    config = current_app.config
    # The sweep leaves fresh rows to the jobs already queued for them.
    settled = now - timedelta(seconds=config["SWEEP_GRACE_SECONDS"])
    return {
        "unprocessed": _requeue_unprocessed(session, settled),
        "translations": _requeue_untranslated(session, settled),
        "recovered_sends": _recover_interrupted_sends(
            session, now - timedelta(minutes=config["DISPATCH_RECOVERY_MINUTES"])),
        "deliveries": _requeue_unsent(session, now, settled),
        "failovers": _fail_over_silent_whatsapp(
            session, now - timedelta(minutes=config["WHATSAPP_FAILOVER_MINUTES"])),
    }


def _requeue_unprocessed(session: Session, cutoff: datetime) -> int:
    guardian_ids = session.exec(select(Message.guardian_id).distinct().where(
        Message.direction == "inbound", Message.status == "received", Message.created_at < cutoff)).all()
    for guardian_id in guardian_ids:
        defer(session, "process_guardian", guardian_id)
    return len(guardian_ids)


def _requeue_untranslated(session: Session, cutoff: datetime) -> int:
    # Only processed messages: processing reads the language first and then queues the translation.
    message_ids = session.exec(select(Message.id).where(
        Message.direction == "inbound", Message.status == "processed", Message.translation_status == "pending",
        Message.created_at < cutoff)).all()
    for message_id in message_ids:
        defer(session, "translate_message", message_id)
    return len(message_ids)


def _recover_interrupted_sends(session: Session, cutoff: datetime) -> int:
    # A worker killed between claiming a message and storing the provider's answer leaves it in
    # "dispatching"; silence from the status callback this long hands it to recover_send, which
    # asks the provider before anything is sent again (bot/messaging/recovery.py).
    stuck = session.exec(select(Message.id).where(
        Message.status == "dispatching", Message.provider_sid.is_(None),
        Message.status_updated_at < cutoff)).all()
    for message_id in stuck:
        defer(session, "recover_send", message_id)
    return len(stuck)


def _requeue_unsent(session: Session, now: datetime, cutoff: datetime) -> int:
    # Includes the sends just recovered above: the session flushes them before this query.
    message_ids = session.exec(select(Message.id).where(
        Message.status == "outbox", Message.created_at < cutoff,
        or_(Message.not_before.is_(None), Message.not_before <= now))).all()
    for message_id in message_ids:
        defer(session, "deliver_message", message_id)
    return len(message_ids)


def _fail_over_silent_whatsapp(session: Session, cutoff: datetime) -> int:
    # WhatsApp accepted it but never confirmed delivery: the phone may be off WhatsApp.
    silent = session.exec(select(Message).where(
        Message.direction == "outbound", Message.channel == "whatsapp",
        Message.status.in_(SILENT_STATUSES), Message.sent_at < cutoff)).all()
    return sum(fail_over(session, message, None, "undelivered") is not None for message in silent)
