"""Outbound messages: queue them (database first), deliver them once, follow their status."""
from __future__ import annotations

import logging

from flask import current_app
from rq import Retry
from sqlmodel import Session

from bot.channels import ChannelError, OutboundText, get_channel
from bot.queue import enqueue
from bot.rendering import Rendering, machine_translate, render_catalogue
from storage.db import session_scope
from storage.models import Conversation, Guardian, Message, School, utcnow
from storage.queries import claim_message, school_sender

log = logging.getLogger(__name__)

# Statuses a message moves through. Twilio's callbacks can arrive out of order, so a status
# only replaces one of lower rank: the furthest status wins.
STATUS_RANK = {
    "outbox": 0, "dispatching": 1, "accepted": 2, "scheduled": 2, "queued": 2, "sending": 3,
    "sent": 4, "delivered": 5, "undelivered": 5, "failed": 5, "read": 6,
}
OPT_OUT_ERROR = 21610
DELIVERY_RETRY = Retry(max=5, interval=[10, 30, 60, 300, 900])
# Messages that still go to someone who opted out: the confirmation of that very opt-out,
# and the answer to a HELP they sent.
SENT_DESPITE_OPT_OUT = {"optout.confirm", "help.reply"}


def parent_language(guardian: Guardian, school: School) -> str:
    """The language to write to a guardian in (their preference, else the staff language)."""
    return guardian.preferred_language or school.staff_language


def queue_message(session: Session, guardian: Guardian, conversation: Conversation, *, body: str,
                  rendering: Rendering, kind: str, language: str, template_key: str | None = None,
                  template_values: dict | None = None, staff_author_id: int | None = None) -> Message:
    """Store an outbound message in the outbox; the caller enqueues it after commit."""
    message = Message(
        school_id=guardian.school_id, conversation_id=conversation.id, guardian_id=guardian.id,
        direction="outbound", channel=guardian.preferred_channel if guardian.preferred_channel != "voice" else "sms",
        kind=kind, body=body, language=language, translation=rendering.text,
        translation_engine=rendering.engine, translation_status=rendering.status,
        translation_note=rendering.note, template_key=template_key, template_values=template_values,
        staff_author_id=staff_author_id, status="outbox",
    )
    session.add(message)
    conversation.last_message_at = message.created_at
    session.flush()
    return message


def queue_catalogue_message(session: Session, guardian: Guardian, conversation: Conversation,
                            school: School, key: str, values: dict, language: str | None = None) -> Message:
    """Store a system message from templates_i18n, rendered in the guardian's language."""
    language = language or parent_language(guardian, school)
    rendering = render_catalogue(key, language, values, current_app.extensions["translator"])
    return queue_message(session, guardian, conversation, body=rendering.text, rendering=rendering,
                         kind="system", language=language, template_key=key, template_values=values)


def render_staff_reply(english: str, guardian: Guardian, school: School) -> Rendering:
    """What the guardian will receive for a staff reply (shown to staff before sending)."""
    return machine_translate(english, school.staff_language, parent_language(guardian, school),
                             current_app.extensions["translator"])


def enqueue_delivery(message_id: int) -> bool:
    """Hand a stored message to the worker (the sweep catches it if Redis is down)."""
    from bot.jobs import deliver_message

    return enqueue(deliver_message, message_id, retry=DELIVERY_RETRY)


def status_callback_url() -> str | None:
    """Where Twilio should report delivery (needs the public URL it can reach)."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    return f"{base.rstrip('/')}/twilio/status" if base else None


def deliver(message_id: int) -> None:
    """Send a stored outbound message exactly once; transient failures raise for RQ to retry."""
    with session_scope() as session:
        message = session.get(Message, message_id)
        if message is None or message.status != "outbox":
            return  # already sent, being sent, or finished: running twice sends once
        guardian = session.get(Guardian, message.guardian_id)
        if guardian.opted_out and message.template_key not in SENT_DESPITE_OPT_OUT:
            message.status, message.error_message = "blocked", "The parent has opted out (STOP)."
            return
        sender = school_sender(session, message.school_id, message.channel)
        if sender is None:
            message.status = "failed"
            message.error_message = f"The school has no {message.channel} number set up."
            return
        outbound = OutboundText(to=guardian.phone, sender=sender, body=message.translation or message.body,
                                channel=message.channel, status_callback=status_callback_url())
        if not claim_message(session, message_id, "outbox", "dispatching"):
            return
    _send(message_id, outbound)


def _send(message_id: int, outbound: OutboundText) -> None:
    try:
        result = get_channel().send_text(outbound)
    except ChannelError as error:
        with session_scope() as session:
            _record_failure(session, session.get(Message, message_id), error)
        if not error.permanent:
            raise
        return
    with session_scope() as session:
        message = session.get(Message, message_id)
        message.provider_sid, message.sent_at = result.provider_sid, utcnow()
        message.error_code = message.error_message = None
        _advance_status(message, result.status)


def _record_failure(session: Session, message: Message, error: ChannelError) -> None:
    message.error_code, message.error_message = error.code, str(error)
    if not error.permanent:
        message.status = "outbox"  # the retry will claim it again
        return
    message.status, message.status_updated_at = "failed", utcnow()
    if error.code == OPT_OUT_ERROR:
        mark_opted_out(session.get(Guardian, message.guardian_id))


def mark_opted_out(guardian: Guardian) -> None:
    """Record that a guardian asked for no more messages."""
    if not guardian.opted_out:
        guardian.opted_out, guardian.opted_out_at = True, utcnow()


def _advance_status(message: Message, status: str) -> bool:
    if STATUS_RANK.get(status, -1) <= STATUS_RANK.get(message.status, -1):
        return False
    message.status, message.status_updated_at = status, utcnow()
    return True


def apply_status_callback(session: Session, message: Message, status: str, error_code: int | None) -> None:
    """Record a delivery status from Twilio; 21610 means the parent opted out."""
    if _advance_status(message, status) and error_code:
        message.error_code = error_code
    if error_code == OPT_OUT_ERROR:
        mark_opted_out(session.get(Guardian, message.guardian_id))


def queue_staff_reply(session: Session, guardian: Guardian, conversation: Conversation, school: School,
                      staff_author_id: int, english: str) -> Message:
    """Store a staff reply, rendered in the guardian's language; enqueue it after commit."""
    return queue_message(session, guardian, conversation, body=english,
                         rendering=render_staff_reply(english, guardian, school), kind="staff_reply",
                         language=parent_language(guardian, school), staff_author_id=staff_author_id)
