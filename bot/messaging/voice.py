"""What a phone call says and listens for, in neutral verbs a provider turns into its own markup.

The domain (bot/calls/) answers each step of a call with a list of these; the Twilio package
renders them as TwiML (choosing the voice and the speech tag for the language), and the simulator
shows the same TwiML. `VoiceEvent` is what a provider's voice webhook hands the domain.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Say:
    """Text read aloud in `language` (only where the provider has a voice for it), slowly."""

    text: str
    language: str


@dataclass(frozen=True)
class Play:
    """Audio played from a URL only the provider can fetch (a recorded prompt)."""

    url: str


@dataclass(frozen=True)
class Gather:
    """Prompts, then wait for keys (and speech in `speech_language`, when given) posted to `action`.

    A provider must follow it with a redirect to `on_silence` so silence never hangs up.
    """

    prompts: tuple
    action: str
    on_silence: str
    num_digits: int = 1
    speech_language: str | None = None  # a family language code; None = keypad only
    timeout_seconds: int = 6


@dataclass(frozen=True)
class Record:
    """Record the caller after a beep; `action` next, `callback` when the audio is ready."""

    prompts: tuple
    action: str
    callback: str
    max_seconds: int = 120


@dataclass(frozen=True)
class Hangup:
    """End the call."""


@dataclass(frozen=True)
class VoiceEvent:
    """One voice webhook, in the domain's words (every field optional: each step sends some)."""

    call_sid: str
    status: str | None = None  # queued | ringing | in-progress | completed | busy | no-answer | failed | canceled
    answered_by: str | None = None  # human | machine | unknown
    duration_seconds: int | None = None
    digits: str | None = None
    speech: str | None = None
    confidence: float | None = None
    sender: str | None = None
    recipient: str | None = None
    recording_sid: str | None = None
    recording_url: str | None = None
    recording_seconds: int | None = None
    extra: dict = field(default_factory=dict)
