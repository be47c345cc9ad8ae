"""Work a transaction creates is queued once it commits, and never if it rolls back.

Code that stores a row which needs a job (a message to deliver, a parent's message to act on)
calls `defer(session, "deliver_message", message.id)`. One listener on every SQLAlchemy session
queues the recorded jobs after a successful commit and forgets them on rollback (mailroom's
post-commit hook), so a worker can never be handed an id whose row is not there yet.
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from bot.tasks.queue import enqueue_job
from bot.tasks.table import spec_for

_PENDING = "sendbot.deferred_jobs"


def defer(session: Session, name: str, *args, at: datetime | None = None) -> None:
    """Queue job `name(*args)` (at `at`, or now) once this session's transaction commits."""
    spec_for(name)  # an unknown name fails here, in the caller's transaction, not after it
    pending = session.info.setdefault(_PENDING, [])
    if (name, args, at) not in pending:
        pending.append((name, args, at))


def pending_jobs(session: Session) -> list[tuple[str, tuple, datetime | None]]:
    """What this session will queue when it commits (for tests and the webhook profile)."""
    return list(session.info.get(_PENDING, []))


@event.listens_for(Session, "after_commit")
def _queue_committed_work(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    if not has_app_context():
        raise RuntimeError("jobs were deferred on a session used outside the app context: they cannot be queued")
    queue = current_app.extensions["queue"]
    for name, args, at in pending:
        enqueue_job(queue, name, args, at)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back_work(session: Session) -> None:
    session.info.pop(_PENDING, None)
