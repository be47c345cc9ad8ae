"""Twilio's webhook forms, read into the domain's neutral shapes (the only place that knows their fields)."""
from __future__ import annotations

import re

from werkzeug.datastructures import MultiDict

from bot.channels.twilio.errors import delivery_error
from bot.messaging.channel import InboundMessage, StatusUpdate

# Every check matches the whole value (re.fullmatch): "$" alone would let "SM…\n" through as a new sid.
MESSAGE_SID = re.compile(r"(SM|MM|IM)[0-9a-fA-F]{32}")
ERROR_CODE = re.compile(r"[0-9]{1,9}")  # str.isdigit() would also take "²"
OUR_ID = re.compile(r"[1-9][0-9]{0,9}")
MAX_ID = 2**31 - 1  # the database's integer ids
MAX_MEDIA = 10
WHATSAPP_PREFIX = "whatsapp:"
OTHER_CHANNEL = re.compile(r"([a-z][a-z0-9+.-]*):", re.IGNORECASE)  # messenger:, sip:, tel:, ...
# Twilio's message statuses in our vocabulary ("canceled" is a scheduled message Twilio dropped).
STATUS_NAMES = {"canceled": "failed", "receiving": "accepted", "received": "delivered"}


class BadWebhook(ValueError):
    """The webhook's fields are missing or malformed (answered 400, nothing stored)."""


def split_address(raw: str) -> tuple[str, str]:
    """Twilio's address ("whatsapp:+44…" or "+44…") as (number, channel); BadWebhook for other channels."""
    raw = (raw or "").strip()
    if raw.lower().startswith(WHATSAPP_PREFIX):
        return raw[len(WHATSAPP_PREFIX):], "whatsapp"
    other = OTHER_CHANNEL.match(raw)
    if other:
        raise BadWebhook(f"the {other[1].lower()!r} channel is not supported: only SMS and WhatsApp")
    return raw, "sms"


def parse_message_form(form: MultiDict) -> InboundMessage:
    """An inbound SMS or WhatsApp message; BadWebhook with a readable reason if malformed."""
    sid = form.get("MessageSid", "")
    if not MESSAGE_SID.fullmatch(sid):
        raise BadWebhook("MessageSid is missing or malformed")
    if not form.get("From") or not form.get("To"):
        raise BadWebhook("From and To are required")
    # A NUL cannot be stored in PostgreSQL text; refusing the message would lose it on every
    # Twilio retry, so it becomes U+FFFD, the standard mark for a character that could not be kept.
    # No length limit: whatever a parent sends is kept (WhatsApp allows 4,096 characters, and
    # Twilio does not retry a refusal); MAX_WEBHOOK_BYTES bounds the request itself.
    body = form.get("Body", "").replace("\x00", "\ufffd")
    num_media = form.get("NumMedia", "0") or "0"
    if not re.fullmatch(r"[0-9]{1,2}", num_media) or int(num_media) > MAX_MEDIA:
        raise BadWebhook(f"NumMedia must be a number from 0 to {MAX_MEDIA}")
    # The media actually present, whatever NumMedia says.
    media = [{"url": form[f"MediaUrl{i}"], "content_type": form.get(f"MediaContentType{i}", "")}
             for i in range(MAX_MEDIA) if form.get(f"MediaUrl{i}")]
    sender, channel = split_address(form["From"])
    recipient, _ = split_address(form["To"])
    return InboundMessage(provider_id=sid, sender=sender, recipient=recipient, channel=channel, body=body,
                          media=media)


def parse_status_form(form: MultiDict, query: MultiDict) -> StatusUpdate:
    """A delivery status callback; our message id rides in the callback URL's `m` parameter."""
    sid, status = form.get("MessageSid", ""), form.get("MessageStatus", "").lower()
    if not sid or not status:
        raise BadWebhook("MessageSid and MessageStatus are required")
    if not MESSAGE_SID.fullmatch(sid):
        raise BadWebhook("MessageSid is malformed")
    error_code = form.get("ErrorCode") or None
    if error_code is not None and not ERROR_CODE.fullmatch(error_code):
        raise BadWebhook("ErrorCode must be a number")
    our_id = query.get("m", "")
    known_id = OUR_ID.fullmatch(our_id) and int(our_id) <= MAX_ID
    return StatusUpdate(provider_id=sid, status=STATUS_NAMES.get(status, status),
                        error=delivery_error(int(error_code)) if error_code else None,
                        message_id=int(our_id) if known_id else None)
