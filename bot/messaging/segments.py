"""SMS segment counting: GSM-7 splits at 160 (153 per part), anything else UCS-2 at 70 (67)."""
from __future__ import annotations

from dataclasses import dataclass

_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€\f")  # each costs two septets


@dataclass(frozen=True)
class SegmentCount:
    """How an SMS will be encoded and how many parts (each billed) it takes."""

    encoding: str  # "GSM-7" or "UCS-2"
    segments: int
    characters: int


def count_segments(text: str) -> SegmentCount:
    """Count the SMS segments `text` needs."""
    if all(ch in _GSM_BASIC or ch in _GSM_EXTENDED for ch in text):
        units = sum(2 if ch in _GSM_EXTENDED else 1 for ch in text)
        single, part, encoding = 160, 153, "GSM-7"
    else:
        # UCS-2 counts UTF-16 code units: characters outside the BMP (emoji) take two.
        units = len(text.encode("utf-16-le")) // 2
        single, part, encoding = 70, 67, "UCS-2"
    segments = 1 if units <= single else -(-units // part)
    return SegmentCount(encoding=encoding, segments=segments, characters=len(text))
