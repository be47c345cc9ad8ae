"""Why a message has no machine translation, worded for a SENDCo — once per page, not per row.

Each message records its gap as a kind (Message.translation_gap); a row says briefly what is
missing ("No machine translation · Roman Urdu"), and the page says once why and what to do
("No Polish translator is installed on this server — your administrator can add it").
The technical detail (which engines lack which pack) stays in Message.translation_note for
the help page and administrators, never repeated down a printed page.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from bot.language import i18n
from storage.models import Message

ROW_WORDS = {
    "romanised": "No machine translation: {language}",
    "no_engine": "No machine translation: no {language} translator on this server",
    "unrecognised": "No machine translation: the language was not recognised",
    "turned_off": "No machine translation: machine translation is turned off",
    "mangled": "No machine translation: the translator changed a time, date or name, so it was not used",
}
PAGE_NOTES = {
    "romanised": ("{language} is {base} written in English letters. No translator on this server reads it: "
                  "read it as written, or ask a colleague who reads {base}."),
    "no_engine": ("No {language} translator is installed on this server — your administrator can add it "
                  "(the help page has the command)."),
    "unrecognised": "Some messages are too short or mixed to tell their language; read them as written.",
    "turned_off": "Machine translation is turned off on this server (TRANSLATION_ENGINE=none).",
    "mangled": ("A machine translation that changed a time, date, number or name is never shown: "
                "the original is the only safe version."),
}


@dataclass(frozen=True)
class Gap:
    """One reason translations are missing on a page, worded for staff."""

    kind: str
    language: str | None
    note: str


def message_language(message: Message) -> str | None:
    """The catalogue code of what the message is written in: 'ur-Latn' for Roman Urdu."""
    return i18n.catalogue_language(message.language, message.script)


def row_words(message: Message) -> str:
    """The short line a row shows instead of a translation."""
    template = ROW_WORDS.get(message.translation_gap or "", "No machine translation")
    return template.format(language=i18n.english_name(message_language(message) or ""))


def contribution_messages(contributions) -> list[Message]:
    """The parent's messages behind a page of contributions (for page_gaps)."""
    return [row.message for contribution in contributions for row in contribution.rows if row.message]


def page_gaps(messages: Iterable[Message]) -> list[Gap]:
    """The distinct reasons on a page (each kind and language once), in the order first met."""
    seen: dict[tuple[str, str | None], Gap] = {}
    for message in messages:
        if message.translation_status != "unavailable" or message.translation_gap not in PAGE_NOTES:
            continue
        language = message_language(message) if message.translation_gap in ("romanised", "no_engine") else None
        key = (message.translation_gap, language)
        if key not in seen:
            name = i18n.english_name(language) if language else ""
            base = i18n.english_name(i18n.base_language(language)) if language else ""
            seen[key] = Gap(message.translation_gap, language,
                            PAGE_NOTES[message.translation_gap].format(language=name, base=base))
    return list(seen.values())
