"""Where a sent message is: statuses that only move forward, failures in words, failover copies.

Providers report statuses in any order, so a status only replaces one of lower rank. A failed
message that another channel might still deliver is copied onto that channel (WhatsApp → SMS)
and the copy is handed to the delivery job once the transaction commits.
"""
from __future__ import annotations

from sqlmodel import Session, select

from bot.guardians import mark_opted_out
from bot.messaging.channel import OPTED_OUT, DeliveryError, StatusUpdate
from bot.messaging.routing import Route, failover_after
from bot.tasks import defer
from storage.models import Guardian, Message, utcnow
from storage.queries import interrupted_send, message_by_sid

STATUS_RANK = {
    "outbox": 0, "dispatching": 1, "accepted": 2, "scheduled": 2, "queued": 2, "sending": 3,
    "sent": 4, "delivered": 5, "undelivered": 5, "failed": 5, "read": 6,
}
FAILED = ("failed", "undelivered")


def advance_status(message: Message, status: str) -> bool:
    """Move a message to `status` unless it is already further along; True if it moved."""
    if STATUS_RANK.get(status, -1) <= STATUS_RANK.get(message.status, -1):
        return False
    message.status, message.status_updated_at = status, utcnow()
    return True


def apply_status_update(session: Session, update: StatusUpdate) -> Message | None:
    """Record a provider's status report; the message it was about, or None if we never sent it.

    Only a report that moves the message forward has effects: a late or replayed one (an
    "undelivered" after "read", the same failure twice) neither fails over nor opts anyone out.
    """
    message = (message_by_sid(session, update.provider_id)
               or interrupted_send(session, update.message_id, update.provider_id))
    if message is None:
        return None
    if not advance_status(message, update.status):
        return message
    if update.error:
        message.error_code, message.error_message = update.error.code, update.error.explanation
        if update.error.category == OPTED_OUT:
            _opted_out_by_provider(session.get(Guardian, message.guardian_id), message)
    if update.status in FAILED:
        fail_over(session, message, update.error, update.status)
    return message


def _opted_out_by_provider(guardian: Guardian, message: Message) -> None:
    # The provider refused this message because of a STOP; a START the parent sent after the
    # message left is newer news, so a report about an older message does not undo it.
    sent = message.sent_at or message.created_at
    if guardian.opted_in_at is None or sent > guardian.opted_in_at:
        mark_opted_out(guardian)


def record_failure(session: Session, message: Message, error: DeliveryError) -> None:
    """A send the provider refused for good: failed, explained, and failed over where that helps."""
    message.status, message.status_updated_at = "failed", utcnow()
    message.error_code, message.error_message = error.code, error.explanation
    if error.category == OPTED_OUT:
        _opted_out_by_provider(session.get(Guardian, message.guardian_id), message)
    fail_over(session, message, error, "failed")


def fail_over(session: Session, message: Message, error: DeliveryError | None, status: str) -> int | None:
    """Queue the same message on the next channel (WhatsApp → SMS); its id, or None if none is right."""
    route = Route(message.channel, message.content_sid is not None, "")
    next_route = failover_after(route, error, status)
    already = session.exec(select(Message.id).where(Message.failover_of_id == message.id)).first()
    if next_route is None or already is not None:
        return None
    copy = Message(
        school_id=message.school_id, conversation_id=message.conversation_id, guardian_id=message.guardian_id,
        direction="outbound", channel=next_route.channel, kind=message.kind, body=message.body,
        language=message.language, translation=message.translation, translation_engine=message.translation_engine,
        translation_status=message.translation_status, translation_note=message.translation_note,
        translation_gap=message.translation_gap,
        template_key=message.template_key, template_values=message.template_values,
        staff_author_id=message.staff_author_id, urgent=message.urgent, failover_of_id=message.id,
        simulated=message.simulated,
        status="outbox", error_message=next_route.reason,
    )
    session.add(copy)
    session.flush()
    defer(session, "deliver_message", copy.id)
    return copy.id
