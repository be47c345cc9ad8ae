"""Twilio's webhook forms, read into the domain's neutral shapes (the only place that knows their fields)."""
from __future__ import annotations

import re

from werkzeug.datastructures import MultiDict

from bot.channels.twilio.errors import delivery_error
from bot.messaging.channel import InboundMessage, StatusUpdate

MESSAGE_SID = re.compile(r"^(SM|MM|IM)[0-9a-fA-F]{32}$")
MAX_BODY_CHARS = 1600
MAX_MEDIA = 10
WHATSAPP_PREFIX = "whatsapp:"
# Twilio's message statuses in our vocabulary ("canceled" is a scheduled message Twilio dropped).
STATUS_NAMES = {"canceled": "failed", "receiving": "accepted", "received": "delivered"}


class BadWebhook(ValueError):
    """The webhook's fields are missing or malformed (answered 400, nothing stored)."""


def split_address(raw: str) -> tuple[str, str]:
    """Twilio's address ("whatsapp:+44…" or "+44…") as (number, channel)."""
    raw = (raw or "").strip()
    if raw.lower().startswith(WHATSAPP_PREFIX):
        return raw[len(WHATSAPP_PREFIX):], "whatsapp"
    return raw, "sms"


def parse_message_form(form: MultiDict) -> InboundMessage:
    """An inbound SMS or WhatsApp message; BadWebhook with a readable reason if malformed."""
    sid = form.get("MessageSid", "")
    if not MESSAGE_SID.match(sid):
        raise BadWebhook("MessageSid is missing or malformed")
    if not form.get("From") or not form.get("To"):
        raise BadWebhook("From and To are required")
    # A NUL cannot be stored in PostgreSQL text; refusing the message would lose it on every
    # Twilio retry, so it becomes U+FFFD, the standard mark for a character that could not be kept.
    body = form.get("Body", "").replace("\x00", "\ufffd")
    if len(body) > MAX_BODY_CHARS:
        raise BadWebhook(f"Body is longer than {MAX_BODY_CHARS} characters")
    try:
        num_media = int(form.get("NumMedia", "0") or 0)
    except ValueError:
        raise BadWebhook("NumMedia is not a number") from None
    if not 0 <= num_media <= MAX_MEDIA:
        raise BadWebhook(f"NumMedia must be between 0 and {MAX_MEDIA}")
    media = [{"url": form.get(f"MediaUrl{i}", ""), "content_type": form.get(f"MediaContentType{i}", "")}
             for i in range(num_media)]
    sender, channel = split_address(form["From"])
    recipient, _ = split_address(form["To"])
    return InboundMessage(provider_id=sid, sender=sender, recipient=recipient, channel=channel, body=body,
                          media=media)


def parse_status_form(form: MultiDict, query: MultiDict) -> StatusUpdate:
    """A delivery status callback; our message id rides in the callback URL's `m` parameter."""
    sid, status = form.get("MessageSid", ""), form.get("MessageStatus", "").lower()
    if not sid or not status:
        raise BadWebhook("MessageSid and MessageStatus are required")
    error_code = form.get("ErrorCode") or None
    if error_code is not None and not error_code.isdigit():
        raise BadWebhook("ErrorCode must be a number")
    our_id = query.get("m", "")
    return StatusUpdate(provider_id=sid, status=STATUS_NAMES.get(status, status),
                        error=delivery_error(int(error_code)) if error_code else None,
                        message_id=int(our_id) if our_id.isdigit() else None)
