"""A guardian's own state, in one place: the row lock that orders their conversation, opting
out and in, and learning the language they write in.
"""
from __future__ import annotations

from sqlmodel import Session, select

from storage.models import Guardian, Message, utcnow

# A detection this sure, on a message this long, teaches us a guardian's language.
LEARN_LANGUAGE_CONFIDENCE, LEARN_LANGUAGE_MIN_CHARS = 0.8, 12


def lock_guardian(session: Session, guardian_id: int) -> Guardian | None:
    """Load a guardian with its row locked until the transaction ends (PostgreSQL; SQLite ignores it).

    Everything that changes a guardian's conversation (their messages, their flow) takes this
    lock first, so two events for one parent are handled one after the other.
    """
    return session.exec(select(Guardian).where(Guardian.id == guardian_id).with_for_update()).one_or_none()


def mark_opted_out(guardian: Guardian) -> None:
    """Record that a guardian asked for no more messages (STOP, or the provider said so)."""
    if not guardian.opted_out:
        guardian.opted_out, guardian.opted_out_at = True, utcnow()


def mark_opted_in(guardian: Guardian) -> None:
    """Record that a guardian asked to hear from the school again (START)."""
    guardian.opted_out, guardian.opted_out_at, guardian.opted_in_at = False, None, utcnow()


def learn_language(guardian: Guardian, message: Message) -> None:
    """Set a guardian's language from a confident reading of a real sentence they wrote.

    Staff can always correct it, and a known language is never overwritten by one message.
    """
    if (guardian.preferred_language is None and message.language
            and (message.language_confidence or 0) >= LEARN_LANGUAGE_CONFIDENCE
            and len(message.body.strip()) >= LEARN_LANGUAGE_MIN_CHARS):
        guardian.preferred_language = message.language
