"""The parent simulator's phone-call mode: staff answer the school's call as a parent, or ring the school.

Nothing here is a shortcut: every step is Twilio's form, signed with the app's token and posted
to our own voice webhooks (/twilio/voice/...), and the page shows the TwiML those webhooks
answered: what would be said, in which language and voice, with an offline preview voice
(espeak-ng, labelled "preview voice, not Twilio's") where one exists. Staff press keys, type what
the parent says (standing in for speech recognition) or "record" by typing or uploading audio.
Registered only when CHANNEL is "simulator"; staff can play only their own school's families.
"""
from __future__ import annotations

import io
import math
import uuid
import wave
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from sqlmodel import select

from bot.channels.speech_preview import PreviewUnavailable, preview_voice, render_wav
from bot.channels.twilio.signature import sign
from bot.channels.twilio.voices import VOICES
from bot.inbox import audit, queries
from bot.inbox.auth import login_required
from bot.inbox.safety import parse_id, refuse_nul
from bot.inbox.simulator import _account_sid
from bot.language.i18n import english_name
from storage.db import session_scope
from bot.messaging.outbound import queue_catalogue_message
from bot.reviews.schedule import review_values
from storage.models import Call, Guardian, GuardianChild, Review, School, VoiceRecording, utcnow
from storage.queries import conversation_for, school_sender

bp = Blueprint("simulator_calls", __name__, url_prefix="/simulator/calls")
bp.before_request(refuse_nul)

VOICE_PATH = "/twilio/voice/"
MAX_SPEECH_CHARS = 500
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
SIMULATE_CALL = "simulate_call"
RINGING = ("queued", "ringing", "dialing")
STAFF = "staff"  # the page for staff's own calls (recording prompts by phone)


@dataclass
class Line:
    """One thing the call says: its text (or audio), the language and voice Twilio would use."""

    kind: str  # say | play
    text: str = ""
    language: str = ""
    say_language: str = ""
    voice: str = ""
    audio_url: str = ""
    preview: bool = False


@dataclass
class CallScreen:
    """A TwiML answer, as the simulator shows it."""

    lines: list[Line] = field(default_factory=list)
    gather_action: str = ""
    gather_speech: str = ""  # the speech-recognition tag when speech is accepted
    silence_url: str = ""
    record_action: str = ""
    record_callback: str = ""
    ended: bool = False


