"""Rendering the catalogue for parents and staff: messages, dates in the parent's language,
language names, right-to-left scripts, answer words.

The catalogue itself (templates_i18n/) is loaded by `templates_i18n.catalog`.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone, tzinfo
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime, format_time

from bot.language.romanised import ROMANISED_LANGUAGES
from flows.loader import words_for
from flows.readback import render_summary
from templates_i18n.catalog import base_language as _base_language
from templates_i18n.catalog import (CATALOG_DIR, KEYWORD_ACTIONS, SOURCE_LANGUAGE, Catalogs,
                                    default_catalogs, normalise_language, placeholders, script_of)

__all__ = ["CATALOG_DIR", "KEYWORD_ACTIONS", "SOURCE_LANGUAGE", "Catalogs", "default_catalogs", "normalise_language",
           "placeholders"]


def base_language(lang: str | None) -> str:
    """'ur' for 'ur-Latn': the language whatever its script."""
    return _base_language(lang)


def is_romanised(lang: str | None) -> bool:
    """Whether a catalogue code is a language written in a script not its own: 'ur-Latn' (Roman Urdu)."""
    return script_of(lang) == "Latn" and _base_language(lang) in ROMANISED_LANGUAGES


def catalogue_language(language: str | None, script: str | None) -> str | None:
    """The catalogue code for a language written in a script: ('ur', 'Latn') -> 'ur-Latn'.

    Only where such a catalogue exists (Roman Urdu, Roman Punjabi, Banglish); otherwise the
    language itself, in its usual script.
    """
    if not language or not script:
        return language
    variant = normalise_language(f"{_base_language(language)}-{script}")
    return variant if variant in default_catalogs().files else language


def render_template(key: str, lang: str, **values) -> str | None:
    """Message `key` in `lang`, or None if that language has no human text for it."""
    return default_catalogs().render(key, lang, **values)


def catalog_languages() -> list[str]:
    """Language codes that have a catalogue file, English first."""
    return default_catalogs().languages()


def spoken_languages() -> list[str]:
    """Catalogue languages as they are spoken: no script variants (Roman Urdu is spoken as Urdu)."""
    return [code for code in catalog_languages() if script_of(code) is None]


def language_meta(lang: str) -> dict | None:
    """The meta block of a language's catalogue, or None when there is no catalogue."""
    return default_catalogs().meta(lang)


def _babel_locale(lang: str) -> Locale | None:
    meta = language_meta(lang)
    try:
        return Locale.parse(meta["locale"] if meta else normalise_language(lang) or SOURCE_LANGUAGE)
    except (ValueError, UnknownLocaleError):
        return None


def is_rtl(lang: str) -> bool:
    """True for right-to-left scripts (catalogue meta first, CLDR for languages without one)."""
    meta = language_meta(lang)
    if meta:
        return meta.get("direction") == "rtl"
    locale = _babel_locale(lang)
    return bool(locale and locale.character_order == "right-to-left")


def english_name(lang: str) -> str:
    """'Polish' for 'pl': catalogue meta, then CLDR, then the code itself."""
    meta = language_meta(lang)
    if meta and meta.get("english_name"):
        return meta["english_name"]
    locale = _babel_locale(lang) if lang else None
    return locale.get_language_name("en") if locale else lang


def answer_words(lang: str) -> dict[str, list[str]]:
    """A language's answer words for question flows: 'yes', 'no', 'skip', 'back', choice ids."""
    return {str(key): list(words) for key, words in default_catalogs().answers(lang).items()}


def _full_weekday_date_pattern(locale: Locale) -> str:
    # CLDR has no "weekday day month" pattern with a full weekday; take the locale's own
    # abbreviated one (so word order stays right) and widen weekday and month outside quotes.
    skeletons = locale.datetime_skeletons
    key = next((k for k in ("MMMMEEEEd", "MMMMEd", "MMMEd") if k in skeletons), None)
    if key is None:
        return "EEEE, d MMMM"
    parts = re.split(r"('(?:[^']|'')*')", str(skeletons[key]))
    widened = [part if part.startswith("'") else
               re.sub(r"(?<![ML])(M{3}|L{3})(?![ML])", lambda m: m.group(1)[0] * 4,
                      re.sub(r"[Ec]+", lambda m: m.group(0)[0] * 4, part))
               for part in parts]
    return "".join(widened)


def values_for(values: dict, lang: str, tz: tzinfo | str) -> dict:
    """Placeholder values for one language: a meeting time (`starts_at`, ISO) written as that language
    writes it, and a flow's read-back (`readback`, the summary as data) in that language's words.

    Values are stored as the parent's message has them (`date`, `summary` in the parent's language);
    staff-facing text renders the same values with `date` rewritten in the staff language from
    `starts_at` and `summary` from `readback` (the parent's own words stay as written).
    """
    if values.get("starts_at"):
        starts_at = datetime.fromisoformat(values["starts_at"])
        values = {**values, "date": format_datetime_for(starts_at, lang, tz)}
    if values.get("readback"):
        values = {**values, "summary": render_summary(values["readback"], words_for(lang), values)}
    return values


def format_datetime_for(dt: datetime, lang: str, tz: tzinfo | str) -> str:
    """A date and time as the parent reads it, e.g. 'wtorek, 3 grudnia, 15:30' (naive dt = UTC)."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    locale = _babel_locale(lang) or _babel_locale(SOURCE_LANGUAGE)
    date_part = format_datetime(dt, _full_weekday_date_pattern(locale), tzinfo=zone, locale=locale)
    time_part = format_time(dt, "short", tzinfo=zone, locale=locale)
    joiner = str(locale.datetime_formats.get("medium", "{1}, {0}"))
    text = joiner.replace("{1}", date_part).replace("{0}", time_part)
    # CLDR puts no-break spaces in times ("3:30\u202fPM"): one such character makes a whole SMS
    # UCS-2, halving what each segment holds. A plain space reads the same.
    return text.replace("\u202f", " ").replace("\u00a0", " ")
