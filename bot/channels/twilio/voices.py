"""Which Twilio voice speaks each family language, and which tag Twilio listens with.

One row per language code the catalogues use. `say_language` and `voice` go on <Say>;
`speech_language` on <Gather input="speech">; they differ (Punjabi speaks pa-IN but is heard as
pa-guru-IN). A language with no `voice` is never spoken by a machine (Twilio would read it with
the wrong voice, or fail): its prompts must be recorded by staff. Every value is checked against
Twilio's own list (tests/test_voice_table.py reads ../shared/twilio/twiml_voice_enums.json).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class VoiceRow:
    """How Twilio speaks and hears one language; None where it cannot."""

    say_language: str | None
    voice: str | None
    speech_language: str | None


_NO_VOICE = None
VOICES: dict[str, VoiceRow] = {
    "en": VoiceRow("en-GB", "Polly.Amy", "en-GB"),
    "pl": VoiceRow("pl-PL", "Polly.Ewa", "pl-PL"),
    "pa": VoiceRow("pa-IN", "Google.pa-IN-Standard-A", "pa-guru-IN"),
    "bn": VoiceRow("bn-IN", "Google.bn-IN-Chirp3-HD-Aoede", "bn-BD"),
    "ar": VoiceRow("arb", "Polly.Zeina", "ar-SA"),
    "ro": VoiceRow("ro-RO", "Polly.Carmen", "ro-RO"),
    "pt": VoiceRow("pt-PT", "Polly.Ines", "pt-PT"),
    "es": VoiceRow("es-ES", "Polly.Lucia", "es-ES"),
    "tr": VoiceRow("tr-TR", "Polly.Filiz", "tr-TR"),
    "fr": VoiceRow("fr-FR", "Polly.Celine", "fr-FR"),
    "zh": VoiceRow("cmn-CN", "Polly.Zhiyu", "cmn-Hans-CN"),
    "it": VoiceRow("it-IT", "Polly.Bianca", "it-IT"),
    "bg": VoiceRow("bg-BG", "Google.bg-BG-Standard-A", "bg-BG"),
    "hu": VoiceRow("hu-HU", "Google.hu-HU-Standard-A", "hu-HU"),
    "ru": VoiceRow("ru-RU", "Polly.Tatyana", "ru-RU"),
    "uk": VoiceRow("uk-UA", "Google.uk-UA-Standard-A", "uk-UA"),
    # No Twilio voice: staff record the prompts. Some can still be heard (speech answers).
    "ur": VoiceRow(_NO_VOICE, _NO_VOICE, "ur-PK"),
    "fa": VoiceRow(_NO_VOICE, _NO_VOICE, "fa-IR"),
    "sq": VoiceRow(_NO_VOICE, _NO_VOICE, "sq-AL"),
    # Lithuanian voices exist, but lt-LT is not a <Say> language Twilio lists: not risked.
    "lt": VoiceRow(_NO_VOICE, _NO_VOICE, "lt-LT"),
    "so": VoiceRow(_NO_VOICE, _NO_VOICE, None),
    "ps": VoiceRow(_NO_VOICE, _NO_VOICE, None),
    "ti": VoiceRow(_NO_VOICE, _NO_VOICE, None),
    "ku": VoiceRow(_NO_VOICE, _NO_VOICE, None),
}

# espeak-ng voices for the simulator's offline preview ("preview voice, not Twilio's").
PREVIEW_VOICES: dict[str, str] = {
    "en": "en-gb", "pl": "pl", "pa": "pa", "bn": "bn", "ar": "ar", "ro": "ro", "pt": "pt", "es": "es",
    "tr": "tr", "fr": "fr", "zh": "cmn", "it": "it", "bg": "bg", "hu": "hu", "ru": "ru", "uk": "uk",
}


def voice_row(language: str | None) -> VoiceRow:
    """The row for a language code ("pt-BR" → "pt"); a row with nothing for an unknown language."""
    if not language:
        return VoiceRow(None, None, None)
    code = language.replace("_", "-").split("-")[0].lower()
    return VOICES.get(code, VoiceRow(None, None, None))
