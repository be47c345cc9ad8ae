"""The message catalogue: every text the bot sends, one YAML file per language in templates_i18n/.

English (en.yaml) is the source. A language file may lack a key (render_template then returns
None and the caller falls back to labelled machine translation); validate_catalogs() reports
every drift from English so CI catches it before a parent does. Pure: no Flask, no I/O after
the first load.
"""
from __future__ import annotations

import re
import string
from datetime import datetime, timezone, tzinfo
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime, format_time

CATALOG_DIR = Path(__file__).resolve().parent.parent / "templates_i18n"
SOURCE_LANGUAGE = "en"
META_FIELDS = ("language", "name", "english_name", "direction", "locale", "reviewed_by_fluent_speaker")
KEYWORD_ACTIONS = ("stop", "start", "help")


def normalise_language(lang: str | None) -> str:
    """'pl-PL', 'PL' and 'pl_PL' all mean the catalogue 'pl'."""
    return re.split(r"[-_]", (lang or "").strip(), maxsplit=1)[0].lower()


def placeholders(text: str) -> set[str]:
    """The {named} fields a message expects."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


class Catalogs:
    """All catalogue files of one directory, loaded once."""

    def __init__(self, directory: Path | str = CATALOG_DIR):
        self.directory = Path(directory)
        self.files: dict[str, dict] = {}
        for path in sorted(self.directory.glob("*.yaml")):
            with path.open(encoding="utf-8") as handle:
                self.files[path.stem] = yaml.safe_load(handle) or {}
        if SOURCE_LANGUAGE not in self.files:
            raise FileNotFoundError(f"{self.directory / 'en.yaml'} is missing: English is the source")

    def languages(self) -> list[str]:
        """Catalogue language codes, English first."""
        return sorted(self.files, key=lambda code: (code != SOURCE_LANGUAGE, code))

    def messages(self, lang: str) -> dict:
        """The messages block of one language ({} when there is no such catalogue)."""
        return self.files.get(normalise_language(lang), {}).get("messages") or {}

    def keywords(self, lang: str) -> dict:
        """The keywords block of one language ({} when absent)."""
        return self.files.get(normalise_language(lang), {}).get("keywords") or {}

    def answers(self, lang: str) -> dict:
        """The answers block of one language: answer id -> words ({} when absent)."""
        block = self.files.get(normalise_language(lang), {}).get("answers")
        return block if isinstance(block, dict) else {}

    def meta(self, lang: str) -> dict | None:
        """The meta block of one language, or None."""
        data = self.files.get(normalise_language(lang))
        return data.get("meta") if data else None

    def render(self, key: str, lang: str, **values) -> str | None:
        """One message in one language with its {placeholders} filled; None if the language lacks it."""
        if key not in self.messages(SOURCE_LANGUAGE):
            raise KeyError(f"message key {key!r} is not in the English catalogue")
        text = self.messages(lang).get(key)
        if text is None:
            return None
        missing = placeholders(text) - values.keys()
        if missing:
            raise ValueError(f"message {key!r} needs values for: {', '.join(sorted(missing))}")
        return text.format_map(values)

    def problems(self) -> list[str]:
        """Every way a catalogue drifts from English or is malformed; [] when all is well."""
        found: list[str] = []
        english = self.messages(SOURCE_LANGUAGE)
        for lang in self.languages():
            found += [f"{lang}.yaml: {problem}" for problem in self._file_problems(lang, english)]
        return found

    def _file_problems(self, lang: str, english: dict) -> list[str]:
        data = self.files[lang]
        if not isinstance(data, dict) or not isinstance(data.get("messages"), dict):
            return ["needs a 'messages' mapping"]
        found = _meta_problems(lang, data.get("meta"), english)
        messages = data["messages"]
        found += [f"missing key {key!r}" for key in english if key not in messages]
        found += [f"extra key {key!r} (not in en.yaml)" for key in messages if key not in english]
        for key, text in messages.items():
            if not isinstance(text, str) or not text.strip():
                found.append(f"{key!r} must be non-empty text")
            elif key in english and placeholders(text) != placeholders(english[key]):
                found.append(f"{key!r} placeholders {sorted(placeholders(text))} "
                             f"differ from English {sorted(placeholders(english[key]))}")
            elif key in english:
                found += _quoted_keyword_problems(key, text, english[key])
        keywords = data.get("keywords")
        if not isinstance(keywords, dict) or set(keywords) != set(KEYWORD_ACTIONS):
            found.append(f"'keywords' must map exactly {list(KEYWORD_ACTIONS)} to lists")
        else:
            for action, words in keywords.items():
                if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
                    found.append(f"keywords.{action} must be a list of quoted strings "
                                 "(bare YES/NO/ON are YAML booleans)")
        return found


def _meta_problems(lang: str, meta, english: dict) -> list[str]:
    if not isinstance(meta, dict):
        return ["needs a 'meta' mapping"]
    found = [f"meta.{field} is missing" for field in META_FIELDS if field not in meta]
    if meta.get("language") != lang:
        found.append(f"meta.language {meta.get('language')!r} must equal the file name {lang!r}")
    if meta.get("direction") not in ("ltr", "rtl"):
        found.append("meta.direction must be 'ltr' or 'rtl'")
    try:
        locale = Locale.parse(str(meta.get("locale")))
    except (ValueError, UnknownLocaleError):
        found.append(f"meta.locale {meta.get('locale')!r} is not a Babel locale")
    else:
        if locale.language != lang:
            found.append(f"meta.locale {meta.get('locale')!r} is not a locale of {lang!r}")
        babel_direction = "rtl" if locale.character_order == "right-to-left" else "ltr"
        if meta.get("direction") in ("ltr", "rtl") and meta["direction"] != babel_direction:
            found.append(f"meta.direction {meta['direction']!r} but CLDR says {babel_direction!r}")
    reviewed = meta.get("reviewed_by_fluent_speaker")
    if not isinstance(reviewed, list):
        found.append("meta.reviewed_by_fluent_speaker must be a list of message keys")
    else:
        found += [f"meta.reviewed_by_fluent_speaker names unknown key {key!r}"
                  for key in reviewed if key not in english]
    return found


def _quoted_keyword_problems(key: str, text: str, english_text: str) -> list[str]:
    # English tells parents to text STOP/START; a translation that drops the word leaves
    # the parent without the one instruction that always works.
    quoted = set(re.findall(r"\b(STOP|START|HELP)\b", english_text))
    return [f"{key!r} must keep the keyword {word} as written in English" for word in sorted(quoted)
            if not re.search(rf"(?<![A-Za-z]){word}(?![A-Za-z])", text)]


@lru_cache(maxsize=1)
def default_catalogs() -> Catalogs:
    """The repository's catalogues, loaded on first use and kept."""
    return Catalogs(CATALOG_DIR)


