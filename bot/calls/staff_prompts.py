"""Recording a prompt by phone: the school rings a member of staff, who speaks it after the beep.

For a language no provider voice can speak, staff (or an interpreter beside them) can record a
prompt by phone instead of uploading a file. The call says, in the staff language, which message
to record; the recording is fetched from the provider (through the channel, with the account's
credentials) by the `save_prompt_recording` job and stored as the school's prompt, and calls that
were waiting for it are planned again.
"""
from __future__ import annotations

from sqlmodel import Session, select

from bot.calls.placing import retry_unvoiced_calls
from bot.calls.prompts import recorded, voice_url
from bot.language.i18n import english_name
from bot.messaging.channel import ChannelError, get_channel
from bot.messaging.voice import Hangup, Record, Say, VoiceEvent
from bot.tasks import defer
from storage.db import session_scope
from storage.models import Call, School, StaffUser, VoicePrompt, VoiceRecording, utcnow
from templates_i18n.catalog import default_catalogs

PROMPT = "prompt"


class _Placeholders(dict):
    def __missing__(self, name: str) -> str:
        return f"({name})"


def request_prompt_call(session: Session, school: School, staff: StaffUser, key: str, language: str,
                        phone: str) -> Call:
    """Plan a call to a member of staff to record `key` in `language`; placed once committed."""
    call = Call(school_id=school.id, staff_user_id=staff.id, phone=phone, purpose=PROMPT, prompt_key=key,
                language=language, next_attempt_at=utcnow(), simulated=get_channel().simulated)
    session.add(call)
    session.flush()
    defer(session, "place_call", call.id)
    return call


def _staff_language(school: School) -> str:
    return school.staff_language if get_channel().speaks(school.staff_language) else "en"


def instructions(session: Session, call: Call) -> list:
    """What the member of staff hears: which message to record, in which language, then the beep."""
    school = session.get(School, call.school_id)
    language = _staff_language(school)
    raw = default_catalogs().messages(language).get(call.prompt_key) or default_catalogs().messages("en")[call.prompt_key]
    text = raw.format_map(_Placeholders(school=school.name))
    line = (f"This is the school's messaging system. Please record the {english_name(call.language)} "
            f"version of this message: {text} Speak after the beep, then press the hash key.")
    return [Record((Say(line, language),), action=voice_url("/twilio/voice/step", c=call.id, s="promptrec"),
                   callback=voice_url("/twilio/voice/recording", c=call.id, s=PROMPT), max_seconds=300)]


def store_recording(session: Session, call: Call, event: VoiceEvent) -> VoiceRecording | None:
    """The staff recording, once per recording sid; the job fetches its audio."""
    if not event.recording_sid:
        return None
    existing = session.exec(select(VoiceRecording).where(VoiceRecording.provider_sid == event.recording_sid)).first()
    if existing is not None:
        existing.url = event.recording_url or existing.url
        return existing
    recording = VoiceRecording(school_id=call.school_id, call_id=call.id, provider_sid=event.recording_sid,
                               url=event.recording_url, duration_seconds=event.recording_seconds)
    session.add(recording)
    session.flush()
    defer(session, "save_prompt_recording", recording.id)
    return recording


def recorded_verbs(session: Session, call: Call, event: VoiceEvent) -> list:
    """After the beep: stored, thanked, goodbye."""
    store_recording(session, call, event)
    school = session.get(School, call.school_id)
    return [Say("Thank you. The recording is saved and will be played on calls in "
                f"{english_name(call.language)}. Goodbye.", _staff_language(school)), Hangup()]


class AudioNotReady(Exception):
    """The recording's audio is not there yet (RQ tries the job again)."""


def save_prompt_recording(recording_id: int) -> int | None:
    """Copy a staff recording into the school's prompts (the id of the prompt), and re-plan waiting calls."""
    with session_scope() as session:
        recording = session.get(VoiceRecording, recording_id)
        call = session.get(Call, recording.call_id) if recording else None
        if call is None or call.purpose != PROMPT:
            return None
        audio, content_type, url = recording.audio, recording.content_type, recording.url
    if audio is None:
        if not url:
            raise AudioNotReady(f"recording {recording_id} has no audio yet")
        try:
            audio, content_type = get_channel().fetch_recording(url)
        except ChannelError as error:
            if error.permanent:
                raise AudioNotReady(f"recording {recording_id}: {error}") from error
            raise
    with session_scope() as session:
        found = recorded(session, call.school_id, call.prompt_key, call.language)
        if found is None:
            found = VoicePrompt(school_id=call.school_id, key=call.prompt_key, language=call.language, audio=audio)
            session.add(found)
        found.audio, found.content_type, found.recorded_by_id = audio, content_type or "audio/mpeg", call.staff_user_id
        session.flush()
        retry_unvoiced_calls(session, call.school_id, call.language)
        return found.id
