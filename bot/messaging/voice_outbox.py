"""Messages for a family reached by phone: attached to a planned call instead of sent as text.

Delivery hands a message here when its route is "voice". The message waits on the guardian's
next planned call (one call speaks everything waiting, so a three-part flow opening is one call,
not three); the call is placed by the `place_call` job (bot/calls/placing.py) once committed.
"""
from __future__ import annotations

from sqlmodel import Session, select

from bot.tasks import defer
from storage.models import Call, Guardian, Message, utcnow


def attach_to_call(session: Session, message: Message, guardian: Guardian) -> Call:
    """Put a message on the guardian's planned call (created if none is waiting); the call is queued."""
    call = session.exec(select(Call).where(Call.guardian_id == guardian.id, Call.direction == "outbound",
                                           Call.status == "planned").order_by(Call.id)).first()
    if call is None:
        call = Call(school_id=guardian.school_id, guardian_id=guardian.id, purpose="message",
                    language=message.language, next_attempt_at=utcnow(), simulated=message.simulated)
        session.add(call)
        session.flush()
    message.call_id, message.channel, message.status = call.id, "voice", "calling"
    defer(session, "place_call", call.id)
    return call


def wants_call(message: Message, guardian: Guardian) -> bool:
    """Whether this message goes by phone: the family prefers calls, or text failed over to a call."""
    if message.failover_of_id is not None:
        return message.channel == "voice"
    return guardian.preferred_channel == "voice"
