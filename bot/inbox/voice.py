"""Staff pages for phone calls: recordings played through the app, and prompts recorded per language.

A parent's recording is fetched from the provider with the account's credentials and streamed
to the signed-in member of staff (never a provider link in the page); a simulated recording is
stored with the call. Languages no provider voice can speak need staff recordings of the call's
prompts: the prompts page lists what is missing and takes an audio file for each.
"""
from __future__ import annotations

import logging

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from sqlmodel import select

from bot.calls.placing import retry_unvoiced_calls
from bot.calls.staff_prompts import request_prompt_call
from bot.calls.prompts import RECORDABLE_KEYS, message_keys, own_recording_key, recorded
from bot.inbox import audit, bp, queries
from bot.inbox.auth import login_required
from bot.language.i18n import spoken_languages
from bot.inbox.wording import mask_phone
from bot.messaging.channel import ChannelError, get_channel
from bot.messaging.phones import InvalidPhoneNumber, normalise_phone
from storage.db import session_scope
from templates_i18n.catalog import default_catalogs
from storage.models import Guardian, Message, School, StaffUser, VoicePrompt, VoiceRecording

log = logging.getLogger(__name__)
MAX_PROMPT_BYTES = 5 * 1024 * 1024
AUDIO_TYPES = {"audio/wav", "audio/x-wav", "audio/wave", "audio/mpeg", "audio/mp3", "audio/ogg", "audio/webm"}
UPLOAD_PROMPT = "upload_voice_prompt"
RECORD_BY_PHONE = "record_prompt_by_phone"


@bp.get("/recordings/<int:recording_id>")
@login_required
def recording_audio(recording_id: int):
    """A parent's recording, played in the inbox (another school's: 404)."""
    with session_scope() as db:
        recording = queries.school_row(db, VoiceRecording, g.school.id, recording_id) or abort(404)
        audio, content_type, url = recording.audio, recording.content_type, recording.url
    if audio is None:
        if not url:
            abort(404)
        try:
            audio, content_type = get_channel().fetch_recording(url)
        except ChannelError as error:
            log.warning("recording %s could not be fetched: %s", recording_id, type(error).__name__)
            return Response("The recording could not be fetched from the phone provider just now. "
                            "Try again in a minute.\n", status=502, mimetype="text/plain")
    return Response(audio, mimetype=content_type or "audio/mpeg", headers={"Cache-Control": "private, no-store"})


def _audio_upload() -> tuple[bytes | None, str, str | None]:
    """The uploaded recording, its content type, and what is wrong with it (None when fine)."""
    upload = request.files.get("audio")
    if upload is None or not upload.filename:
        return None, "", "Choose an audio file to upload (WAV or MP3)."
    content_type = (upload.mimetype or "").lower()
    audio = upload.read(MAX_PROMPT_BYTES + 1)
    if content_type not in AUDIO_TYPES:
        return None, content_type, "That file is not audio the phone can play: upload a WAV or MP3 recording."
    if not audio or len(audio) > MAX_PROMPT_BYTES:
        return None, content_type, "The recording must be between 1 byte and 5 MB (about five minutes of MP3)."
    return audio, content_type, None


@bp.post("/messages/<int:message_id>/recording")
@login_required
def record_message(message_id: int):
    """Staff's recording of one message, for a family whose language no voice can speak; the call is tried again."""
    audio, content_type, problem = _audio_upload()
    with session_scope() as db:
        message = db.get(Message, message_id)
        if message is None or message.school_id != g.school.id or message.direction != "outbound":
            abort(404)
        conversation_id = message.conversation_id
        if problem is None:
            key, language = own_recording_key(message), message.language or g.school.staff_language
            found = recorded(db, g.school.id, key, language)
            if found is None:
                found = VoicePrompt(school_id=g.school.id, key=key, language=language, audio=audio)
                db.add(found)
            found.audio, found.content_type, found.recorded_by_id = audio, content_type, g.staff.id
            db.flush()
            audit.record(db, g.school.id, g.staff.id, UPLOAD_PROMPT, f"voice_prompt:{found.id}")
            retry_unvoiced_calls(db, g.school.id, language)
    flash(problem or "Recording saved: the family will be phoned with it.", "error" if problem else "message")
    return redirect(url_for("inbox.thread", conversation_id=conversation_id) + f"#m{message_id}")


@bp.post("/voice-prompts/call")
@login_required
def record_prompt_by_phone():
    """The school rings the member of staff, who records one prompt after the beep."""
    key, language = request.form.get("key", ""), request.form.get("language", "")
    if (key not in RECORDABLE_KEYS and key not in message_keys()) or language not in spoken_languages():
        flash("Choose one of the listed prompts and languages.", "error")
        return redirect(url_for("inbox.voice_prompts"))
    try:
        phone = normalise_phone(request.form.get("phone", ""), g.school.default_region)
    except InvalidPhoneNumber:
        flash("Type the phone number to ring, e.g. 07700 900123.", "error")
        return redirect(url_for("inbox.voice_prompts") + f"#lang-{language}")
    with session_scope() as db:
        call = request_prompt_call(db, db.get(School, g.school.id), db.get(StaffUser, g.staff.id), key, language,
                                   phone)
        audit.record(db, g.school.id, g.staff.id, RECORD_BY_PHONE, f"call:{call.id}")
    where = (" It rings in the parent simulator, under Your own phone."
             if get_channel().simulated else "")
    flash(f"The school is ringing {mask_phone(phone)} now: answer, listen, and speak after the beep.{where}")
    return redirect(url_for("inbox.voice_prompts") + f"#lang-{language}")