def render_template(key: str, lang: str, **values) -> str | None:
    """Message `key` in `lang`, or None if that language has no human text for it."""
    return default_catalogs().render(key, lang, **values)


def catalog_languages() -> list[str]:
    """Language codes that have a catalogue file, English first."""
    return default_catalogs().languages()


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


def validate_catalogs() -> list[str]:
    """Problems in the catalogues (messages, meta, keywords, answer words); [] when all is well."""
    from bot.keywords import keyword_problems  # keywords builds on this module

    catalogs = default_catalogs()
    return catalogs.problems() + keyword_problems(catalogs) + answer_word_problems(catalogs)


def answer_word_problems(catalogs: Catalogs) -> list[str]:
    """Answer-word blocks that drift from English or would be misread; [] when all is well."""
    from bot.keywords import KeywordMatcher, normalise_keyword

    matcher = KeywordMatcher(catalogs)
    english = catalogs.files[SOURCE_LANGUAGE].get("answers")
    if not isinstance(english, dict) or not english:
        return [f"{SOURCE_LANGUAGE}.yaml: needs an 'answers' block (answer id -> words)"]
    found: list[str] = []
    for lang in catalogs.languages():
        block = catalogs.files[lang].get("answers")
        if not isinstance(block, dict):
            found.append(f"{lang}.yaml: missing 'answers' block (answer id -> words)")
            continue
        where = f"{lang}.yaml answers"
        found += [f"{where}: missing words for {key!r}" for key in english if key not in block]
        found += [f"{where}: {key!r} is not in en.yaml (unquoted yes/no keys are YAML booleans)"
                  for key in block if key not in english]
        seen: dict[str, str] = {}
        for key, words in block.items():
            if not isinstance(words, list) or not words or not all(isinstance(w, str) and w.strip() for w in words):
                found.append(f"{where}.{key}: must be a non-empty list of quoted strings")
                continue
            for word in words:
                norm = normalise_keyword(word)
                if seen.get(norm, key) != key:
                    found.append(f"{where}.{key} {word!r}: also listed for {seen[norm]!r}")
                seen.setdefault(norm, key)
                keyword = matcher.match(word)
                if keyword and keyword.action != "start":
                    # The host acts on STOP/HELP before a flow sees the reply: never an answer.
                    found.append(f"{where}.{key} {word!r}: is a {keyword.action} keyword and would never reach a flow")
    return found


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
