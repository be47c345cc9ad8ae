"""A guardian's own state, in one place: the row lock that orders their conversation, opting
out and in, and learning the language they write in.
"""
from __future__ import annotations

from sqlmodel import Session, select

from bot.language.i18n import catalogue_language
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
    if not (message.language and (message.language_confidence or 0) >= LEARN_LANGUAGE_CONFIDENCE
            and len(message.body.strip()) >= LEARN_LANGUAGE_MIN_CHARS):
        return
    if guardian.preferred_language is None:
        guardian.preferred_language = message.language
    if guardian.preferred_language == message.language and guardian.script_source != "staff":
        learn_script(guardian, message.language, message.script)


def teach_language(guardian: Guardian, language: str, script: str | None) -> None:
    """Staff said what a guardian writes: their language, and the script if it is not the usual one."""
    guardian.preferred_language = language
    guardian.preferred_script = script if catalogue_language(language, script) != language else None
    guardian.script_source = "staff"


def learn_script(guardian: Guardian, language: str, script: str | None) -> None:
    """Remember the script a guardian writes their language in (Roman Urdu: "Latn").

    Only a script with its own catalogue counts (Urdu in English letters, not English in them);
    the latest confident message wins, since parents switch keyboards and we should follow.
    """
    if script and catalogue_language(language, script) != language:
        guardian.preferred_script, guardian.script_source = script, "learned"
    elif script and guardian.preferred_script and guardian.script_source == "learned":
        guardian.preferred_script = None  # now writing in the language's own script
