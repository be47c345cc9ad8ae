"""The staff audit trail: who logged in, who read which conversation, who sent what.

Targets name rows by id ("conversation:12", "message:40"); never a message body, a phone
number or an email address, so the audit trail itself holds no personal data to leak.
"""
from __future__ import annotations

from sqlmodel import Session

from storage.models import AuditEvent

LOGIN = "login"
LOGIN_FAILED = "login_failed"
LOGIN_LOCKED = "login_locked"
LOGOUT = "logout"
VIEW_CONVERSATION = "view_conversation"
SEND_REPLY = "send_reply"
SIMULATE_MESSAGE = "simulate_message"


def record(session: Session, school_id: int, staff_user_id: int | None, action: str,
           target: str | None = None) -> AuditEvent:
    """Add one audit row to the caller's transaction."""
    event = AuditEvent(school_id=school_id, staff_user_id=staff_user_id, action=action, target=target)
    session.add(event)
    return event

