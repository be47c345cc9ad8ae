"""Retention: message text older than the school's setting is deleted; the rows (and so every count,
status and time) stay. Run by the sweep; `purge_school` is also what the command line calls.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, select

from storage.models import Message, School

PURGED_BODY = ""  # the column is NOT NULL: an empty text, with purged_at saying why


def purge_school(session: Session, school: School, now: datetime) -> int:
    """Delete the text, translation and media of the school's messages older than its retention; how many."""
    if not school.retention_days:
        return 0
    cutoff = now - timedelta(days=school.retention_days)
    result = session.exec(
        update(Message)
        .where(Message.school_id == school.id, Message.created_at < cutoff, Message.purged_at.is_(None),
               Message.status.not_in(("outbox", "dispatching")))  # never one still on its way
        .values(body=PURGED_BODY, translation=None, media=None, template_values=None, purged_at=now)
        .execution_options(synchronize_session=False))
    return result.rowcount or 0


def sweep_retention(session: Session, now: datetime) -> dict[str, int]:
    """The sweep's retention step: every school with a setting."""
    schools = session.exec(select(School).where(School.retention_days.is_not(None))).all()
    return {"purged": sum(purge_school(session, school, now) for school in schools)}
