"""Delivery: send a stored message once, on the right channel, at a decent hour; follow it after.

The deliver job re-reads the row and decides everything at send time (opt-out, quiet hours,
WhatsApp's 24-hour window, the sender's rate limit), because any of them may have changed
since the message was queued.
"""
from __future__ import annotations

import logging
import string
from datetime import datetime, timedelta

from flask import current_app
from sqlmodel import Session, select

from bot.channels import ChannelError, OutboundTemplate, OutboundText, get_channel
from bot.i18n import default_catalogs
from bot.outbound import DELIVERY_RETRY, enqueue_delivery, render_pending
from bot.queue import get_queue, get_redis
from bot.quiet_hours import effective_quiet_hours, next_allowed_time
from bot.ratelimit import SendRate, acquire, sender_key
from bot.routing import Route, choose_route, deliverable_route, explain_error, failover_after, template_for
from storage.db import session_scope
from storage.models import Guardian, Message, School, utcnow
from storage.queries import claim_message, school_sender

log = logging.getLogger(__name__)

# Statuses a message moves through. Twilio's callbacks can arrive out of order, so a status
# only replaces one of lower rank: the furthest status wins.
STATUS_RANK = {
    "outbox": 0, "dispatching": 1, "accepted": 2, "scheduled": 2, "queued": 2, "sending": 3,
    "sent": 4, "delivered": 5, "undelivered": 5, "failed": 5, "read": 6,
}
OPT_OUT_ERROR = 21610
# Messages that still go to someone who opted out: the confirmation of that very opt-out,
# and the answer to a HELP they sent.
SENT_DESPITE_OPT_OUT = {"optout.confirm", "help.reply"}


def deliver(message_id: int) -> None:
    """Send a stored outbound message exactly once; transient failures raise for RQ to retry."""
    now = utcnow()
    with session_scope() as session:
        message = session.get(Message, message_id)
        if message is None or message.status != "outbox":
            return  # already sent, being sent, or finished: running twice sends once
        guardian = session.get(Guardian, message.guardian_id)
        school = session.get(School, message.school_id)
        if guardian.opted_out and message.template_key not in SENT_DESPITE_OPT_OUT:
            message.status, message.error_message = "blocked", "The parent has opted out (STOP)."
            return
        if message.translation is None and message.template_key:
            render_pending(message)  # TranslationFailed propagates: RQ retries later
        hold_until = _hold_until(message, school, guardian, now)
        if hold_until is not None:
            message.not_before = hold_until
            schedule_delivery(message_id, hold_until)
            return
        payload = _payload(session, message, guardian, now)
        if payload is None:
            return
        grant = _rate_limit(payload.sender)
        if not grant:
            schedule_delivery(message_id, now + timedelta(seconds=grant.wait_time))
            return
        if not claim_message(session, message_id, "outbox", "dispatching"):
            return
    _send(message_id, payload)


def _hold_until(message: Message, school: School, guardian: Guardian, now: datetime) -> datetime | None:
    """When a non-urgent message must wait (quiet hours, or a time set earlier); None = send now."""
    if message.not_before and message.not_before > now:
        return message.not_before
    if message.urgent:
        return None
    allowed = next_allowed_time(now, school.timezone, *effective_quiet_hours(school, guardian))
    return allowed if allowed > now else None


def _payload(session: Session, message: Message, guardian: Guardian, now: datetime):
    """Choose the route and build what the channel sends; None (and a recorded failure) if impossible."""
    templates = current_app.config.get("WHATSAPP_TEMPLATES") or {}
    content_sid = template_for(templates, message.template_key, message.language) if message.template_key else None
    whatsapp_sender = school_sender(session, message.school_id, "whatsapp")
    if message.failover_of_id is None:
        route = deliverable_route(choose_route(guardian.preferred_channel, guardian.last_inbound_at, now,
                                               content_sid is not None, whatsapp_sender is not None))
        message.channel = route.channel
    else:
        route = Route(message.channel, False, "failover")
    sender = whatsapp_sender if route.channel == "whatsapp" else school_sender(session, message.school_id, "sms")
    if sender is None:
        message.status = "failed"
        message.error_message = f"The school has no {route.channel} number set up."
        return None
    callback = status_callback_url(message.id)
    if route.use_template:
        message.content_sid = content_sid
        return OutboundTemplate(to=guardian.phone, sender=sender, content_sid=content_sid,
                                variables=template_variables(message.template_key, message.template_values or {}),
                                status_callback=callback)
    return OutboundText(to=guardian.phone, sender=sender, body=message.translation or message.body,
                        channel=route.channel, status_callback=callback)


