"""Sends a crash cut off: ask the provider before sending again, and tell staff what happened.

A worker killed between claiming a message and storing the provider's answer leaves it
"dispatching" with no provider id. The status callback (which carries our id) usually settles
it; when none has come after DISPATCH_RECOVERY_MINUTES, this asks the provider whether it has
the text. If it does, its id is recorded and nothing is resent; if not, the message goes back
to the outbox. Either way a note says so, and it stays on the message.
"""
from __future__ import annotations

from bot.messaging.channel import OutboundText, get_channel
from bot.messaging.status import advance_status
from bot.tasks import defer
from storage.db import session_scope
from storage.models import Guardian, Message, utcnow
from storage.queries import school_sender

FOUND = "The worker stopped while sending; Twilio already had the message, so it was not sent again."
RESENT = "The worker stopped while sending and Twilio had no record of it, so it was sent again."


def recover_send(message_id: int) -> str | None:
    """Settle one interrupted send: "found", "resent", or None if it was settled meanwhile."""
    with session_scope() as session:
        message = session.get(Message, message_id)
        if not _interrupted(message):
            return None
        guardian = session.get(Guardian, message.guardian_id)
        sender = school_sender(session, message.school_id, message.channel)
        text = OutboundText(to=guardian.phone, sender=sender or "", body=message.translation or message.body,
                            channel=message.channel)
        since = message.status_updated_at or message.created_at
    # A template's text is Twilio's, not ours, so only free text can be matched; the provider is
    # asked outside any transaction (ChannelError propagates: RQ tries again later).
    found = get_channel().find_sent(text, since) if sender and not message.content_sid else None
    with session_scope() as session:
        message = session.get(Message, message_id)
        if not _interrupted(message):
            return None  # a status callback settled it while we asked
        if found:
            message.provider_sid, message.sent_at, message.delivery_note = found, utcnow(), FOUND
            advance_status(message, "accepted")
            return "found"
        message.status, message.status_updated_at, message.delivery_note = "outbox", utcnow(), RESENT
        defer(session, "deliver_message", message.id)
        return "resent"


def _interrupted(message: Message | None) -> bool:
    return message is not None and message.status == "dispatching" and message.provider_sid is None
