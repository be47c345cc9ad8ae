"""Delivery: send a stored message once, on the right channel, at a decent hour; follow it after.

The deliver job re-reads the row and decides everything at send time (opt-out, quiet hours,
WhatsApp's 24-hour window, the sender's rate limit), because any of them may have changed
since the message was queued.
"""
from __future__ import annotations

import string
from datetime import datetime, timedelta

from flask import current_app
from sqlmodel import Session

from bot.language.i18n import default_catalogs
from bot.messaging.channel import ChannelError, OutboundTemplate, OutboundText, get_channel
from bot.messaging.outbound import render_pending
from bot.messaging.phones import can_receive_replies
from bot.messaging.quiet_hours import effective_quiet_hours, next_allowed_time
from bot.messaging.ratelimit import SendRate, acquire, sender_key
from bot.messaging.routing import Route, choose_route, deliverable_route, merge_templates, template_for
from bot.messaging.status import advance_status, record_failure
from bot.messaging.voice_outbox import attach_to_call, wants_call
from bot.tasks import defer, get_redis
from storage.db import session_scope
from storage.models import Guardian, Message, School, utcnow
from storage.queries import claim_message, school_sender

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
        if not can_receive_replies(guardian.phone):
            message.status, message.status_updated_at = "failed", now
            message.error_message = ("This sender is a short code or a named sender, not a phone: "
                                     "nothing can be sent back to it.")
            return
        if message.translation is None and message.template_key:
            render_pending(message)  # TranslationFailed propagates: RQ retries later
        hold_until = _hold_until(message, school, guardian, now)
        if hold_until is not None:
            message.not_before = hold_until
            defer(session, "deliver_message", message_id, at=hold_until)
            return
        if wants_call(message, guardian):
            attach_to_call(session, message, guardian)  # quiet hours were checked above, as for a text
            return
        payload = _payload(session, message, guardian, now)
        if payload is None:
            return
        grant = _rate_limit(payload.sender)
        if not grant:
            defer(session, "deliver_message", message_id, at=now + timedelta(seconds=grant.wait_time))
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
    templates = merge_templates(current_app.config.get("WHATSAPP_TEMPLATES") or {},
                                session.get(School, message.school_id).whatsapp_templates)
    content_sid = template_for(templates, message.template_key, message.language) if message.template_key else None
    whatsapp_sender = school_sender(session, message.school_id, "whatsapp")
    if message.failover_of_id is None:
        route = deliverable_route(choose_route(guardian.preferred_channel, guardian.last_inbound_at, now,
                                               content_sid is not None, whatsapp_sender is not None))
        message.channel = route.channel
        if route.channel != guardian.preferred_channel and route.reason not in (message.delivery_note or ""):
            # The thread says which channel it went by, and why not the one the family prefers.
            message.delivery_note = " ".join(filter(None, [message.delivery_note, route.reason]))
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
            message = session.get(Message, message_id)
            if error.permanent:
                record_failure(session, message, error.error)
            else:
                message.status = "outbox"  # the retry will claim it again
                message.error_code, message.error_message = error.code, str(error)
        if not error.permanent:
            raise
        return
    with session_scope() as session:
        message = session.get(Message, message_id)
        message.provider_sid, message.sent_at = result.provider_sid, utcnow()
        message.error_code = message.error_message = None
        advance_status(message, result.status)
