"""Opt-out, opt-in and help keywords in every catalogue language ("STOP", "REZYGNUJĘ", "توقف").

A message is a keyword only when the whole message, trimmed, is one: "STOP" opts out,
"stop sending me the homework" does not. Matching forgives case, surrounding punctuation,
Unicode normalisation, Latin/Cyrillic accents and the usual Arabic-script spelling variants,
because parents type on whatever keyboard they have. Twilio's default keywords are global:
they work for every parent whatever their language.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from templates_i18n.catalog import KEYWORD_ACTIONS, SOURCE_LANGUAGE, Catalogs, default_catalogs
from templates_i18n.text import normalise_keyword

# Twilio's own SMS layer acts on these (long codes), before our webhook sees them.
TWILIO_DEFAULT_KEYWORDS = {
    "stop": ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"),
    "start": ("START", "YES", "UNSTOP"),
    "help": ("HELP", "INFO"),
}
# Ordinary answers to a question; a stop or help keyword equal to one of these would turn a
# parent's answer into an opt-out. (START may be YES: opting in by mistake loses nothing.)
EVERYDAY_REPLIES = {
    "no", "nie", "tak", "yes", "ok", "okay", "si", "sí", "da", "nu", "não", "sim", "non", "oui", "evet",
    "hayır", "ne", "taip", "ja", "nein", "po", "jo", "haan", "han", "nahi", "nahin", "na", "ha", "haa",
    "maya", "igen", "nem", "не", "нет", "ні", "так", "да", "是", "不", "好",
    "لا", "نعم", "ہاں", "نہیں", "نه", "بله", "হ্যাঁ", "না", "ਹਾਂ", "ਨਹੀਂ", "0", "1", "2", "3",
}
MAX_KEYWORD_WORDS = 3
_MAX_INPUT_CHARS = 80  # longer than any keyword with room for punctuation; skip the work

@dataclass(frozen=True)
class KeywordMatch:
    """A whole-message keyword: what to do, which catalogue it came from, whether Twilio acts on it."""

    action: str  # "stop" | "start" | "help"
    language: str | None  # None for the global Twilio words, or a word shared by several languages
    twilio_default: bool  # Twilio's SMS layer acts on exactly this text (trimmed, any case)
    languages: tuple[str, ...] = ()  # every catalogue that lists the word


class KeywordMatcher:
    """Keyword lookup built from a set of catalogues."""

    def __init__(self, catalogs: Catalogs):
        self.table: dict[str, tuple[str, set[str]]] = {}
        for action, words in TWILIO_DEFAULT_KEYWORDS.items():
            for word in words:
                self.table[normalise_keyword(word)] = (action, set())
        for lang in catalogs.languages():
            for action in KEYWORD_ACTIONS:
                for word in catalogs.keywords(lang).get(action) or []:
                    if isinstance(word, str) and normalise_keyword(word):
                        self.table.setdefault(normalise_keyword(word), (action, set()))[1].add(lang)
        self.twilio_exact = {w.casefold(): a for a, words in TWILIO_DEFAULT_KEYWORDS.items() for w in words}

    def match(self, text: str | None) -> KeywordMatch | None:
        """The keyword this whole message is, or None."""
        if not text or len(text) > _MAX_INPUT_CHARS:
            return None
        normalised = normalise_keyword(text)
        entry = self.table.get(normalised)
        if entry is None:
            return None
        action, languages = entry
        twilio_default = self.twilio_exact.get(text.strip().casefold()) == action
        # A global word says nothing about the sender's language, even though en.yaml lists it.
        is_global = normalised in _GLOBAL_NORMALISED
        candidates = sorted(languages - {SOURCE_LANGUAGE}) if is_global else sorted(languages)
        language = candidates[0] if len(candidates) == 1 else None
        return KeywordMatch(action, language, twilio_default, tuple(sorted(languages)))


_GLOBAL_NORMALISED = {normalise_keyword(w) for words in TWILIO_DEFAULT_KEYWORDS.values() for w in words}


@lru_cache(maxsize=1)
def _default_matcher() -> KeywordMatcher:
    return KeywordMatcher(default_catalogs())


def match_keyword(text: str | None) -> KeywordMatch | None:
    """Whether a parent's whole message is STOP/START/HELP in any catalogue language."""
    return _default_matcher().match(text)


def keyword_problems(catalogs: Catalogs) -> list[str]:
    """Keyword lists that would misfire: collisions, everyday answers, repeats of global words."""
    found: list[str] = []
    english = {a: {normalise_keyword(w) for w in catalogs.keywords(SOURCE_LANGUAGE).get(a) or []}
               for a in KEYWORD_ACTIONS}
    for action, words in TWILIO_DEFAULT_KEYWORDS.items():
        found += [f"en.yaml: Twilio default {w} must be listed under keywords.{action}"
                  for w in words if normalise_keyword(w) not in english[action]]
    seen: dict[str, tuple[str, str]] = {}  # normalised word -> (action, file)
    for lang in catalogs.languages():
        for action in KEYWORD_ACTIONS:
            for word in catalogs.keywords(lang).get(action) or []:
                if not isinstance(word, str):
                    continue  # reported by the catalogue checks
                found += _word_problems(lang, action, word, seen, english)
    return found


def _word_problems(lang: str, action: str, word: str, seen: dict, english: dict) -> list[str]:
    where = f"{lang}.yaml keywords.{action} {word!r}"
    norm = normalise_keyword(word)
    if not norm:
        return [f"{where}: has no letters"]
    found = []
    if len(norm.split()) > MAX_KEYWORD_WORDS:
        found.append(f"{where}: longer than {MAX_KEYWORD_WORDS} words; keywords are short fixed messages")
    if action != "start" and norm in {normalise_keyword(r) for r in EVERYDAY_REPLIES}:
        found.append(f"{where}: an everyday answer to a question, never a {action} keyword")
    if lang != SOURCE_LANGUAGE and any(norm in words for words in english.values()):
        found.append(f"{where}: already global in en.yaml; do not repeat it")
    previous = seen.get(norm)
    if previous and previous[0] != action:
        found.append(f"{where}: collides with {previous[0]} keyword in {previous[1]}.yaml")
    elif previous and previous[1] == lang:
        found.append(f"{where}: listed twice")
    seen.setdefault(norm, (action, lang))
    return found
