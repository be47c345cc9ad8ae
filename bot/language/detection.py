"""Which language a parent wrote in, with a confidence that means something.

Parents' texts are short ("tak", "ok dzięki", "Yes"), and on a few letters every detector
guesses. Five things make the answer usable (figures in docs/benchmarks.md):

- lingua-language-detector, restricted to the languages UK school families write in;
- a length-aware calibration of lingua's scores: lingua averages n-gram log-probabilities
  per n-gram, so its confidence does not grow with the amount of text (a clear English
  sentence gets 0.74). Raising the scores to the power SHARPNESS * sqrt(letters) turns them
  into probabilities that match observed accuracy;
- the guardian's known language as a prior: a multiplier on that language's probability,
  which decides short replies and is outweighed by any real sentence in another language;
- script rules for languages lingua lacks: Tigrinya (Ethiopic script), and Pashto and Sorani
  Kurdish by the Arabic-script letters only they use;
- replies made only of words every family texts in English ("ok", "Yes", "thanks") carry no
  evidence: the guardian's language is returned, or English if it is unknown, with the low
  confidence that nothing learnt deserves.

Sorani is reported as "ku", the only ISO 639-1 code for Kurdish; Kurmanji (Latin script) is
not recognised. Models load once per process (about 0.5 GB, ~4 s): call preload() at start-up.
"""
from __future__ import annotations

import math
import os
import re
import threading
import unicodedata
from dataclasses import dataclass

from lingua import IsoCode639_1, LanguageDetector, LanguageDetectorBuilder

from bot.language.romanised import ROMANISED_LANGUAGES, romanised_evidence, told_apart

LINGUA_LANGUAGES = (
    "en", "pl", "ur", "pa", "bn", "ar", "ro", "pt", "so", "es", "fr", "lt",
    "tr", "it", "ta", "gu", "zh", "fa", "sq", "bg", "hu", "ru", "uk",
)
SCRIPT_RULE_LANGUAGES = ("ps", "ku", "ti")
SUPPORTED_LANGUAGES = LINGUA_LANGUAGES + SCRIPT_RULE_LANGUAGES

# Fitted by `python bench/langid.py --fit` on the even lines of lingua's test data: the first
# two at minimum log-loss without prior. With the sender's language known for 80% of senders,
# log-loss stops falling at a prior weight of about 20 (flat to 100); the low end is kept because
# a heavier prior misreads more of what parents write in another language. Tatoeba, the
# benchmark's proxy for parents' texts, stays unseen.
SHARPNESS = 0.63
SMOOTHING = 0.003  # probability mass lingua can be wrong by; nothing is ever certain
PRIOR_WEIGHT = 20.0

# Letters that Pashto and Sorani use and Arabic, Persian and Urdu do not; NFKC-normalised.
PASHTO_LETTERS = frozenset("ټډړږښځڅڼۍېګ")
SORANI_LETTERS = frozenset("ڕڵۆێە")
URDU_LETTERS = frozenset("ٹڈڑںےہ")
# How often a letter of Pashto / Sorani text is one of its distinctive letters (NTREX text),
# and how often one turns up in another Arabic-script language (typos, names).
DISTINCTIVE_RATE = {"ps": 0.10, "ku": 0.20}
STRAY_RATE = 0.002
ARABIC_SCRIPT_LINGUA = ("ar", "fa", "ur")

# Whole replies of these words say nothing about the sender's language (repeats collapsed).
_REPEATS = re.compile(r"(.)\1+")
NEUTRAL_WORDS = frozenset(_REPEATS.sub(r"\1", word) for word in (
    "ok oki okey okay k yes yeah yep yup ye no nope thanks thank thx ty tnx you u hi hey "
    "hello bye please pls plz sorry lol np"
).split())

# Below this a detection is shown to staff as "language uncertain" (and teaches nothing).
UNCERTAIN = 0.5
# Romanised evidence this strong makes any other reading of a Latin-script text uncertain.
ROMANISED_DOUBT = 0.2

