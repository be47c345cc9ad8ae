"""An offline preview of what a call would say, rendered by espeak-ng ("preview voice, not Twilio's").

Only the simulator uses it, so a SENDCo can hear a call without a Twilio account. espeak-ng
speaks in its default voice when it does not know one, so only languages in the table are
rendered, and a failed render is reported rather than played.
"""
from __future__ import annotations

import shutil
import subprocess

from bot.channels.twilio.voices import PREVIEW_VOICES

MAX_PREVIEW_CHARS = 2000


class PreviewUnavailable(Exception):
    """No offline voice for this language, or espeak-ng is not installed or failed."""


def preview_voice(language: str | None) -> str | None:
    """The espeak-ng voice for a language code, if there is one."""
    if not language:
        return None
    return PREVIEW_VOICES.get(language.split("-")[0].lower())


def render_wav(text: str, language: str, speed_wpm: int = 140) -> bytes:
    """WAV audio of `text` read in `language` (slowly); PreviewUnavailable if it cannot be."""
    voice = preview_voice(language)
    binary = shutil.which("espeak-ng")
    if voice is None or binary is None:
        raise PreviewUnavailable("no offline voice for this language" if voice is None else "espeak-ng is not installed")
    try:
        done = subprocess.run([binary, "-v", voice, "-s", str(speed_wpm), "--stdout", "--", text[:MAX_PREVIEW_CHARS]],
                              capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise PreviewUnavailable(f"espeak-ng failed: {type(error).__name__}") from error
    if done.returncode != 0 or not done.stdout.startswith(b"RIFF"):
        raise PreviewUnavailable("espeak-ng could not read this text")
    return done.stdout