MAX_TRANSCRIPT_CHARS = 2000
TYPE_TRANSCRIPT = "type_recording_transcript"


@bp.post("/recordings/<int:recording_id>/transcript")
@login_required
def recording_transcript(recording_id: int):
    """Staff type what a parent said in a recording (kept beside it; the audio is never changed)."""
    text = request.form.get("transcript", "").replace("\r\n", "\n").strip()
    with session_scope() as db:
        recording = queries.school_row(db, VoiceRecording, g.school.id, recording_id) or abort(404)
        message = db.get(Message, recording.message_id) if recording.message_id else None
        if not text or len(text) > MAX_TRANSCRIPT_CHARS:
            flash(f"Type what was said: 1 to {MAX_TRANSCRIPT_CHARS} characters.", "error")
        else:
            recording.transcript = text
            audit.record(db, g.school.id, g.staff.id, TYPE_TRANSCRIPT, f"recording:{recording.id}")
        conversation_id = message.conversation_id if message else None
    if conversation_id is None:
        return redirect(url_for("inbox.conversations"))
    return redirect(url_for("inbox.thread", conversation_id=conversation_id) + f"#m{recording.message_id}")


class _Placeholders(dict):
    """Fills a message's {placeholders} with their names, for reading (a recording says them generally)."""

    def __missing__(self, name: str) -> str:
        return f"({name})"


def sample_text(key: str, language: str) -> str | None:
    """A catalogue message as staff read it before recording it: the school's name filled in, other values named."""
    raw = default_catalogs().messages(language).get(key)
    return raw.format_map(_Placeholders(school=g.school.name)) if raw is not None else None


def languages_needing_recordings(db) -> list[str]:
    """Languages the provider cannot speak: the school's families' first, then the rest of the catalogue."""
    channel = get_channel()
    families = db.exec(select(Guardian.preferred_language).where(Guardian.school_id == g.school.id,
                                                                 Guardian.preferred_language != None)  # noqa: E711
                       ).all()
    ordered = list(dict.fromkeys([*sorted(set(families)), *spoken_languages()]))
    return [language for language in ordered if language and not channel.speaks(language)]


@bp.get("/voice-prompts")
@login_required
def voice_prompts():
    """What staff have recorded, and what is missing, for each language no voice can speak."""
    with session_scope() as db:
        rows = []
        for language in languages_needing_recordings(db):
            items = []
            for key in (*RECORDABLE_KEYS, *message_keys()):
                found = recorded(db, g.school.id, key, language)
                items.append({"key": key, "english": sample_text(key, "en"), "text": sample_text(key, language),
                              "prompt_id": found.id if found else None})
            prompts, messages = items[:len(RECORDABLE_KEYS)], items[len(RECORDABLE_KEYS):]
            rows.append({"language": language, "items": prompts, "messages": messages,
                         "missing": sum(1 for item in prompts if item["prompt_id"] is None)})
    return render_template("inbox/voice_prompts.html", rows=rows, school=g.school)


@bp.get("/voice-prompts/<int:prompt_id>/audio")
@login_required
def voice_prompt_audio(prompt_id: int):
    """A recorded prompt, for staff to check it (another school's: 404)."""
    with session_scope() as db:
        found = queries.school_row(db, VoicePrompt, g.school.id, prompt_id) or abort(404)
        return Response(found.audio, mimetype=found.content_type, headers={"Cache-Control": "private, no-store"})


@bp.post("/voice-prompts")
@login_required
def upload_voice_prompt():
    """Store (or replace) staff's recording of one prompt in one language."""
    key, language = request.form.get("key", ""), request.form.get("language", "")
    audio, content_type, problem = _audio_upload()
    if (key not in RECORDABLE_KEYS and key not in message_keys()) or language not in spoken_languages():
        problem = "Choose one of the listed prompts and languages."
    if problem:
        flash(problem, "error")
        return redirect(url_for("inbox.voice_prompts"))
    with session_scope() as db:
        found = recorded(db, g.school.id, key, language)
        if found is None:
            found = VoicePrompt(school_id=g.school.id, key=key, language=language, audio=audio)
            db.add(found)
        found.audio, found.content_type, found.recorded_by_id = audio, content_type, g.staff.id
        db.flush()
        audit.record(db, g.school.id, g.staff.id, UPLOAD_PROMPT, f"voice_prompt:{found.id}")
        retry_unvoiced_calls(db, g.school.id, language)
    flash("Recording saved: calls in this language will play it.")
    return redirect(url_for("inbox.voice_prompts") + f"#lang-{language}")
