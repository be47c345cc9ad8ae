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

ADD_STAFF = "add_staff"
STAFF_LINK = "staff_password_link"
SET_PASSWORD = "set_password"
ADD_CARER = "add_carer"
EDIT_CARER = "edit_carer"
ARCHIVE_CARER = "archive_carer"
ADD_CHILD = "add_child"
EDIT_CHILD = "edit_child"
ARCHIVE_CHILD = "archive_child"
IMPORT_FAMILIES = "import_families"
SEND_UPDATE = "send_update"
ASSIGN_CONVERSATION = "assign_conversation"
