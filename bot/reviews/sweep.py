"""The reviews part of the sweep: reminders whose time has come, handed to workers in batches."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.reviews.schedule import due_reminder_ids
from bot.tasks import defer

# Reminders per job: small enough that two workers share a large fan-out, large enough that a
# trust's 10,000 reminders are not 10,000 jobs.
REMINDER_BATCH = 100


def sweep_reviews(session: Session, now: datetime) -> dict[str, int]:
    """Queue every due, unsent reminder (each batch job sends a reminder at most once)."""
    due = due_reminder_ids(session, now)
    for start in range(0, len(due), REMINDER_BATCH):
        defer(session, "send_reminder_batch", due[start:start + REMINDER_BATCH])
    return {"due_reminders": len(due)}
