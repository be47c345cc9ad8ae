"""How short replies are compared: the one normalisation STOP/HELP keywords and flow answer words share.

Parents type on whatever keyboard they have, so matching forgives case, surrounding punctuation,
Unicode normalisation, Latin/Cyrillic accents and the usual Arabic-script spelling variants.
"""
from __future__ import annotations

import re
import unicodedata

_ARABIC_SCRIPT_DROP = re.compile("[\u0640\u064b-\u065f\u0670\u06d6-\u06ed]")  # tatweel, harakat
_ARABIC_SCRIPT_FOLD = str.maketrans({
    "\u0623": "\u0627", "\u0625": "\u0627", "\u0622": "\u0627", "\u0671": "\u0627",  # alef forms
    "\u064a": "\u06cc", "\u0649": "\u06cc",  # Arabic yeh, alef maksura -> Farsi/Urdu yeh
    "\u0643": "\u06a9",  # Arabic kaf -> keheh (Urdu, Persian)
    "\u06c1": "\u0647", "\u06be": "\u0647", "\u0629": "\u0647", "\u06c3": "\u0647",  # heh forms, teh marbuta
})
_LATIN_FOLD = str.maketrans({"ł": "l", "ı": "i", "đ": "d", "ø": "o", "ħ": "h"})


def normalise_keyword(text: str) -> str:
    """The comparable form of a short message: casefolded, unaccented, punctuation-free."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")  # ZWNJ, RLM, BOM
    text = _ARABIC_SCRIPT_DROP.sub("", text).translate(_ARABIC_SCRIPT_FOLD)
    text = unicodedata.normalize("NFKD", text.casefold()).translate(_LATIN_FOLD)
    kept, base = [], ""
    for ch in text:
        # Accents on Latin, Greek and Cyrillic letters are often left off on phones; the
        # vowel signs of Indic scripts are part of the word and stay.
        if unicodedata.combining(ch) and base and ord(base) < 0x0530:
            continue
        if not unicodedata.combining(ch):
            base = ch
        kept.append(ch)
    text = unicodedata.normalize("NFC", "".join(kept))
    # Letters, marks and digits make words; everything else (punctuation, emoji) separates.
    spaced = "".join(ch if unicodedata.category(ch)[0] in "LMN" else " " for ch in text)
    return " ".join(spaced.split())
