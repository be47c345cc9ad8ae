"""The message catalogue: the YAML files beside this module, loaded and checked.

English (en.yaml) is the source. A language file may lack a key (`render` then returns None
and the caller falls back to labelled machine translation); `Catalogs.problems()` reports every
drift from English so CI catches it before a parent does. Pure: no Flask, no I/O after the first
load. Both the bot and the flow engine read the catalogue; it imports neither.
"""
from __future__ import annotations

import re
import string
from functools import lru_cache
from pathlib import Path

import yaml
from babel import Locale, UnknownLocaleError
from babel.core import get_global

CATALOG_DIR = Path(__file__).resolve().parent
SOURCE_LANGUAGE = "en"
META_FIELDS = ("language", "name", "english_name", "direction", "locale", "reviewed_by_fluent_speaker")
KEYWORD_ACTIONS = ("stop", "start", "help")


def normalise_language(lang: str | None) -> str:
    """'pl-PL', 'PL' and 'pl_PL' all mean the catalogue 'pl'; a script stays: 'ur-latn' is 'ur-Latn'.

    A script variant (Roman Urdu, "ur-Latn") is a catalogue of its own: parents who write Urdu
    in English letters read the bot's messages in English letters too.
    """
    parts = re.split(r"[-_]", (lang or "").strip())
    base = parts[0].lower()
    script = next((part.title() for part in parts[1:] if len(part) == 4 and part.isalpha()), None)
    return f"{base}-{script}" if script else base


def base_language(lang: str | None) -> str:
    """The ISO 639-1 language of a catalogue code: 'ur' for 'ur-Latn', 'pt' for 'pt-BR'."""
    return normalise_language(lang).split("-", 1)[0]


def script_of(lang: str | None) -> str | None:
    """The script subtag of a catalogue code ('Latn' for 'ur-Latn'), None for a plain language."""
    code = normalise_language(lang)
    return code.split("-", 1)[1] if "-" in code else None


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

    def code(self, lang: str | None) -> str:
        """The catalogue that serves `lang`: its script variant if there is one, else the language."""
        code = normalise_language(lang)
        return code if code in self.files else base_language(code)

    def messages(self, lang: str) -> dict:
        """The messages block of one language ({} when there is no such catalogue)."""
        return self.files.get(self.code(lang), {}).get("messages") or {}

    def keywords(self, lang: str) -> dict:
        """The keywords block of one language ({} when absent)."""
        return self.files.get(self.code(lang), {}).get("keywords") or {}

    def answers(self, lang: str) -> dict:
        """The answers block of one language: answer id -> words ({} when absent)."""
        block = self.files.get(self.code(lang), {}).get("answers")
        return block if isinstance(block, dict) else {}

    def meta(self, lang: str) -> dict | None:
        """The meta block of one language, or None."""
        data = self.files.get(self.code(lang))
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
        if script_of(lang):
            # A script variant (Roman Urdu) writes dates with a locale of its script.
            if _locale_script(locale) != script_of(lang):
                found.append(f"meta.locale {meta.get('locale')!r} does not write {script_of(lang)} script")
        elif locale.language != lang:
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


def _locale_script(locale: Locale) -> str | None:
    """The script a Babel locale writes in (CLDR's likely subtags: 'en' -> 'Latn')."""
    if locale.script:
        return locale.script
    likely = get_global("likely_subtags").get(locale.language, "")
    parts = likely.split("_")
    return parts[1] if len(parts) > 1 and len(parts[1]) == 4 else None


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
