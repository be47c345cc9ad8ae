"""What a parent actually receives: staff English or a catalogue message, in their language.

Human catalogue text is used when it exists; otherwise machine translation, always labelled
as such for the parent; when no engine can translate, English with a plain notice.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from bot.language.i18n import is_romanised, render_template
from bot.translation import TranslationUnavailable, Translator


@dataclass(frozen=True)
class Rendering:
    """The text for the parent and how it was made (stored beside the original)."""

    text: str | None  # None while a machine translation is still to be made (status "pending")
    engine: str | None  # human | argos | apertium | libretranslate | none
    status: str  # human | done | unavailable | not_needed | pending
    note: str | None = None
    gap: str | None = None  # why there is no translation, as a kind (see Message.translation_gap)
    translated: str | None = None  # the machine translation alone, without its label (for checking it)


def approval_code(source: str, rendering: Rendering, language: str) -> str:
    """A short fingerprint of exactly what a parent would receive, so a send can prove it is what staff saw."""
    seen = "\x00".join([source, language, rendering.text or "", rendering.engine or "", rendering.status])
    return hashlib.sha256(seen.encode("utf-8")).hexdigest()[:32]


def _label(key: str, language: str) -> str:
    return render_template(key, language) or render_template(key, "en")


def machine_translate(text: str, source: str, target: str, translator: Translator,
                      keep: tuple[str, ...] = ()) -> Rendering:
    """Translate staff text for a parent, labelled; English plus a notice when impossible.

    Times, dates, numbers, addresses, emoji and the names in `keep` pass through unchanged.
    """
    if source == target:
        return Rendering(text=text, engine="none", status="not_needed")
    try:
        if is_romanised(target):
            # The engines write Urdu in Urdu script; a parent who reads Roman Urdu would get a
            # script she may not read, labelled as if it were for her.
            raise TranslationUnavailable(f"no engine writes {target} (the language in English letters)",
                                         gap="romanised")
        result = translator.translate(text, source, target, keep=keep)
    except TranslationUnavailable as missing:
        notice = _label("translation.unavailable_notice", target)
        return Rendering(text=f"{text}\n{notice}", engine="none", status="unavailable", note=missing.reason,
                         gap=missing.gap)
    return Rendering(
        text=f"{_label('machine_translation.label', target)} {result.text}",
        engine=result.engine,
        status="done",
        translated=result.text,
    )


def render_catalogue(key: str, language: str, values: dict, translator: Translator) -> Rendering:
    """A catalogue message in the parent's language: human text, else labelled machine translation."""
    human = render_template(key, language, **values)
    if human is not None:
        return Rendering(text=human, engine="human", status="human")
    english = render_template(key, "en", **values)
    return machine_translate(english, "en", language, translator)
