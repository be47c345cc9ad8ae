"""What machine translation must not touch: times, dates, numbers, phone numbers, web and email
addresses, emoji and names. They are swapped for placeholders the engines pass through
unchanged (⟦0⟧, ⟦1⟧ …) and put back afterwards; an engine that loses one is not trusted with
the message ("call you tomorrow at 10am" once reached a parent as "mañana en 10soy").
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# Order matters: the longer, more specific shapes are taken first.
_SHAPES = [
    r"https?://\S+|www\.\S+",                                       # web addresses
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+",                                # email addresses
    r"\+?\d[\d ]{7,}\d",                                            # phone numbers
    r"\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b",                         # dates 03/12/2026
    r"\b\d{1,2}(?:[:.]\d{2})?\s?(?:am|pm|a\.m\.|p\.m\.)(?![a-z])",  # times 10am, 3.30 pm (not the full stop)
    r"\b\d{1,2}:\d{2}\b",                                           # times 15:30
    r"\b\d+(?:[.,]\d+)*(?:st|nd|rd|th)?\b",                         # numbers, 12th
    "[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F\u200D]+",            # emoji
]
_TOKEN = re.compile("|".join(f"(?:{shape})" for shape in _SHAPES), re.IGNORECASE)
_PLACEHOLDER = re.compile(r"⟦(\d+)⟧")


class LostToken(ValueError):
    """The engine dropped or changed something that had to pass through unchanged."""


@dataclass(frozen=True)
class Protected:
    """A text with its protected tokens swapped for placeholders, and the tokens in order."""

    text: str
    tokens: tuple[str, ...]


def protect(text: str, names: tuple[str, ...] = ()) -> Protected:
    """Swap every time, date, number, address, emoji and known name for a numbered placeholder."""
    tokens: list[str] = []

    def hold(match: re.Match) -> str:
        tokens.append(match.group(0))
        return f"⟦{len(tokens) - 1}⟧"

    known = [re.escape(name) for name in sorted({n for n in names if n and n.strip()}, key=len, reverse=True)]
    pattern = re.compile("|".join([rf"\b(?:{'|'.join(known)})\b"] if known else []) + ("|" if known else "")
                         + _TOKEN.pattern, re.IGNORECASE)
    return Protected(pattern.sub(hold, text), tuple(tokens))


def restore(translated: str, protected: Protected) -> str:
    """Put every token back; LostToken if any placeholder is missing or was duplicated."""
    found = [int(number) for number in _PLACEHOLDER.findall(translated)]
    if sorted(found) != list(range(len(protected.tokens))):
        missing = [protected.tokens[i] for i in range(len(protected.tokens)) if i not in found]
        raise LostToken(f"the engine lost {', '.join(missing) or 'a placeholder'}")
    return _PLACEHOLDER.sub(lambda match: protected.tokens[int(match.group(1))], translated)
