"""Twilio's voice webhooks: every step of a call answered with TwiML, in the request.

Signed like every Twilio webhook (a bad or missing signature gets 403). Our call id (`c`), the
step (`s`) and its tries (`t`) ride in the URL; Twilio's fields are read here into the domain's
VoiceEvent, the domain (bot/calls/) answers with voice verbs, and bot/channels/twilio/twiml.py
renders them. Recorded prompts are served from a second blueprint under a URL signed with our
secret (Twilio fetches <Play> audio without signing the request).
"""
from __future__ import annotations

import logging
import re

from flask import Blueprint, Response, abort, request

from bot.calls import inbound, ivr
from bot.calls.prompts import prompt_url_is_valid
from bot.calls.status import apply_call_status
from bot.channels.twilio.webhooks import check_signature, plain
from bot.channels.twilio.twiml import render
from bot.messaging.voice import VoiceEvent
from storage.db import session_scope
from storage.models import VoicePrompt

log = logging.getLogger(__name__)
bp = Blueprint("voice", __name__, url_prefix="/twilio/voice")
media = Blueprint("voice_media", __name__, url_prefix="/voice-media")

CALL_SID = re.compile(r"CA[0-9a-fA-F]{32}")
RECORDING_SID = re.compile(r"RE[0-9a-fA-F]{32}")
STEPS = {"menu", "imenu", "recorded", "flow", "flowrec", "lang", "promptrec"}
MAX_ID = 2**31 - 1


class BadVoiceWebhook(ValueError):
    """Missing or malformed fields (answered 400)."""


def _int(raw: str | None, field: str, maximum: int = MAX_ID) -> int | None:
    if raw in (None, ""):
        return None
    if not re.fullmatch(r"[0-9]{1,10}", raw) or int(raw) > maximum:
        raise BadVoiceWebhook(f"{field} must be a whole number")
    return int(raw)


def parse_voice_form(form, args) -> tuple[int | None, VoiceEvent]:
    """Our call id (from the URL) and Twilio's fields as a VoiceEvent; BadVoiceWebhook if malformed."""
    sid = form.get("CallSid", "")
    if not CALL_SID.fullmatch(sid):
        raise BadVoiceWebhook("CallSid is missing or malformed")
    recording = form.get("RecordingSid") or None
    if recording is not None and not RECORDING_SID.fullmatch(recording):
        raise BadVoiceWebhook("RecordingSid is malformed")
    confidence = form.get("Confidence")
    try:
        confidence = float(confidence) if confidence else None
    except ValueError:
        raise BadVoiceWebhook("Confidence must be a number") from None
    digits = form.get("Digits") or None
    if digits is not None and not re.fullmatch(r"[0-9*#]{1,20}", digits):
        raise BadVoiceWebhook("Digits must be keypad keys")
    event = VoiceEvent(
        call_sid=sid, status=form.get("CallStatus") or None, answered_by=form.get("AnsweredBy") or None,
        duration_seconds=_int(form.get("CallDuration"), "CallDuration", 86400),
        digits=digits, speech=(form.get("SpeechResult") or "").replace("\x00", "")[:1600] or None,
        confidence=confidence, sender=form.get("From") or None, recipient=form.get("To") or None,
        recording_sid=recording, recording_url=form.get("RecordingUrl") or None,
        recording_seconds=_int(form.get("RecordingDuration"), "RecordingDuration", 86400))
    return _int(args.get("c"), "c"), event


def _twiml(verbs: list) -> Response:
    return Response(render(verbs), mimetype="text/xml")


bp.before_request(check_signature)  # voice webhooks are signed like every Twilio webhook


@bp.errorhandler(BadVoiceWebhook)
def bad_webhook(error):
    """Malformed fields: 400 with the reason, nothing changed."""
    log.warning("rejected voice webhook: %s", error)
    return plain(400, f"Bad request: {error}.")


@bp.post("/answer")
def answer():
    """Our call was answered (by a person or a machine): what to say first."""
    call_id, event = parse_voice_form(request.form, request.args)
    return _twiml(ivr.answered(call_id, event))


@bp.post("/step")
def step():
    """A key, speech, a recording or silence at one step of a call."""
    call_id, event = parse_voice_form(request.form, request.args)
    name = request.args.get("s", "")
    if name not in STEPS:
        raise BadVoiceWebhook("unknown step")
    tries = _int(request.args.get("t"), "t", 100) or 0
    if name == "lang":
        return _twiml(inbound.choose_language(call_id, tries, event))
    return _twiml(ivr.next_step(call_id, name, tries, event))


@bp.post("/incoming")
def incoming():
    """Someone rang a school number."""
    _, event = parse_voice_form(request.form, request.args)
    return _twiml(inbound.incoming(event))


@bp.post("/status")
def status():
    """Twilio reporting a call's progress (any order)."""
    call_id, event = parse_voice_form(request.form, request.args)
    with session_scope() as session:
        if apply_call_status(session, call_id, event) is None:
            return plain(200, "Unknown call; ignored.")
    return plain(200, "OK")


@bp.post("/recording")
def recording():
    """A recording is ready at Twilio: stored once, as an inbound message staff can play."""
    call_id, event = parse_voice_form(request.form, request.args)
    if event.recording_sid is None:
        raise BadVoiceWebhook("RecordingSid is required")
    if not ivr.recording_ready(call_id, request.args.get("s"), event):
        return plain(200, "Unknown call; ignored.")
    return plain(200, "OK")


@media.get("/prompts/<int:prompt_id>")
def prompt_audio(prompt_id: int):
    """A staff recording, for Twilio's <Play>: only with our unexpired signature."""
    if not prompt_url_is_valid(prompt_id, request.args.get("e", ""), request.args.get("s", "")):
        abort(403)
    with session_scope() as session:
        found = session.get(VoicePrompt, prompt_id)
        if found is None:
            abort(404)
        return Response(found.audio, mimetype=found.content_type,
                        headers={"Cache-Control": "private, max-age=300"})
