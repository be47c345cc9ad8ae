"""Inbound messages: a provider's neutral message to a stored row, and nothing more.

The message is committed before anything else is attempted, and the work on it (keywords,
language, flow answers) is a job for the worker, so nothing a parent sends is lost if a later
step fails and the webhook answers in milliseconds. The sweep finds whatever is still pending.
"""
from __future__ import annotations

from bot.messaging.channel import InboundMessage
from bot.messaging.phones import InvalidPhoneNumber, normalise_phone
from bot.tasks import defer
from storage.db import session_scope
from storage.models import Message, utcnow
from storage.queries import conversation_for, find_or_create_guardian, insert_message_once, school_for_number


class InvalidAddress(ValueError):
    """The sender or recipient is not a phone number (answered 400, nothing stored)."""


class UnknownSchoolNumber(LookupError):
    """No school owns the number the message was sent to."""


def store_inbound(inbound: InboundMessage) -> int:
    """Insert a parent's message untouched, once per provider id, and hand it to the worker.

    Returns the guardian's id. A provider retry of a stored message inserts and queues nothing.
    """
    with session_scope() as session:
        try:
            recipient = normalise_phone(inbound.recipient)
        except InvalidPhoneNumber as error:
            raise InvalidAddress(f"To: {error}") from None
        school = school_for_number(session, recipient)
        if school is None:
            raise UnknownSchoolNumber("no school uses the number this message was sent to")
        try:
            sender = normalise_phone(inbound.sender, school.default_region)
        except InvalidPhoneNumber as error:
            raise InvalidAddress(f"From: {error}") from None
        guardian = find_or_create_guardian(session, school.id, sender)
        conversation = conversation_for(session, guardian)
        message = Message(
            school_id=school.id, conversation_id=conversation.id, guardian_id=guardian.id,
            direction="inbound", channel=inbound.channel, body=inbound.body,
            num_media=len(inbound.media), media=inbound.media or None,
            provider_sid=inbound.provider_id, status="received", created_at=utcnow(),
        )
        if insert_message_once(session, message) is not None:
            defer(session, "process_guardian", guardian.id)
        return guardian.id
