"""What a call says in a language: the provider's voice where it has one, else a staff recording.

Catalogue keys under `voice.` (templates_i18n) are the call's fixed prompts. A language with no
provider voice can only be called when staff have recorded every prompt the call needs; the
recordings are served at a URL signed with SECRET_KEY and valid for an hour, so only the
provider (which we hand the URL) can fetch them.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import time

from flask import current_app
from sqlmodel import Session, select

from bot.conversation.flow_runs import INTERRUPTIBLE_FLOWS
from bot.language.i18n import english_name, render_template
from templates_i18n.catalog import default_catalogs
from bot.messaging.channel import get_channel
from bot.messaging.voice import Play, Say
from storage.models import Message, VoicePrompt

# The fixed prompts of an outbound call, in the order a call may use them.
CALL_KEYS = ("voice.menu", "voice.stop_option", "voice.stopped", "voice.record", "voice.recorded", "voice.callback",
             "voice.goodbye", "voice.voicemail")
# Everything a school may record per language: the call's prompts, calls to the school, and the
# catalogue messages calls carry most (review reminders and changes).
RECORDABLE_KEYS = CALL_KEYS + ("voice.greeting", "voice.inbound_menu", "voice.calls_option", "voice.calls_on",
                               "voice.language_choice", "voice.no_message",
                               "review.reminder.info", "review.moved", "review.cancelled")
# Question flows and review messages a call may also carry (recorded like the prompts).
MESSAGE_KEY_PREFIXES = ("pre_review.", "review.", "flow.")
PROMPT_LIFETIME_SECONDS = 3600
# Messages whose text tells the parent to reply by text: on a call the plain version is said
# (the call's own menu follows it).
SPOKEN_INSTEAD = {"review.reminder": "review.reminder.info"}
# Sentence ends in the scripts the catalogues use (Latin, Arabic, Bengali/Devanagari danda, CJK).
_SENTENCE_END = re.compile(r"(?<=[.!?؟।。！？])\s+")


def sentences(text: str) -> list[str]:
    """A long message as sentences, so it is read one at a time with a pause between."""
    return [part.strip() for part in _SENTENCE_END.split(text or "") if part.strip()]


def message_keys() -> list[str]:
    """Catalogue messages beyond the call's prompts that staff may record (questions, review news)."""
    english = default_catalogs().messages("en")
    return [key for key in english if key.startswith(MESSAGE_KEY_PREFIXES) and key not in RECORDABLE_KEYS
            and key not in SPOKEN_INSTEAD and not key.endswith(".label")]


def voice_url(path: str, **params) -> str:
    """A URL of ours for the provider: absolute under PUBLIC_BASE_URL when set, else relative."""
    query = "&".join(f"{key}={value}" for key, value in params.items() if value is not None)
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    return f"{base}{path}" + (f"?{query}" if query else "")


def _signature(prompt_id: int, expires: int) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"voice-prompt:{prompt_id}:{expires}".encode(), hashlib.sha256).hexdigest()


def signed_prompt_url(prompt_id: int, now: float | None = None) -> str:
    """Where the provider fetches a recorded prompt (expires in an hour)."""
    expires = int((now or time.time()) + PROMPT_LIFETIME_SECONDS)
    return voice_url(f"/voice-media/prompts/{prompt_id}", e=expires, s=_signature(prompt_id, expires))


def prompt_url_is_valid(prompt_id: int, expires: str, signature: str, now: float | None = None) -> bool:
    """Whether a prompt URL was signed by us and has not expired."""
    if not expires.isdigit() or int(expires) < (now or time.time()):
        return False
    return hmac.compare_digest(_signature(prompt_id, int(expires)), signature or "")


def recorded(session: Session, school_id: int, key: str, language: str) -> VoicePrompt | None:
    """Staff's recording of `key` in `language`, if any."""
    return session.exec(select(VoicePrompt).where(VoicePrompt.school_id == school_id, VoicePrompt.key == key,
                                                  VoicePrompt.language == language)).first()


def prompt(session: Session, school_id: int, key: str, language: str, **values) -> Say | Play | None:
    """A fixed prompt: a staff recording first (a school may prefer a human voice), else the voice."""
    recording = recorded(session, school_id, key, language)
    if recording is not None:
        return Play(signed_prompt_url(recording.id))
    text = render_template(key, language, **values)
    if text is not None and get_channel().speaks(language):
        return Say(text, language)
    return None


def spoken_key(template_key: str) -> str:
    """The catalogue key a call says (and staff record) for a message's key."""
    return SPOKEN_INSTEAD.get(template_key, template_key)


def own_recording_key(message: Message) -> str:
    """The key of staff's recording of this very message (a staff reply in a language with no voice)."""
    return f"message:{message.id}"


def message_prompts(session: Session, message: Message) -> list[Say | Play]:
    """A message as the call says it: staff's recording of it (its own, or its catalogue key's), else its sentences."""
    own = recorded(session, message.school_id, own_recording_key(message), message.language)
    if own is not None:
        return [Play(signed_prompt_url(own.id))]
    if message.template_key:
        recording = recorded(session, message.school_id, spoken_key(message.template_key), message.language)
        if recording is not None:
            return [Play(signed_prompt_url(recording.id))]
    if get_channel().speaks(message.language):
        text = message.translation or message.body
        if message.template_key in SPOKEN_INSTEAD:
            text = render_template(SPOKEN_INSTEAD[message.template_key], message.language,
                                   **(message.template_values or {})) or text
        return [Say(sentence, message.language) for sentence in sentences(text)]
    return []


def flow_keys(template_keys: set[str]) -> list[str]:
    """Every catalogue key a flow may say once one of its prompts is on the call (its questions,
    read-back and the engine's hints), so a question is never met with silence mid-call."""
    keys: list[str] = []
    for flow in current_app.extensions["flows"].values():
        if flow.id in INTERRUPTIBLE_FLOWS:
            continue  # a reminder's one-tap question is not asked on a call (the menu is)
        prompts = [key for step in flow.steps.values() for key in (step.prompt, step.confirm, step.change) if key]
        if template_keys & set(prompts):
            hints = [step.hint_key for step in flow.steps.values()]
            keys += prompts + hints + ["flow.not_understood", "voice.answer_record", "voice.answer_keypad"]
    return list(dict.fromkeys(keys))


def missing_recordings(session: Session, school_id: int, language: str, messages: list[Message]) -> list[str]:
    """What staff must record before this call can be made (empty when the provider has a voice)."""
    if get_channel().speaks(language):
        return []
    missing = [key for key in CALL_KEYS if recorded(session, school_id, key, language) is None]
    in_flows = flow_keys({message.template_key for message in messages if message.template_key})
    missing += [key for key in in_flows if recorded(session, school_id, key, language) is None]
    for message in messages:
        if recorded(session, school_id, own_recording_key(message), language) is not None:
            continue
        if not message.template_key:
            missing.append("this message itself (record it on the message in the inbox)")
        elif recorded(session, school_id, spoken_key(message.template_key), language) is None:
            missing.append(spoken_key(message.template_key))
    return list(dict.fromkeys(missing))


def no_voice_note(language: str, missing: list[str]) -> str:
    """What staff read when a call cannot be made: the language, what to do, what is missing."""
    return (f"No voice for {english_name(language)}: record the prompts or arrange an interpreter. "
            f"Missing recordings: {', '.join(missing)}.")
