"""Language names as a school writes them ("Panjabi", "Bangla", "Farsi (Persian)") to language codes.

The catalogue's English names come first, then common spellings from school information
systems, then the English names CLDR knows (so a language without a catalogue file is still
recognised; its messages are machine translated).
"""
from __future__ import annotations

import re
from functools import lru_cache

from babel import Locale, UnknownLocaleError

from bot.language import i18n

# Spellings SIMS, Arbor and parents use that are not the CLDR English name.
ALIASES = {
    "panjabi": "pa", "punjabi": "pa", "mirpuri": "pa", "bangla": "bn", "bengali": "bn", "sylheti": "bn",
    "farsi": "fa", "persian": "fa", "dari": "fa", "pashto": "ps", "pakhto": "ps", "pushto": "ps",
    "mandarin": "zh", "chinese": "zh", "putonghua": "zh", "shqip": "sq", "romani": "ro", "moldovan": "ro",
    "brazilian portuguese": "pt", "castilian": "es", "ukranian": "uk", "polski": "pl", "somalian": "so",
}
SCRIPTS = {"": "Usual script", "Latn": "English letters (e.g. Roman Urdu)"}


def choices() -> list[tuple[str, str]]:
    """(code, English name) of every catalogue language, by name: what staff pick from."""
    return sorted(((code, i18n.english_name(code)) for code in i18n.catalog_languages()), key=lambda pair: pair[1])


def _has_locale(code: str) -> bool:
    # Only languages CLDR has data for: a code we could not name or format dates in is no use.
    try:
        Locale.parse(code)
    except (ValueError, UnknownLocaleError):
        return False
    return True


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    names = {name.lower(): code for code, name in Locale("en").languages.items() if "_" not in code and _has_locale(code)}
    names.update({name.lower(): code for code, name in choices()})
    names.update(ALIASES)
    return names


def _key(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())


def language_from_name(text: str | None) -> str | None:
    """The language code for a name as written, or None when it is not a language we recognise.

    "Farsi (Persian)", "Panjabi (Mirpuri)", "Albanian/Shqip", "pl" all work: the whole text is
    tried, then each part in and around brackets or slashes.
    """
    if not text or not text.strip():
        return None
    names = _names()
    whole = _key(text)
    if whole in names:
        return names[whole]
    if whole in {code for code, _ in choices()}:
        return whole
    for part in re.split(r"[()/,;]| - ", whole):
        if _key(part) in names:
            return names[_key(part)]
    return None
