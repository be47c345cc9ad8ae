"""Reading a parent's reply as an answer: numbers, keypad digits and localised answer words.

A language's words come from the `answers:` block of its catalogue ("tak", "nie", "haan",
"ہاں"); English words are accepted from every parent too, because many families mix English
into their texts. Matching forgives case, accents and punctuation exactly as the STOP/HELP
keywords do.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from templates_i18n.text import normalise_keyword

SKIP, BACK = "skip", "back"
CONTROL_WORDS = (SKIP, BACK)
LEADING_WORDS = 3  # "yes, I will come" answers yes: the longest listed word at the start wins
LONG_REPLY_WORDS = 6  # an unmatched reply this long is a message to the school, not a bad answer
_QUESTION_MARKS = "?？؟¿"  # Latin, full-width, Arabic-script, Spanish opening mark
_ENDS_AS_QUESTION = re.compile(r"[?？؟]\W*$")


@dataclass(frozen=True)
class Words:
    """One language's answer words and message texts: plain data the engine reads, never loads.

    `answers` maps an answer id (yes, no, skip, back, or a choice id) to the language's words;
    `english` is the same block from en.yaml, used after the language's own words. `texts`
    holds message texts for the read-back labels (the language's, falling back to English).
    """

    language: str
    answers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    english: dict[str, tuple[str, ...]] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)

    @cached_property
    def lookup(self) -> dict[str, str]:
        """Normalised word -> answer id; the language's words win over English ones."""
        table: dict[str, str] = {}
        for block in (self.answers, self.english):
            for answer_id, words in block.items():
                for word in words:
                    table.setdefault(normalise_keyword(word), answer_id)
        table.pop("", None)
        return table

    def text(self, key: str, values: dict) -> str:
        """A message text with the {placeholders} it can fill; the key itself if unknown."""
        return self.texts.get(key, key).format_map(_KeepMissing(values))


class _KeepMissing(dict):
    def __missing__(self, name: str) -> str:
        return "{" + name + "}"


def control_word(text: str, words: Words) -> str | None:
    """'skip' or 'back' when the whole reply is one of those words, else None."""
    found = words.lookup.get(normalise_keyword(text or ""))
    return found if found in CONTROL_WORDS else None


def match_option(text: str, digits: str | None, options: tuple[str, ...], words: Words) -> str | None:
    """The option a reply names: by number (1 = first), by word, or by its first words; else None."""
    if digits:
        return _by_number(digits.strip(), options)
    normalised = normalise_keyword(text or "")
    if not normalised:
        return None
    if normalised.isdigit():
        return _by_number(normalised, options)
    tokens = normalised.split()
    for length in range(min(LEADING_WORDS, len(tokens)), 0, -1):
        found = words.lookup.get(" ".join(tokens[:length]))
        if found in options:
            return found
    # "2 phone", "3." and "5 - very well" start with the number of the option.
    return _by_number(tokens[0], options) if tokens[0].isdigit() else None


def match_number(text: str, digits: str | None, count: int) -> int | None:
    """A number from 1 to count, given alone or first ("7", "7 please", keypad 7); else None."""
    found = match_option(text, digits, tuple(str(n) for n in range(1, count + 1)), Words(language=""))
    return int(found) if found else None


def _by_number(number: str, options: tuple[str, ...]) -> str | None:
    if not number.isdigit():
        return None
    index = int(number)
    return options[index - 1] if 1 <= index <= len(options) else None


def is_message_to_school(text: str, free_text_step: bool) -> bool:
    """Whether a reply that is not an answer looks like a question or message for the staff.

    On a free-text step everything is an answer except a reply ending as a question; on other
    steps an unmatched reply with a question mark, or a sentence of several words, is a message.
    """
    stripped = (text or "").strip()
    if not stripped:
        return False
    if free_text_step:
        return bool(_ENDS_AS_QUESTION.search(stripped))
    has_question = any(mark in stripped for mark in _QUESTION_MARKS)
    return has_question or len(normalise_keyword(stripped).split()) >= LONG_REPLY_WORDS
