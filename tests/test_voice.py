"""Phone calls: the voice table, TwiML, placing and retrying calls, the menu, recordings, flows by phone.

Real PostgreSQL, Redis and an RQ worker; calls placed through Prism (Twilio's Calls contract);
every voice webhook posted signed as Twilio posts it; TwiML read as XML.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
import time_machine
from sqlmodel import select

from bot.calls.placing import _claim
from bot.messaging.delivery import deliver
from bot.channels.twilio.twiml import render
from bot.channels.twilio.voices import VOICES, voice_row
from bot.conversation.flow_runs import start_flow
from bot.language.i18n import spoken_languages
from bot.messaging.channel import OutboundCall, get_channel
from bot.messaging.outbound import queue_catalogue_message
from bot.messaging.voice import Gather, Hangup, Play, Say
from bot.sweep import run_sweep
from storage.db import session_scope
from storage.models import (Call, Conversation, FlowAnswer, FlowRun, Guardian, Message, School, VoicePrompt,
                            VoiceRecording)
from storage.queries import conversation_for
from tests.support.factories import make_guardian, make_school
from tests.support.services import AUTH_TOKEN, PUBLIC_BASE_URL, post_signed, run_jobs
from tests.support.inbox import text_of
from tests.support.voice import answer, call_form, call_sid, calls_of, follow, press, say, silence, status, twiml

ENUMS = json.loads((Path(__file__).resolve().parents[2] / "shared" / "twilio" / "twiml_voice_enums.json").read_text())
SCHOOL_NUMBER = "+447700900900"
PARENT = "+447700900901"
NO_VOICE = {"ur", "so", "ps", "fa", "ti", "ku", "sq"}


def at(moment: datetime):
    return time_machine.travel(moment, tick=False)


def voice_parent(db, language: str, name: str = "Test Parent", **school_fields):
    school = make_school(db, name="Riverside Primary", phone=SCHOOL_NUMBER, **school_fields)
    guardian = make_guardian(db, school, PARENT, name=name, language=language, channel="voice", child="Amira Test")
    db.commit()
    return school, guardian


def send_catalogue(app, school, guardian, key="review.reminder.info", **values):
    values = {"school": school.name, "child": "Amira", "date": "Tuesday 3 December, 14:00", "place": "Room 4",
              **values}
    with app.app_context(), session_scope() as session:
        guardian_row = session.get(Guardian, guardian.id)
        message = queue_catalogue_message(session, guardian_row, conversation_for(session, guardian_row),
                                          session.get(School, school.id), key, values)
    return message.id


# -- the voice table ------------------------------------------------------------------------------

def test_every_value_in_the_voice_table_is_one_twilio_accepts():
    for language, row in VOICES.items():
        if row.voice is not None:
            assert row.say_language in ENUMS["say_language"], language
            assert row.voice in ENUMS["say_voice"], language
            # The voice is made for the language it reads (never an English voice reading Bengali).
            assert row.voice.startswith("Polly.") or f".{row.say_language}-" in row.voice, language
        if row.speech_language is not None:
            assert row.speech_language in ENUMS["gather_language"], language
    assert voice_row("pa").say_language == "pa-IN" and voice_row("pa").speech_language == "pa-guru-IN"


def test_languages_twilio_cannot_speak_need_recordings_and_every_catalogue_language_has_a_row():
    assert {code for code, row in VOICES.items() if row.voice is None} >= NO_VOICE
    assert all(VOICES[code].voice is None and VOICES[code].say_language is None for code in NO_VOICE)
    assert set(spoken_languages()) <= set(VOICES)
    assert voice_row("pt-BR") == VOICES["pt"] and voice_row("xx").voice is None
    assert voice_row("ur-Latn") == VOICES["ur"]  # Roman Urdu is spoken as Urdu


def test_twiml_says_with_the_tables_voice_and_a_redirect_follows_every_gather():
    verbs = [Gather((Say("Dzień dobry. Tu szkoła.", "pl"), Play("https://x.example/a.wav")),
                    action="https://h/twilio/voice/step?c=1&s=flow&t=0",
                    on_silence="https://h/twilio/voice/step?c=1&s=flow&t=1", speech_language="pa"),
             Hangup()]
    root = twiml_root(render(verbs))
    assert [child.tag for child in root] == ["Gather", "Redirect", "Hangup"]
    gather = root.find("Gather")
    assert gather.get("input") == "dtmf speech" and gather.get("language") == "pa-guru-IN"
    say_element = gather.find("Say")
    assert (say_element.get("language"), say_element.get("voice")) == ("pl-PL", "Polly.Ewa")
    assert say_element.find("prosody").get("rate") == "90%"  # slowly
    assert root.find("Redirect").text.endswith("t=1")
    with pytest.raises(ValueError, match="no Twilio voice"):
        render([Say("Salaan", "so")])


def twiml_root(raw: str):
    import xml.etree.ElementTree as ET

    return ET.fromstring(raw)


# -- placing calls --------------------------------------------------------------------------------

def test_a_voice_first_parent_is_called_through_twilios_calls_api(twilio_app, db, prism):
    school, guardian = voice_parent(db, "pl")
    message_id = send_catalogue(twilio_app, school, guardian)
    run_jobs(twilio_app)
    [request] = [r for r in prism.requests if r.path.endswith("/Calls.json")]
    assert request.status == 201, request
    [call] = calls_of(db, guardian)
    assert request.form["To"] == [PARENT] and request.form["From"] == [SCHOOL_NUMBER]
    assert request.form["Url"] == [f"{PUBLIC_BASE_URL}/twilio/voice/answer?c={call.id}"]
    assert request.form["StatusCallback"] == [f"{PUBLIC_BASE_URL}/twilio/voice/status?c={call.id}"]
    assert request.form["MachineDetection"] == ["Enable"]
    assert call.provider_sid == request.sid and call.status == "queued" and call.attempts == 1
    message = db.get(Message, message_id)
    assert (message.channel, message.status, message.call_id) == ("voice", "calling", call.id)
    assert not [r for r in prism.requests if r.path.endswith("/Messages.json")]  # no text as well


def test_a_worker_killed_after_placing_a_call_places_no_second_one(twilio_app, db, prism):
    school, guardian = voice_parent(db, "pl")
    message_id = send_catalogue(twilio_app, school, guardian)
    with twilio_app.app_context():
        deliver(message_id)  # the message is put on a planned call; place_call is queued
        with session_scope() as session:
            [call] = session.exec(select(Call)).all()
            call_id = call.id
        with session_scope() as session:
            assert _claim(session, call_id)
        # The worker rings, then dies before storing the sid.
        result = get_channel().place_call(OutboundCall(to=PARENT, sender=SCHOOL_NUMBER,
                                                       answer_url=f"{PUBLIC_BASE_URL}/twilio/voice/answer?c={call_id}"))
    prism.requests.clear()
    run_jobs(twilio_app)  # the queued place_call job runs: the claimed call is not rung again
    later = datetime.now(timezone.utc).replace(microsecond=0)
    call = calls_of(db, guardian)[0]
    assert status(twilio_app, call_with_sid(call, result.provider_sid), "ringing").status_code == 200
    with at(later.replace(year=later.year + 1)):  # long after: the sweep finds nothing lost
        with twilio_app.app_context():
            assert run_sweep()["recovered_calls"] == 0
        run_jobs(twilio_app)
    [call] = calls_of(db, guardian)
    assert call.provider_sid == result.provider_sid and call.status == "ringing" and call.attempts == 1
    assert [r for r in prism.requests if r.path.endswith("/Calls.json")] == []


def call_with_sid(call: Call, sid: str) -> Call:
    call.provider_sid = sid
    return call


def test_busy_and_unanswered_calls_are_retried_three_times_then_staff_are_told(app, db):
    school, guardian = voice_parent(db, "pl")
    start = datetime(2026, 11, 10, 10, 0, tzinfo=timezone.utc)
    with at(start):
        message_id = send_catalogue(app, school, guardian)
        run_jobs(app)
    for attempt, outcome in enumerate(["busy", "no-answer", "no-answer", "busy"], 1):
        [call] = calls_of(db, guardian)
        assert call.attempts == attempt and call.status == "ringing"
        moment = start.replace(hour=10 + attempt)
        with at(moment):
            assert status(app, call, outcome).status_code == 200
            [call] = calls_of(db, guardian)
            if attempt <= 3:
                assert call.status == "planned" and call.next_attempt_at == moment.replace(minute=30)
                assert "Trying again" in call.status_note
        with at(moment.replace(minute=31)):
            with app.app_context():
                run_sweep()
            run_jobs(app)
    [call] = calls_of(db, guardian)
    assert call.status == "failed" and call.attempts == 4
    assert "phoned 4 times with no answer" in call.status_note
    message = db.get(Message, message_id)
    assert message.status == "failed" and "Nobody answered the phone" in message.error_message \
        or "The line was busy" in message.error_message


def test_quiet_hours_hold_a_call_until_morning(app, db):
    school, guardian = voice_parent(db, "pl", quiet_start_hour=20, quiet_end_hour=8)
    evening = datetime(2026, 11, 10, 21, 0, tzinfo=timezone.utc)  # 21:00 in London
    with at(evening):
        send_catalogue(app, school, guardian)
        run_jobs(app)
    assert calls_of(db, guardian) == []  # the message itself waits, as a text would
    with at(datetime(2026, 11, 11, 8, 1, tzinfo=timezone.utc)):
        with app.app_context():
            run_sweep()
        run_jobs(app)
    [call] = calls_of(db, guardian)
    assert call.status == "ringing" and call.attempts == 1


def test_a_retry_is_moved_out_of_quiet_hours(app, db):
    school, guardian = voice_parent(db, "pl", quiet_start_hour=20, quiet_end_hour=8)
    with at(datetime(2026, 11, 10, 19, 50, tzinfo=timezone.utc)):
        send_catalogue(app, school, guardian)
        run_jobs(app)
        [call] = calls_of(db, guardian)
        status(app, call, "no-answer")
    [call] = calls_of(db, guardian)
    assert call.status == "planned" and call.next_attempt_at == datetime(2026, 11, 11, 8, 0, tzinfo=timezone.utc)


# -- what the call says ---------------------------------------------------------------------------

def test_a_bengali_reminder_is_spoken_in_bengali_and_the_parent_leaves_a_message(app, db):
    school, guardian = voice_parent(db, "bn", name="Rahima Begum")
    message_id = send_catalogue(app, school, guardian, key="review.reminder")
    run_jobs(app)
    [call] = calls_of(db, guardian)
    spoken = answer(app, call)
    assert spoken.verbs() == ["Gather", "Redirect"]
    says = spoken.says()
    assert {(s.get("language"), s.get("voice")) for s in says} == {("bn-IN", "Google.bn-IN-Chirp3-HD-Aoede")}
    assert "মনে করিয়ে দিচ্ছি" in spoken.spoken() and "Amira" in spoken.spoken()
    assert "2 পাঠান" not in spoken.spoken()  # the text's "reply 2" is not read out: the call has its own menu
    assert "2 চাপুন" in spoken.spoken()  # ... "press 2 to leave a message"
    assert db.get(Message, message_id).status == "spoken"
    recording = press(app, call, spoken, "2")
    record = recording.record()
    assert record is not None and record.get("recordingStatusCallback").startswith(
        f"{PUBLIC_BASE_URL}/twilio/voice/recording?c={call.id}")
    assert record.get("finishOnKey") == "#" and "বিপ" in recording.spoken()
    recording_sid = "RE" + "b" * 32
    fields = dict(RecordingSid=recording_sid, RecordingUrl=f"https://api.twilio.com/2010-04-01/Accounts/AC{'a' * 32}"
                  f"/Recordings/{recording_sid}", RecordingDuration="7", RecordingStatus="completed")
    done = follow(app, call, record.get("action"), **fields)
    assert done.verbs()[-1] == "Hangup" and "ধন্যবাদ" in done.spoken()
    # Twilio's recording callback for the same recording stores nothing twice.
    callback = post_signed(app, record.get("recordingStatusCallback")[len(PUBLIC_BASE_URL):], call_form(call, **fields))
    assert callback.status_code == 200
    [left] = db.exec(select(Message).where(Message.direction == "inbound")).all()
    assert (left.channel, left.kind, left.call_id) == ("voice", "voice_message", call.id)
    [stored] = db.exec(select(VoiceRecording)).all()
    assert stored.message_id == left.id and stored.duration_seconds == 7 and stored.provider_sid == recording_sid


def test_a_voicemail_gets_a_short_message_and_the_call_is_tried_again(app, db):
    school, guardian = voice_parent(db, "pl")
    message_id = send_catalogue(app, school, guardian)
    run_jobs(app)
    [call] = calls_of(db, guardian)
    spoken = answer(app, call, answered_by="machine_end_beep")
    assert spoken.verbs() == ["Say", "Hangup"] and "zadzwonić do szkoły" not in spoken.spoken()
    assert "Prosimy o telefon do szkoły" in spoken.spoken()
    assert status(app, call, "completed", AnsweredBy="machine_end_beep", CallDuration="12").status_code == 200
    [call] = calls_of(db, guardian)
    assert call.status == "planned" and call.answered_by == "machine"
    message = db.get(Message, message_id)
    assert message.status == "calling" and "answering machine" in message.delivery_note  # the inbox shows it


def test_menu_repeats_takes_a_call_back_request_and_silence_never_hangs_up(app, db):
    school, guardian = voice_parent(db, "pl")
    send_catalogue(app, school, guardian)
    run_jobs(app)
    [call] = calls_of(db, guardian)
    first = answer(app, call)
    again = press(app, call, first, "1")
    assert "Amira" in again.spoken()  # heard again
    quiet = silence(app, call, again)
    assert quiet.gather() is not None and quiet.root.find("Redirect") is not None
    quiet = silence(app, call, silence(app, call, quiet))
    assert quiet.verbs()[-1] == "Hangup"  # asked twice more, then goodbye
    back = press(app, call, again, "3")
    assert back.verbs()[-1] == "Hangup" and "oddzwoni" in back.spoken()
    [note] = db.exec(select(Message).where(Message.direction == "inbound")).all()
    assert note.kind == "callback_request" and "call back" in note.body


def test_a_somali_parent_with_no_recordings_is_not_called_and_staff_are_told_why(app, db):
    school, guardian = voice_parent(db, "so")
    message_id = send_catalogue(app, school, guardian)
    run_jobs(app)
    [call] = calls_of(db, guardian)
    assert call.status == "cannot_call" and call.attempts == 0
    message = db.get(Message, message_id)
    assert message.status == "failed"
    assert message.error_message.startswith("No voice for Somali: record the prompts or arrange an interpreter.")
    assert "voice.menu" in message.error_message and "review.reminder.info" in message.error_message


def record_prompts(db, school, language: str, keys) -> None:
    for key in keys:
        db.add(VoicePrompt(school_id=school.id, key=key, language=language, audio=b"RIFF" + key.encode(),
                           content_type="audio/wav"))
    db.commit()


def test_a_somali_parent_with_recorded_prompts_hears_them_from_signed_urls(app, db):
    from bot.calls.prompts import CALL_KEYS

    school, guardian = voice_parent(db, "so")
    record_prompts(db, school, "so", list(CALL_KEYS) + ["review.reminder.info"])
    send_catalogue(app, school, guardian)
    run_jobs(app)
    [call] = calls_of(db, guardian)
    assert call.status == "ringing"
    spoken = answer(app, call)
    assert spoken.says() == []  # never a voice reading Somali
    plays = spoken.plays()
    assert len(plays) == 3 and all(url.startswith(f"{PUBLIC_BASE_URL}/voice-media/prompts/") for url in plays)
    client = app.test_client()
    audio = client.get(plays[0][len(PUBLIC_BASE_URL):])
    assert audio.status_code == 200 and audio.data == b"RIFFreview.reminder.info"
    tampered = plays[0][len(PUBLIC_BASE_URL):].replace("s=", "s=0")
    assert client.get(tampered).status_code == 403
    unsigned = plays[0][len(PUBLIC_BASE_URL):].split("?")[0]
    assert client.get(unsigned).status_code == 403


def test_voice_webhooks_refuse_a_bad_signature_and_bad_fields(app, db):
    school, guardian = voice_parent(db, "pl")
    send_catalogue(app, school, guardian)
    run_jobs(app)
    [call] = calls_of(db, guardian)
    form = call_form(call, AnsweredBy="human")
    assert post_signed(app, f"/twilio/voice/answer?c={call.id}", form, signature="bad").status_code == 403
    assert post_signed(app, f"/twilio/voice/answer?c={call.id}", {**form, "CallSid": "CA123"}).status_code == 400
    assert post_signed(app, f"/twilio/voice/step?c={call.id}&s=nowhere", form).status_code == 400
    [call] = calls_of(db, guardian)
    assert call.status == "ringing"  # nothing changed


# -- flows by phone -------------------------------------------------------------------------------

def start_pre_review(app, school, guardian):
    with app.app_context(), session_scope() as session:
        start_flow(session, session.get(Guardian, guardian.id), session.get(School, school.id), "pre_review",
                   {"child": "Amira", "school": school.name, "date": "3 December, 14:00"})
    run_jobs(app)
    [call] = calls_of(db_session(app), guardian)
    return call


def db_session(app):
    from sqlmodel import Session

    return Session(app.extensions["db_engine"], expire_on_commit=False)


def test_a_polish_parent_answers_a_free_text_question_by_speech(app, db):
    school, guardian = voice_parent(db, "pl")
    call = start_pre_review(app, school, guardian)
    first = answer(app, call)
    gather = first.gather()
    assert gather.get("input") == "dtmf speech" and gather.get("language") == "pl-PL"
    assert "Amira" in first.spoken()  # the intro, how-to and the first question, in one call
    after = say(app, call, first, "Amira dobrze sobie radzi w domu")
    [run] = db.exec(select(FlowRun)).all()
    [home] = db.exec(select(FlowAnswer).where(FlowAnswer.step_id == "home")).all()
    assert home.value == "Amira dobrze sobie radzi w domu" and home.status == "answered"
    spoken_answer = db.get(Message, home.message_id)
    assert (spoken_answer.channel, spoken_answer.call_id) == ("voice", call.id)
    assert after.gather() is not None and "radzi w domu" not in after.spoken()  # the next question, not an echo
    assert run.status == "active"
    # Nothing the flow said in the call was also sent as a text (or placed as another call).
    run_jobs(app)
    assert len(calls_of(db, guardian)) == 1
    assert not db.exec(select(Message).where(Message.direction == "outbound", Message.status == "outbox")).all()


def test_a_flow_is_completed_by_keypad_and_silence_and_the_review_page_would_show_it(app, db):
    school, guardian = voice_parent(db, "pl")
    call = start_pre_review(app, school, guardian)
    step = answer(app, call)
    for _ in range(6):  # six free-text questions: silence twice re-asks, the third skips
        step = silence(app, call, silence(app, call, silence(app, call, step)))
    # A choice question written for texting names the keypad on a call, in the parent's language.
    assert "Naciśnij na klawiaturze telefonu numer swojej odpowiedzi." in step.spoken()
    step = press(app, call, step, "1")  # coming: yes
    step = press(app, call, step, "2")  # by phone
    step = press(app, call, step, "2")  # no interpreter
    step = silence(app, call, silence(app, call, silence(app, call, step)))  # anything else: skipped
    assert "1" in step.spoken()  # the read-back, spoken
    step = press(app, call, step, "1")  # that is right
    assert step.verbs()[-1] == "Hangup"
    [run] = db.exec(select(FlowRun)).all()
    assert run.status == "completed"
    answers = {a.step_id: (a.value, a.status) for a in db.exec(select(FlowAnswer)).all()}
    assert answers["attending"] == ("yes", "answered") and answers["attend_how"] == ("phone", "answered")
    assert answers["interpreter"] == ("no", "answered") and answers["home"] == ("(no answer on the phone)", "skipped")


# -- calls to the school --------------------------------------------------------------------------

def incoming(app, sender: str, sid: str | None = None) -> tuple[str, object]:
    sid = sid or call_sid()
    form = {"CallSid": sid, "AccountSid": "AC" + "a" * 32, "From": sender, "To": SCHOOL_NUMBER,
            "Direction": "inbound", "CallStatus": "ringing"}
    return sid, twiml(post_signed(app, "/twilio/voice/incoming", form))


def test_a_known_caller_is_greeted_in_their_language_and_hears_the_latest_message(app, db):
    school, guardian = voice_parent(db, "pl")
    message_id = send_catalogue(app, school, guardian)
    run_jobs(app)
    [outbound_call] = calls_of(db, guardian)
    answer(app, outbound_call)  # spoken: now the latest message from the school
    sid, greeting = incoming(app, PARENT)
    assert "Dzień dobry. Tu szkoła Riverside Primary." in greeting.spoken()
    assert "naciśnij 4" not in greeting.spoken()  # no "press 4 for calls": they already prefer calls
    call = db.exec(select(Call).where(Call.provider_sid == sid)).one()
    assert (call.direction, call.guardian_id, call.status) == ("inbound", guardian.id, "in-progress")
    latest = press(app, call, greeting, "1")
    assert db.get(Message, message_id).translation.split(".")[0] in latest.spoken()


def test_an_unknown_caller_chooses_a_language_and_can_ask_for_calls(app, db):
    school, _ = voice_parent(db, "pl")
    stranger = "+447700900955"
    sid, menu = incoming(app, stranger)
    options = [(say.get("language"), "".join(say.itertext())) for say in menu.gather().iter("Say")]
    # The school's families' language first, then the others, each in its own language and voice.
    assert options[:2] == [("pl-PL", "Po polsku, naciśnij 1."), ("en-GB", "For English, press 2.")]
    assert not [text for _, text in options if "Banglar jonno" in text]  # a Bengali voice never reads Banglish
    assert len(options) == 9 and all(language for language, _ in options)
    spoken = menu.spoken()
    digit = re_digit(spoken, "Po polsku, naciśnij")
    call = db.exec(select(Call).where(Call.provider_sid == sid)).one()
    greeting = press(app, call, menu, digit)
    assert "Dzień dobry" in greeting.spoken()
    done = press(app, call, greeting, "4")
    assert done.verbs()[-1] == "Hangup" and "telefonicznie" in done.spoken()
    caller = db.exec(select(Guardian).where(Guardian.phone == stranger)).one()
    assert (caller.known, caller.preferred_language, caller.preferred_channel) == (False, "pl", "voice")


def re_digit(spoken: str, before: str) -> str:
    import re

    return re.search(re.escape(before) + r" (\d)", spoken)[1]


def test_pressing_9_stops_calls_and_messages(app, db):
    school, guardian = voice_parent(db, "pl")
    send_catalogue(app, school, guardian)
    run_jobs(app)
    [call] = calls_of(db, guardian)
    menu = answer(app, call)
    assert "naciśnij 9" in menu.spoken()
    stopped = press(app, call, menu, "9")
    assert stopped.verbs()[-1] == "Hangup" and "Nie będziesz już otrzymywać" in stopped.spoken()
    db.expire_all()
    assert db.get(Guardian, guardian.id).opted_out
    send_catalogue(app, school, guardian)
    run_jobs(app)
    assert len(calls_of(db, guardian)) == 1  # no second call to a parent who asked for none


# -- failover and recordings at the provider -----------------------------------------------------

def test_a_text_that_reached_no_handset_fails_over_to_a_call(twilio_app, db, prism):
    app = twilio_app
    school = make_school(db, name="Riverside Primary", phone=SCHOOL_NUMBER)
    guardian = make_guardian(db, school, PARENT, language="pl", channel="sms")
    db.commit()
    message_id = send_catalogue(app, school, guardian)
    run_jobs(app)
    text = db.get(Message, message_id)
    assert text.channel == "sms" and text.status == "queued"
    response = post_signed(app, f"/twilio/status?m={message_id}", {"MessageSid": text.provider_sid,
                                                                    "MessageStatus": "undelivered", "ErrorCode": "30003"})
    assert response.status_code == 200
    run_jobs(app)
    db.expire_all()
    [copy] = db.exec(select(Message).where(Message.failover_of_id == message_id)).all()
    [call] = calls_of(db, guardian)
    assert (copy.channel, copy.status, copy.call_id) == ("voice", "calling", call.id)
    assert call.status == "queued" and "phoning instead" in copy.error_message
    assert [r.path.rsplit("/", 1)[-1] for r in prism.requests] == ["Messages.json", "Calls.json"]


def test_the_inbox_plays_a_twilio_recording_fetched_with_the_accounts_credentials(make_app, db, world_twilio):
    app, server, recording_id, client = world_twilio
    page = client.get(f"/recordings/{recording_id}")
    assert page.status_code == 200 and page.data == b"ID3-fake-mp3" and page.mimetype == "audio/mpeg"
    typed = client.post(f"/recordings/{recording_id}/transcript", data={"transcript": "I cannot come on Tuesday."})
    assert typed.status_code == 302
    assert "What was said (typed): I cannot come on Tuesday." in text_of(client.get(typed.headers["Location"]).get_data(as_text=True))
    assert client.post(f"/recordings/{recording_id}/transcript", data={"transcript": " "}).status_code == 302
    db.expire_all()
    assert db.get(VoiceRecording, recording_id).transcript == "I cannot come on Tuesday."  # an empty one changes nothing
    [(path, authorization)] = server.seen
    assert path.endswith("/Recordings/RE" + "c" * 32 + ".mp3")
    import base64
    assert authorization == "Basic " + base64.b64encode(f"AC{'a' * 32}:{AUTH_TOKEN}".encode()).decode()


@pytest.fixture
def world_twilio(make_app, db):
    """A Twilio-channel app whose API base is a small local server holding one recording."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from tests.support.inbox import build_world, login
    from tests.support.services import ACCOUNT_SID, reset_state

    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append((self.path, self.headers.get("Authorization")))
            self.send_response(200)
            self.send_header("Content-Type", "audio/mpeg")
            self.send_header("Content-Length", "12")
            self.end_headers()
            self.wfile.write(b"ID3-fake-mp3")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.seen = seen
    threading.Thread(target=server.serve_forever, daemon=True).start()
    app = make_app(CHANNEL="twilio", TWILIO_ACCOUNT_SID=ACCOUNT_SID,
                   TWILIO_API_BASE_URL=f"http://127.0.0.1:{server.server_address[1]}")
    reset_state(app)
    world = build_world(db)
    conversation = db.exec(select(Conversation).where(Conversation.guardian_id == world.parent.id)).one()
    call = Call(school_id=world.school.id, guardian_id=world.parent.id, status="completed", provider_sid=call_sid())
    db.add(call)
    db.flush()
    message = Message(school_id=world.school.id, conversation_id=conversation.id, guardian_id=world.parent.id,
                      direction="inbound", channel="voice", kind="voice_message", body="Voice message",
                      status="processed", call_id=call.id)
    db.add(message)
    db.flush()
    recording = VoiceRecording(school_id=world.school.id, call_id=call.id, message_id=message.id,
                               provider_sid="RE" + "c" * 32,
                               url=f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/RE{'c' * 32}")
    db.add(recording)
    db.commit()
    client = app.test_client()
    assert login(client, world.staff.email).status_code == 302
    thread = client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    assert f'src="/recordings/{recording.id}"' in thread and "api.twilio.com" not in thread
    yield app, server, recording.id, client
    server.shutdown()
    server.server_close()


def test_questions_by_phone_in_a_language_with_no_voice_wait_for_every_question_recorded(app, db):
    school, guardian = voice_parent(db, "so")
    call = start_pre_review(app, school, guardian)
    assert call.status == "cannot_call"
    message = db.exec(select(Message).where(Message.call_id == call.id).order_by(Message.id)).first()
    for key in ("pre_review.intro", "pre_review.going_well.ask", "pre_review.readback.summary",
                "flow.hint.choice", "voice.answer_record"):
        assert key in message.error_message  # not only the first question: every one the call may ask


def test_a_family_on_the_phone_is_not_rung_again_until_the_call_ends(app, db):
    school, guardian = voice_parent(db, "pl")
    start = datetime(2026, 11, 10, 10, 0, tzinfo=timezone.utc)
    with at(start):
        send_catalogue(app, school, guardian)
        run_jobs(app)
        [first] = calls_of(db, guardian)
        answer(app, first)  # on the phone now
        send_catalogue(app, school, guardian, key="review.cancelled")
        run_jobs(app)
    first, second = calls_of(db, guardian)
    assert second.status == "planned" and second.next_attempt_at == start.replace(minute=2)
    with at(start.replace(minute=1)):
        status(app, first, "completed", CallDuration="60")
    with at(start.replace(minute=3)):
        with app.app_context():
            run_sweep()
        run_jobs(app)
    first, second = calls_of(db, guardian)
    assert first.status == "completed" and second.status == "ringing"


def test_the_reminders_one_tap_question_is_closed_once_the_call_offers_its_menu(app, db):
    school, guardian = voice_parent(db, "pl")
    with app.app_context(), session_scope() as session:
        start_flow(session, session.get(Guardian, guardian.id), session.get(School, school.id), "review_reminder",
                   {"child": "Amira", "school": school.name, "date": "3 December, 14:00", "place": "Room 4"})
    run_jobs(app)
    [call] = calls_of(db, guardian)
    menu = answer(app, call)
    assert "naciśnij 2" in menu.spoken()  # the call's menu, not the text's one-tap question
    [run] = db.exec(select(FlowRun)).all()
    db.refresh(run)
    assert run.status == "cancelled"  # no text chaser will turn into another call