MAX_CHARS = 1000  # a thousand characters settle the language; more only costs time
_URL_OR_EMAIL = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+\.\w+", re.IGNORECASE)
# Bidi marks and zero-width spaces split words without showing on screen (RTL phones add them);
# the zero-width (non-)joiners stay: Persian and Indic spelling uses them.
_INVISIBLE = re.compile("[\u061c\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


@dataclass(frozen=True)
class Detection:
    """The detected ISO 639-1 code (None if nothing can be said), its probability, and the
    ISO 15924 script the text is written in ("Latn" for Roman Urdu; None without letters)."""

    language: str | None
    confidence: float
    script: str | None = None


NOTHING = Detection(None, 0.0)

_detector: LanguageDetector | None = None
_load_lock = threading.Lock()


def _after_fork_in_child() -> None:
    # A fork (gunicorn --preload) can happen while the start-up thread holds the lock half-way
    # through loading; that thread does not exist in the child, so the child gets a fresh lock
    # (and loads for itself if the models were not ready when it was forked).
    global _load_lock
    _load_lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


def preload() -> None:
    """Load the language models now (web and worker start-up) rather than on first use."""
    _lingua()


def detect(text: str, prior: str | None = None) -> Detection:
    """Detect the language of a message, given the guardian's known language if any."""
    probabilities = _probabilities(text, prior)
    if not probabilities:
        return NOTHING
    language = max(probabilities, key=probabilities.__getitem__)
    confidence = min(probabilities[language], 1 - SMOOTHING)
    script = dominant_script(_clean(text))
    if script == "Latn" and language in ROMANISED_LANGUAGES and _supported(prior) not in ROMANISED_LANGUAGES:
        # Without the guardian's language, only words one of the three alone uses can make it sure.
        if not told_apart(_clean(text), language):
            confidence = min(confidence, UNCERTAIN - 0.01)
    elif script == "Latn" and language not in ROMANISED_LANGUAGES:
        # Real signs of Roman Urdu/Punjabi/Bengali in a text read as something else: the
        # reading may be right, but staff should not be told it is sure.
        if romanised_evidence(_clean(text), _supported(prior)).probability >= ROMANISED_DOUBT:
            confidence = min(confidence, UNCERTAIN - 0.01)
    # Rounded: lingua's scores vary in their last bits from call to call (unordered sums).
    return Detection(language, round(confidence, 4), script)


def _probabilities(text: str, prior: str | None) -> dict[str, float]:
    """Probabilities of the candidate languages; empty if nothing can be said."""
    cleaned = _clean(text)
    letters = [char for char in cleaned if char.isalpha()]
    if not letters:
        return {}
    prior = _supported(prior)
    if _only_neutral_words(cleaned):
        return _prior_only(prior)
    ethiopic = sum(_is_ethiopic(char) for char in letters)
    if ethiopic * 2 >= len(letters):
        # Tigrinya is the only supported language in Ethiopic script (Amharic is not).
        return {"ti": 1.0 - SMOOTHING}
    log_scores = _lingua_log_scores(cleaned, len(letters))
    if not log_scores:
        return {}
    arabic_letters = [char for char in letters if _is_arabic(char)]
    if arabic_letters:
        log_scores.update(_arabic_script_rules(arabic_letters, log_scores))
    if prior in log_scores:
        log_scores[prior] += math.log(PRIOR_WEIGHT)
    probabilities = _normalise(log_scores)
    if _is_latin_text(letters):
        probabilities = _with_romanised(probabilities, cleaned, prior)
    return probabilities


def _with_romanised(probabilities: dict[str, float], text: str, prior: str | None) -> dict[str, float]:
    """Mix in the reading of Urdu, Punjabi and Bengali written in English letters.

    lingua's models for these know only the native scripts; the romanised lexicon says how
    likely the text is one of them (weight p) and which; lingua keeps the rest (1 - p).
    """
    evidence = romanised_evidence(text, prior)
    if not evidence.probability:
        return probabilities
    split = dict(evidence.split)
    if prior in split:
        split[prior] *= PRIOR_WEIGHT
        total = sum(split.values())
        split = {code: value / total for code, value in split.items()}
    mixed = {code: value * (1 - evidence.probability) for code, value in probabilities.items()}
    for code, share in split.items():
        mixed[code] = mixed.get(code, 0.0) + evidence.probability * share
    return mixed


def _is_latin_text(letters: list[str]) -> bool:
    """Whether most letters are Latin (the only script romanised South Asian texts use)."""
    return sum(char < "\u0250" for char in letters) * 2 > len(letters)


def dominant_script(text: str) -> str | None:
    """The ISO 15924 code of the script most of the text's letters are in (None without letters)."""
    counts: dict[str, int] = {}
    for char in text:
        if char.isalpha():
            script = _script_of(char)
            counts[script] = counts.get(script, 0) + 1
    return max(counts, key=counts.__getitem__) if counts else None


# Unicode character names start with their script's name; ISO 15924 codes of those we meet.
_SCRIPT_CODES = {
    "LATIN": "Latn", "ARABIC": "Arab", "BENGALI": "Beng", "GURMUKHI": "Guru", "DEVANAGARI": "Deva",
    "CYRILLIC": "Cyrl", "GREEK": "Grek", "ETHIOPIC": "Ethi", "TAMIL": "Taml", "GUJARATI": "Gujr",
    "CJK": "Hani", "HEBREW": "Hebr", "SHAHMUKHI": "Arab",
}


def _script_of(char: str) -> str:
    name = unicodedata.name(char, "")
    return _SCRIPT_CODES.get(name.split(" ", 1)[0], "Zyyy")


def _only_neutral_words(text: str) -> bool:
    """Whether every word is one families use whatever language they speak ("ok", "Yes")."""
    words = re.findall(r"[^\W\d_]+", text.lower())
    return bool(words) and all(_REPEATS.sub(r"\1", word) in NEUTRAL_WORDS for word in words)


def _prior_only(prior: str | None) -> dict[str, float]:
    """Probabilities when the text is no evidence: the prior alone, English breaking the tie."""
    if prior is None:
        return {"en": 1.0 / len(SUPPORTED_LANGUAGES)}
    return {prior: PRIOR_WEIGHT / (PRIOR_WEIGHT + len(SUPPORTED_LANGUAGES) - 1)}


def _lingua_log_scores(text: str, letter_count: int) -> dict[str, float]:
    """Calibrated, smoothed log-probabilities of the lingua languages; empty if none fits."""
    values = {
        value.language.iso_code_639_1.name.lower(): value.value
        for value in _lingua().compute_language_confidence_values(text)
    }
    if not any(values.values()):
        return {}  # a script none of the supported languages uses
    sharpness = SHARPNESS * math.sqrt(letter_count)
    raised = {code: value ** sharpness if value > 0 else 0.0 for code, value in values.items()}
    total = sum(raised.values()) or 1.0
    floor = SMOOTHING / len(LINGUA_LANGUAGES)
    return {code: math.log((1 - SMOOTHING) * raised.get(code, 0.0) / total + floor)
            for code in LINGUA_LANGUAGES}


def _arabic_script_rules(letters: list[str], log_scores: dict[str, float]) -> dict[str, float]:
    """Log-scores for Pashto and Sorani, and the penalty their letters put on ar/fa/ur."""
    counts = {
        "ps": sum(char in PASHTO_LETTERS for char in letters),
        "ku": sum(char in SORANI_LETTERS for char in letters),
    }
    urdu = sum(char in URDU_LETTERS for char in letters)
    # A rule language starts level with the average of lingua's Arabic-script languages:
    # lingua's models say nothing about it either way.
    arabic_mass = sum(math.exp(log_scores[code]) for code in ARABIC_SCRIPT_LINGUA)
    start = math.log(arabic_mass / len(ARABIC_SCRIPT_LINGUA))
    updated = {}
    for language, rate in DISTINCTIVE_RATE.items():
        own = counts[language]
        foreign = sum(counts.values()) - own + urdu
        plain = len(letters) - own - foreign
        updated[language] = (start + own * math.log(rate / STRAY_RATE)
                             + plain * math.log(1 - rate) + foreign * math.log(STRAY_RATE))
    stray = sum(counts.values())
    for code in ARABIC_SCRIPT_LINGUA:
        updated[code] = log_scores[code] + stray * math.log(STRAY_RATE)
    return updated


def _normalise(log_scores: dict[str, float]) -> dict[str, float]:
    """Turn log-scores into probabilities that sum to one."""
    highest = max(log_scores.values())
    scores = {code: math.exp(score - highest) for code, score in log_scores.items()}
    total = sum(scores.values())
    return {code: score / total for code, score in scores.items()}


def _clean(text: str) -> str:
    """Text as the models should see it: NFKC, no links, no invisible bidi or spacing marks."""
    if not isinstance(text, str):
        return ""
    text = unicodedata.normalize("NFKC", text[: MAX_CHARS * 2])
    return _INVISIBLE.sub("", _URL_OR_EMAIL.sub(" ", text))[:MAX_CHARS]


def _supported(prior: str | None) -> str | None:
    """The prior as a supported ISO 639-1 code ("pt-BR" -> "pt"), or None."""
    if not isinstance(prior, str):
        return None
    code = re.split(r"[-_]", prior.strip().lower(), maxsplit=1)[0]
    return code if code in SUPPORTED_LANGUAGES else None


def _is_ethiopic(char: str) -> bool:
    return "\u1200" <= char <= "\u139f" or "\u2d80" <= char <= "\u2ddf" or "\uab00" <= char <= "\uab2f"


def _is_arabic(char: str) -> bool:
    return "\u0600" <= char <= "\u06ff" or "\u0750" <= char <= "\u077f" or "\u08a0" <= char <= "\u08ff"


def _lingua() -> LanguageDetector:
    """The process's lingua detector, built once (thread-safe) with all models in memory."""
    global _detector
    if _detector is None:
        with _load_lock:
            if _detector is None:
                codes = [getattr(IsoCode639_1, code.upper()) for code in LINGUA_LANGUAGES]
                _detector = (LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
                             .with_preloaded_language_models().build())
    return _detector
