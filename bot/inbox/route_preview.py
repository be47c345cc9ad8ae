"""The channel a staff message will really take, worked out as delivery will (so the reply box's
"by WhatsApp" promise is true): WhatsApp only inside its 24-hour window, since a staff reply
has no approved template; SMS otherwise, and for voice until calls exist."""
from __future__ import annotations

from datetime import timezone

from sqlalchemy.orm import object_session

from bot.messaging.routing import Route, choose_route, deliverable_route
from storage.models import Guardian, utcnow
from storage.queries import school_sender


def likely_route(guardian: Guardian) -> Route:
    """The route a free-text message to this guardian would take if sent now."""
    session = object_session(guardian)
    whatsapp = session is not None and school_sender(session, guardian.school_id, "whatsapp") is not None
    last = guardian.last_inbound_at
    if last is not None and last.tzinfo is None:  # SQLite hands back naive UTC
        last = last.replace(tzinfo=timezone.utc)
    return deliverable_route(choose_route(guardian.preferred_channel, last, utcnow(), False, whatsapp))