def template_variables(key: str, values: dict) -> dict[str, str]:
    """Numbered WhatsApp template variables, in the order the English text uses its placeholders."""
    english = default_catalogs().messages("en")[key]
    names = [field for _, field, _, _ in string.Formatter().parse(english) if field]
    return {str(number): str(values.get(name, "")) for number, name in enumerate(dict.fromkeys(names), 1)}


def _rate_limit(sender: str):
    rate = SendRate.from_config(current_app.config)
    return acquire(get_redis(), sender_key(sender), rate.rate_per_second, rate.burst, timeout_s=2.0)


def schedule_delivery(message_id: int, when: datetime) -> None:
    """Run the deliver job at `when` (RQ's scheduler); the sweep is the backstop if Redis forgets."""
    from bot.jobs import deliver_message

    try:
        get_queue().enqueue_at(when, deliver_message, message_id, retry=DELIVERY_RETRY)
    except Exception as error:  # Redis down: the sweep will find the row when it is due
        log.warning("could not schedule message %s: %s", message_id, type(error).__name__)


def status_callback_url(message_id: int) -> str | None:
    """Where Twilio reports delivery. Our id rides along, so a send interrupted before its sid was
    stored is still recognised when Twilio reports it."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    return f"{base.rstrip('/')}/twilio/status?m={message_id}" if base else None


def _send(message_id: int, payload) -> None:
    channel = get_channel()
    try:
        if isinstance(payload, OutboundTemplate):
            result = channel.send_template(payload)
        else:
            result = channel.send_text(payload)
    except ChannelError as error:
        with session_scope() as session:
            failover = _record_failure(session, session.get(Message, message_id), error)
        if failover is not None:
            enqueue_delivery(failover)
        if not error.permanent:
            raise
        return
    with session_scope() as session:
        message = session.get(Message, message_id)
        message.provider_sid, message.sent_at = result.provider_sid, utcnow()
        message.error_code = message.error_message = None
        advance_status(message, result.status)


def _record_failure(session: Session, message: Message, error: ChannelError) -> int | None:
    message.error_code, message.error_message = error.code, str(error)
    if not error.permanent:
        message.status = "outbox"  # the retry will claim it again
        return None
    message.status, message.status_updated_at = "failed", utcnow()
    message.error_message = explain_error(error.code)
    if error.code == OPT_OUT_ERROR:
        mark_opted_out(session.get(Guardian, message.guardian_id))
    return fail_over(session, message, error.code, "failed")


def mark_opted_out(guardian: Guardian) -> None:
    """Record that a guardian asked for no more messages."""
    if not guardian.opted_out:
        guardian.opted_out, guardian.opted_out_at = True, utcnow()


def advance_status(message: Message, status: str) -> bool:
    """Move a message to `status` unless it is already further along; True if it moved."""
    if STATUS_RANK.get(status, -1) <= STATUS_RANK.get(message.status, -1):
        return False
    message.status, message.status_updated_at = status, utcnow()
    return True


def fail_over(session: Session, message: Message, error_code: int | None, status: str) -> int | None:
    """Queue the same message on the next channel (WhatsApp → SMS); its id, or None if none is right."""
    route = Route(message.channel, message.content_sid is not None, "")
    next_route = failover_after(route, error_code, status)
    already = session.exec(select(Message.id).where(Message.failover_of_id == message.id)).first()
    if next_route is None or already is not None:
        return None
    copy = Message(
        school_id=message.school_id, conversation_id=message.conversation_id, guardian_id=message.guardian_id,
        direction="outbound", channel=next_route.channel, kind=message.kind, body=message.body,
        language=message.language, translation=message.translation, translation_engine=message.translation_engine,
        translation_status=message.translation_status, translation_note=message.translation_note,
        template_key=message.template_key, template_values=message.template_values,
        staff_author_id=message.staff_author_id, urgent=message.urgent, failover_of_id=message.id,
        status="outbox", error_message=next_route.reason,
    )
    session.add(copy)
    session.flush()
    return copy.id


def apply_status_callback(session: Session, message: Message, status: str, error_code: int | None) -> int | None:
    """Record a delivery status from Twilio; returns a failover message id to enqueue, if any."""
    if advance_status(message, status) and error_code:
        message.error_code, message.error_message = error_code, explain_error(error_code)
    if error_code == OPT_OUT_ERROR:
        mark_opted_out(session.get(Guardian, message.guardian_id))
    if status in ("failed", "undelivered"):
        return fail_over(session, message, error_code, status)
    return None
