"""Inbound messages: a provider's neutral message to a stored row, and nothing more.

The message is committed before anything else is attempted, and the work on it (keywords,
language, flow answers) is a job for the worker, so nothing a parent sends is lost if a later
step fails and the webhook answers in milliseconds. The sweep finds whatever is still pending.
"""
from __future__ import annotations

from bot.messaging.channel import InboundMessage, get_channel
from bot.messaging.phones import InvalidPhoneNumber, normalise_phone, sender_identity
from bot.tasks import defer
from storage.db import session_scope
from storage.models import Message, utcnow
from storage.queries import conversation_for, find_or_create_guardian, inbound_route, insert_message_once


class InvalidAddress(ValueError):
    """The sender or recipient is not a phone number (answered 400, nothing stored)."""


class UnknownSchoolNumber(LookupError):
    """No school owns the number the message was sent to."""


def store_inbound(inbound: InboundMessage) -> int:
    """Insert a parent's message untouched, once per provider id, and hand it to the worker.

    Returns the guardian's id. A provider retry of a stored message inserts and queues nothing.
    A known parent costs two statements: one lookup (school, guardian, conversation) and the insert.
    """
    recipient = _phone(inbound.recipient, "To")
    with session_scope() as session:
        route = inbound_route(session, recipient, _e164_or_none(inbound.sender))
        if route is None:
            raise UnknownSchoolNumber("no school uses the number this message was sent to")
        guardian_id, conversation_id = route.guardian_id, route.conversation_id
        if conversation_id is None:  # a new number, or one written in the school's national format
            guardian = find_or_create_guardian(session, route.school_id,
                                               _sender(inbound.sender, route.default_region))
            guardian_id, conversation_id = guardian.id, conversation_for(session, guardian).id
        message = Message(
            school_id=route.school_id, conversation_id=conversation_id, guardian_id=guardian_id,
            direction="inbound", channel=inbound.channel, body=inbound.body,
            num_media=len(inbound.media), media=inbound.media or None,
            provider_sid=inbound.provider_id, status="received", created_at=utcnow(),
            simulated=get_channel().simulated,
        )
        if insert_message_once(session, message) is not None:
            defer(session, "process_guardian", guardian_id)
        return guardian_id


def _phone(raw: str, field: str, region: str = "GB") -> str:
    try:
        return normalise_phone(raw, region)
    except InvalidPhoneNumber as error:
        raise InvalidAddress(f"{field}: {error}") from None


def _sender(raw: str, region: str) -> str:
    try:
        return sender_identity(raw, region)
    except InvalidPhoneNumber as error:
        raise InvalidAddress(f"From: {error}") from None


def _e164_or_none(raw: str) -> str | None:
    # Providers send E.164 ("+44…"), which reads the same in every region: the one-query path.
    if not raw.startswith("+"):
        return None
    try:
        return normalise_phone(raw)
    except InvalidPhoneNumber:
        return None