def _base() -> str:
    return (current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")


def _our_path(url: str) -> str:
    """A URL the TwiML gave, as our own path; 400 for anything that is not one of our voice webhooks."""
    base = _base()
    path = url[len(base):] if url.startswith(base) else url
    if not path.startswith(VOICE_PATH):
        abort(400)
    return path


def post_voice(path: str, params: dict[str, str]):
    """Sign the form as Twilio would and post it to our own voice webhook."""
    base = _base()
    signature = sign(base + path, params, current_app.config["TWILIO_AUTH_TOKEN"])
    return current_app.test_client().post(path, data=params, base_url=base, headers={"X-Twilio-Signature": signature})


def _language_of(say_language: str) -> str:
    """Our language code for a <Say> language tag ("bn-IN" → "bn")."""
    for code, row in VOICES.items():
        if row.say_language == say_language:
            return code
    return ""


def screen_of(twiml: str) -> CallScreen:
    """What a TwiML answer would say and wait for."""
    screen = CallScreen()
    root = ET.fromstring(twiml)

    def prompts(parent) -> None:
        for element in parent:
            if element.tag == "Say":
                code = _language_of(element.get("language", ""))
                screen.lines.append(Line("say", "".join(element.itertext()), code, element.get("language", ""),
                                         element.get("voice", ""), preview=preview_voice(code) is not None))
            elif element.tag == "Play":
                screen.lines.append(Line("play", audio_url=(element.text or "").strip()))

    for element in root:
        if element.tag in ("Say", "Play"):
            prompts([element])
        elif element.tag == "Gather":
            prompts(element)
            screen.gather_action = element.get("action", "")
            if "speech" in element.get("input", ""):
                screen.gather_speech = element.get("language", "")
        elif element.tag == "Redirect":
            screen.silence_url = (element.text or "").strip()
        elif element.tag == "Record":
            screen.record_action = element.get("action", "")
            screen.record_callback = element.get("recordingStatusCallback", "")
        elif element.tag == "Hangup":
            screen.ended = True
    if not (screen.gather_action or screen.record_action or screen.silence_url):
        screen.ended = True
    return screen


def _guardian(db, guardian_id: int) -> Guardian:
    guardian = queries.get_guardian(db, g.school.id, guardian_id)
    if guardian is None:
        abort(404)
    return guardian


def _call(db, call_id: int) -> Call:
    return queries.school_row(db, Call, g.school.id, call_id) or abort(404)


def _form(call_sid: str, party: str, school_number: str, direction: str, **fields) -> dict[str, str]:
    """The fields Twilio posts with every voice webhook (our call: school → them; theirs: them → school)."""
    caller, callee = (school_number, party) if direction == "outbound-api" else (party, school_number)
    form = {"CallSid": call_sid, "AccountSid": _account_sid(), "From": caller, "To": callee, "Direction": direction,
            "CallStatus": "in-progress", "ApiVersion": "2010-04-01"}
    form.update(fields)
    return form


def _page(guardian_id: int | None, screen: CallScreen | None = None, call: Call | None = None,
          problem: str | None = None):
    """The call page for a family, or (guardian_id None) for staff recording prompts by phone."""
    with session_scope() as db:
        guardian = _guardian(db, guardian_id) if guardian_id is not None else None
        mine = (Call.guardian_id == guardian.id) if guardian else ((Call.school_id == g.school.id)
                                                                  & (Call.purpose == "prompt"))
        calls = db.exec(select(Call).where(mine).order_by(Call.id.desc()).limit(10)).all()
        guardians = queries.school_guardians(db, g.school.id)
    ringing = next((c for c in calls if c.direction == "outbound" and c.status in RINGING), None)
    if problem:
        flash(problem, "error")
    return render_template("simulator/call.html", guardian=guardian, guardians=guardians, calls=calls,
                           ringing=ringing, screen=screen, call=call, language_name=english_name,
                           direction=("outbound-api" if call is None or call.direction == "outbound" else "inbound"))


@bp.get("/")
@login_required
def index():
    """The parent's phone in call mode: a call ringing from the school, or ring the school."""
    if request.args.get("guardian") == STAFF:
        return _page(None)
    guardian_id = parse_id(request.args.get("guardian"))
    if guardian_id is None:
        return redirect(url_for("simulator.index"))
    return _page(guardian_id)


def _answered(response, guardian_id: int, call_id: int | None):
    if not 200 <= response.status_code < 300:
        return _page(guardian_id, problem=f"The voice webhook refused the step ({response.status_code}): "
                                          f"{response.get_data(as_text=True).strip()[:300]}")
    screen = screen_of(response.get_data(as_text=True))
    with session_scope() as db:
        call = db.get(Call, call_id) if call_id else None
    return _page(guardian_id, screen, call)


@bp.post("/<int:call_id>/answer")
@login_required
def answer(call_id: int):
    """Pick up the school's call as the parent (or let the voicemail take it)."""
    machine = request.form.get("by") == "machine"
    with session_scope() as db:
        call = _call(db, call_id)
        party = _party(db, call)
        number = school_sender(db, g.school.id, "sms")
        audit.record(db, g.school.id, g.staff.id, SIMULATE_CALL, f"call:{call.id}")
    form = _form(call.provider_sid, party, number, "outbound-api",
                 AnsweredBy="machine_end_beep" if machine else "human")
    response = post_voice(f"/twilio/voice/answer?c={call.id}", form)
    if machine:
        post_voice(f"/twilio/voice/status?c={call.id}", {**form, "CallStatus": "completed", "CallDuration": "15"})
    return _answered(response, call.guardian_id, call.id)


def _party(db, call: Call) -> str:
    """The number at the other end: the family's, or the member of staff's."""
    if call.guardian_id is None:
        return call.phone or ""
    return db.get(Guardian, call.guardian_id).phone


@bp.post("/<int:call_id>/miss")
@login_required
def miss(call_id: int):
    """Let the school's call ring out, or be busy: Twilio's status callback says so."""
    outcome = request.form.get("outcome")
    if outcome not in ("busy", "no-answer"):
        abort(400)
    with session_scope() as db:
        call = _call(db, call_id)
        party = _party(db, call)
        number = school_sender(db, g.school.id, "sms")
    post_voice(f"/twilio/voice/status?c={call.id}", _form(call.provider_sid, party, number, "outbound-api",
                                                           CallStatus=outcome, CallDuration="0"))
    flash("Missed call: the school will try again later (see the inbox)." if call.guardian_id else "Missed call.")
    return redirect(url_for(".index", guardian=call.guardian_id or STAFF))


@bp.post("/ring-school")
@login_required
def ring_school():
    """The parent rings the school's number."""
    guardian_id = parse_id(request.form.get("guardian"))
    if guardian_id is None:
        abort(404)
    with session_scope() as db:
        guardian = _guardian(db, guardian_id)
        number = school_sender(db, g.school.id, "sms")
        audit.record(db, g.school.id, g.staff.id, SIMULATE_CALL, f"guardian:{guardian.id}")
    if number is None:
        return _page(guardian_id, problem="The school has no phone number set up.")
    sid = "CA" + uuid.uuid4().hex
    response = post_voice("/twilio/voice/incoming", _form(sid, guardian.phone, number, "inbound", CallStatus="ringing"))
    with session_scope() as db:
        call = db.exec(select(Call).where(Call.provider_sid == sid)).first()
    return _answered(response, guardian_id, call.id if call else None)


@bp.post("/<int:call_id>/step")
@login_required
def step(call_id: int):
    """The parent presses keys, speaks, records, or stays silent, at the step the call is on."""
    kind = request.form.get("kind", "")
    with session_scope() as db:
        call = _call(db, call_id)
        party = _party(db, call)
        guardian = db.get(Guardian, call.guardian_id) if call.guardian_id else None
        number = school_sender(db, g.school.id, "sms")
    direction = "outbound-api" if call.direction == "outbound" else "inbound"
    form = _form(call.provider_sid, party, number, direction)
    url = _our_path(request.form.get("url", ""))
    if kind == "keys":
        digits = request.form.get("digits", "").strip()
        if not digits or not all(c in "0123456789*#" for c in digits) or len(digits) > 5:
            return _page(call.guardian_id, problem="Press one of the keypad keys.")
        form["Digits"] = digits
    elif kind == "speech":
        speech = request.form.get("speech", "").strip()
        if not speech or len(speech) > MAX_SPEECH_CHARS:
            return _page(call.guardian_id, problem=f"Type what the parent says (1 to {MAX_SPEECH_CHARS} characters).")
        form.update(SpeechResult=speech, Confidence="0.9")
    elif kind == "record":
        return _record(call, guardian, form, url)
    elif kind != "silence":
        abort(400)
    return _answered(post_voice(url, form), call.guardian_id, call.id)


def _record(call: Call, guardian: Guardian | None, form: dict, url: str):
    """A simulated recording: typed (rendered by the preview voice if there is one) or uploaded audio."""
    typed = request.form.get("said", "").strip()[:MAX_SPEECH_CHARS]
    upload = request.files.get("audio")
    audio, content_type = None, None
    if upload is not None and upload.filename:
        audio, content_type = upload.read(MAX_UPLOAD_BYTES + 1), (upload.mimetype or "audio/wav")
        if len(audio) > MAX_UPLOAD_BYTES or not content_type.startswith("audio/"):
            return _page(call.guardian_id, problem="Upload an audio file of at most 5 MB, or type what is said.")
    elif typed:
        language = call.language or (guardian.preferred_language if guardian else None) or "en"
        try:
            audio = render_wav(typed, language)
        except PreviewUnavailable:
            # No offline voice for the language: a short tone stands in for the speaker, never another
            # language's voice reading these words; the typed words are kept as the transcript.
            audio = placeholder_wav()
        content_type = "audio/wav"
    else:
        return _page(call.guardian_id, problem="Type what is said after the beep, or upload a recording.")
    sid = "RE" + uuid.uuid4().hex
    callback = _our_path(request.form.get("callback", "")) if request.form.get("callback") else None
    fields = {"RecordingSid": sid, "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{form['AccountSid']}"
              f"/Recordings/{sid}", "RecordingDuration": str(max(1, len(typed) // 12)), "RecordingStatus": "completed"}
    response = post_voice(url, {**form, **fields})
    if callback:
        post_voice(callback, {**form, **fields})
    with session_scope() as db:
        stored = db.exec(select(VoiceRecording).where(VoiceRecording.provider_sid == sid)).first()
        if stored is not None:  # a simulated recording lives with the call, not at a provider
            stored.audio, stored.content_type, stored.transcript, stored.url = audio, content_type, typed or None, None
    return _answered(response, call.guardian_id, call.id)


@bp.post("/start")
@login_required
def start():
    """Staff phone a voice-first demo parent now, with the reminder of their child's next review."""
    guardian_id = parse_id(request.form.get("guardian"))
    if guardian_id is None:
        abort(404)
    with session_scope() as db:
        guardian = _guardian(db, guardian_id)
        if guardian.preferred_channel != "voice":
            flash(f"{guardian.name or 'This family'} prefers {guardian.preferred_channel.upper()}: the reminder would go "
                  "as a text. Choose a family who prefers phone calls.", "error")
            return redirect(url_for(".index", guardian=guardian_id))
        review = next_review(db, guardian)
        if review is None:
            flash("This family's child has no review coming up: schedule one on the Reviews page first.", "error")
            return redirect(url_for(".index", guardian=guardian_id))
        school = db.get(School, g.school.id)
        queue_catalogue_message(db, guardian, conversation_for(db, guardian), school, "review.reminder",
                                review_values(db, review, school, guardian), urgent=True)
        audit.record(db, g.school.id, g.staff.id, SIMULATE_CALL, f"guardian:{guardian.id}")
    flash("The worker is placing the call with the review reminder: it rings here in a moment (reload the page).")
    return redirect(url_for(".index", guardian=guardian_id))


def next_review(db, guardian: Guardian) -> Review | None:
    """The soonest scheduled review of one of the guardian's children."""
    return db.exec(select(Review).join(GuardianChild, GuardianChild.child_id == Review.child_id)
                   .where(GuardianChild.guardian_id == guardian.id, Review.status == "scheduled",
                          Review.starts_at > utcnow()).order_by(Review.starts_at)).first()


def placeholder_wav(seconds: float = 1.0, rate: int = 8000) -> bytes:
    """A quiet 440 Hz tone: the sound of a simulated recording in a language with no preview voice."""
    frames = bytearray()
    for n in range(int(seconds * rate)):
        frames += int(3000 * math.sin(2 * math.pi * 440 * n / rate)).to_bytes(2, "little", signed=True)
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(bytes(frames))
    return out.getvalue()


@bp.post("/<int:call_id>/hang-up")
@login_required
def hang_up(call_id: int):
    """The parent hangs up: Twilio reports the call completed."""
    with session_scope() as db:
        call = _call(db, call_id)
        party = _party(db, call)
        number = school_sender(db, g.school.id, "sms")
    if call.direction == "outbound":
        post_voice(f"/twilio/voice/status?c={call.id}", _form(call.provider_sid, party, number, "outbound-api",
                                                               CallStatus="completed", CallDuration="60"))
    return redirect(url_for(".index", guardian=call.guardian_id or STAFF))


@bp.get("/preview")
@login_required
def preview():
    """A line of the call read by the offline preview voice (not Twilio's)."""
    language, text = request.args.get("lang", ""), request.args.get("text", "")
    if not text or len(text) > 2000:
        abort(400)
    try:
        audio = render_wav(text, language)
    except PreviewUnavailable as error:
        return Response(f"No preview: {error}.\n", status=404, mimetype="text/plain")
    return Response(audio, mimetype="audio/wav", headers={"Cache-Control": "private, max-age=600"})
