"""Display helpers shared by the inbox and the simulator: times, languages, names.

Registered as Jinja filters by the inbox blueprint so every template formats alike.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from markupsafe import Markup

from bot.inbox import wording
from bot.inbox.translation_gaps import contribution_messages, message_language, page_gaps, row_words
from bot.language import i18n
from bot.language.detection import UNCERTAIN
from bot.language.keywords import match_keyword
from storage.models import Guardian, Message, School

UK_DATETIME = "%d/%m/%Y %H:%M"
UK_DATE = "%d/%m/%Y"


def school_zone(school: School) -> ZoneInfo:
    """The school's timezone (London if the stored name is unknown)."""
    try:
        return ZoneInfo(school.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Europe/London")


def local_time(moment: datetime | None, school: School, pattern: str = UK_DATETIME) -> str:
    """A stored UTC time in the school's timezone, day first ('23/11/2025 14:05')."""
    if moment is None:
        return ""
    if moment.tzinfo is None:  # SQLite hands back naive datetimes; they are UTC
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(school_zone(school)).strftime(pattern)


def local_date(moment: datetime | None, school: School) -> str:
    """A stored UTC time as the school's calendar date, day first ('23/11/2025')."""
    return local_time(moment, school, UK_DATE)


def iso_time(moment: datetime | None) -> str:
    """Machine-readable UTC time for <time datetime=...>."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def language_name(code: str | None) -> str:
    """'Spanish' for 'es'; 'Not known yet' when nobody knows."""
    return i18n.english_name(code) if code else "Not known yet"


def confidence_percent(value: float | None) -> str:
    """0.934 -> '93%'."""
    return f"{round(value * 100)}%" if value is not None else ""


def guardian_language(guardian: Guardian) -> str:
    """The language staff see for a guardian, with the script they read: 'Roman Urdu', 'Polish'."""
    return language_name(i18n.catalogue_language(guardian.preferred_language, guardian.preferred_script))


def language_choices() -> list[tuple[str, str]]:
    """(catalogue code, English name) for every language the school can write in, by name."""
    return sorted(((code, i18n.english_name(code)) for code in i18n.catalog_languages()), key=lambda c: c[1])


def written_in(message: Message) -> str:
    """What staff read a message's language as: 'Polish', 'Roman Urdu', 'Polish (language uncertain)'.

    A percentage on a guess reads as a promise; only a doubtful reading says so.
    """
    if not message.language:
        return "language not recognised"
    name = language_name(message_language(message))
    if (message.language_confidence or 0) < UNCERTAIN:
        return f"{name} (language uncertain)"
    return name


def guardian_label(guardian: Guardian) -> str:
    """The guardian's name, or 'Unknown contact' for a number nobody has registered."""
    if guardian.known and guardian.name:
        return guardian.name
    return "Unknown contact"


def isolated_guardian_label(guardian: Guardian) -> Markup:
    """The label for templates, in <bdi>: an Arabic or Urdu name never reorders the text around it."""
    return Markup("<bdi>%s</bdi>") % guardian_label(guardian)


def keyword_text(message: Message) -> str:
    """A keyword message as an event: 'Texted STOP: opted out'."""
    match = match_keyword(message.body)
    return wording.keyword_event(match.action if match else None, message.body)


def catalogue_english(message: Message, school: School) -> str | None:
    """A system message as it reads in the staff language, dates included (None if not a catalogue text)."""
    if not message.template_key:
        return None
    values = i18n.values_for(message.template_values or {}, school.staff_language, school.timezone)
    try:
        return i18n.render_template(message.template_key, school.staff_language, **values)
    except (KeyError, ValueError):  # the catalogue has changed since the message was sent
        return None


def mark_kept(text: str, kept: tuple[str, ...]) -> Markup:
    """The text with every kept token in <mark> (escaped; for the preview)."""
    if not kept:
        return Markup.escape(text)
    pattern = re.compile("|".join(re.escape(token) for token in sorted(set(kept), key=len, reverse=True)))
    parts, last = [], 0
    for match in pattern.finditer(text):
        parts += [Markup.escape(text[last:match.start()]), Markup('<mark class="kept">%s</mark>') % match.group(0)]
        last = match.end()
    return Markup("").join([*parts, Markup.escape(text[last:])])



def register_filters(state) -> None:
    """Make the helpers available to every template (called on blueprint registration)."""
    state.app.jinja_env.globals.update(page_gaps=page_gaps, contribution_messages=contribution_messages,
                                       message_language_choices=language_choices())
    state.app.jinja_env.filters.update(
        local_time=local_time, local_date=local_date, iso_time=iso_time, language_name=language_name,
        percent=confidence_percent, guardian_label=isolated_guardian_label,
        mask_phone=wording.mask_phone, channel_name=wording.channel_name,
        delivery_status=wording.delivery_status, status_tone=wording.status_tone,
        outbound_label=wording.outbound_label, keyword_text=keyword_text,
        catalogue_english=catalogue_english, mark_kept=mark_kept, written_in=written_in, guardian_language=guardian_language,
        message_language=message_language, gap_words=row_words,
    )
