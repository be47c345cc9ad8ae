"""A parent's message, translated into the school's staff language and stored beside the original."""
from __future__ import annotations

from flask import current_app
from sqlmodel import Session

from bot.guardians import teach_language
from bot.language.detection import detect
from bot.language.i18n import base_language, catalogue_language, is_romanised, script_of
from bot.tasks import defer
from bot.translation import TranslationUnavailable
from storage.db import session_scope
from storage.models import Guardian, Message, School


def translate_for_staff(message_id: int) -> str | None:
    """Translate one inbound message for staff (once); its translation status, or None if not due."""
    with session_scope() as session:
        message = session.get(Message, message_id)
        if message is None or message.direction != "inbound" or message.translation_status != "pending":
            return None
        target = session.get(School, message.school_id).staff_language
        if not message.body.strip():
            message.translation_status = "not_needed"
            return message.translation_status
        if message.language is None:
            prior = session.get(Guardian, message.guardian_id).preferred_language
            detection = detect(message.body, prior=prior)
            message.language, message.language_confidence = detection.language, detection.confidence
            message.script = detection.script
        if message.language is None:
            message.translation_status, message.translation_gap = "unavailable", "unrecognised"
            message.translation_note = "the language of this message could not be recognised"
        elif message.language == target:
            message.translation_status, message.translation_engine = "not_needed", "none"
        elif is_romanised(catalogue_language(message.language, message.script)):
            # No engine here reads Urdu in English letters: guessing would give staff a
            # translation of words the engine never understood.
            message.translation_status, message.translation_gap = "unavailable", "romanised"
            message.translation_note = f"no engine reads {message.language} written in English letters"
        else:
            try:
                result = current_app.extensions["translator"].translate(message.body, message.language, target)
            except TranslationUnavailable as missing:
                message.translation_status, message.translation_note = "unavailable", missing.reason
                message.translation_gap = missing.gap
            else:
                message.translation, message.translation_engine = result.text, result.engine
                message.translation_status = "done"
        return message.translation_status


def correct_language(session: Session, message: Message, guardian: Guardian, code: str, staff_language: str) -> None:
    """Staff say what language (and script) a parent's message is in: it is translated again,
    and the guardian's language and script are taught (a person's reading beats a detector's).

    `code` is a catalogue code: 'pl', or 'ur-Latn' for Urdu in English letters.
    """
    language, script = base_language(code), script_of(code)
    message.language, message.language_confidence = language, 1.0
    message.script = script or (message.script if message.script != "Latn" else None)
    message.translation, message.translation_engine, message.translation_note = None, None, None
    message.translation_gap = None
    if language == staff_language:
        message.translation_status, message.translation_engine = "not_needed", "none"
    else:
        message.translation_status = "pending"
        defer(session, "translate_message", message.id)
    # One English message from a Polish mother says nothing about how to write to her.
    if language != staff_language or guardian.preferred_language is None:
        teach_language(guardian, language, script)
