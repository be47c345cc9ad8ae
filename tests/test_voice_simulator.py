"""The simulator's phone-call mode, the staff pages for recordings, and the "Done when" path of issue 10:
a Bengali voice-first parent hears the reminder and leaves a message staff play; a Somali voice-first
parent is called with prompts staff uploaded; a parent answers the pre-review questions by phone."""
from __future__ import annotations

import io
import re
from html import unescape

from sqlmodel import select

from bot.calls.prompts import CALL_KEYS
from storage.models import Call, FlowAnswer, Guardian, Message, Review, VoicePrompt, VoiceRecording
from tests.support.factories import make_guardian
from tests.support.inbox import (  # noqa: F401  (fixtures)
    client, login, messages_of, staff_client, text_of, thread_url, world,
)
from tests.support.services import run_jobs
from tests.test_reviews_pages import ask, lucas, only_review, schedule, typed_in  # noqa: F401  (fixture)
from tests.test_voice import send_catalogue


def call_page(client, guardian) -> str:
    response = client.get(f"/simulator/calls/?guardian={guardian.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def ringing_call(db, guardian) -> Call:
    db.expire_all()
    return db.exec(select(Call).where(Call.guardian_id == guardian.id).order_by(Call.id.desc())).first()


def form_url(html: str, kind: str) -> str:
    found = re.search(rf'name="kind" value="{kind}">\s*<input type="hidden" name="url" value="([^"]+)"', html)
    assert found, f"no {kind} form on the page"
    return unescape(found[1])


def step(client, call, html: str, kind: str, **fields) -> str:
    data = {"kind": kind, "url": form_url(html, kind), **fields}
    if kind == "record":
        found = re.search(r'name="callback" value="([^"]*)"', html)
        data["callback"] = unescape(found[1])
    response = client.post(f"/simulator/calls/{call.id}/step", data=data)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def test_a_bengali_parent_hears_the_reminder_presses_2_and_the_message_plays_in_the_inbox(staff_client, world, db):
    app = staff_client.application
    rahima = make_guardian(db, world.school, "+447700900741", name="Rahima Begum", language="bn", channel="voice",
                           child="Ayaan Begum")
    db.commit()
    send_catalogue(app, world.school, rahima, key="review.reminder", child="Ayaan")
    run_jobs(app)
    assert "The school is calling" in call_page(staff_client, rahima)
    call = ringing_call(db, rahima)
    html = staff_client.post(f"/simulator/calls/{call.id}/answer", data={"by": "human"}).get_data(as_text=True)
    page = text_of(html)
    assert "Twilio says, in Bengali (bn-IN, voice Google.bn-IN-Chirp3-HD-Aoede)" in page
    assert "মনে করিয়ে দিচ্ছি" in page and "preview voice, not Twilio's" in page
    preview = unescape(re.search(r'<audio controls preload="none" src="(/simulator/calls/preview[^"]+)"', html)[1])
    audio = staff_client.get(preview)
    assert audio.status_code == 200 and audio.mimetype == "audio/wav" and audio.data.startswith(b"RIFF")
    html = step(staff_client, call, html, "keys", digits="2")
    assert "After the beep, the parent says" in html
    html = step(staff_client, call, html, "record", said="আমি মিটিংয়ে আসতে পারব না, দয়া করে ফোন করুন")
    assert "The call has ended" in html
    [left] = messages_of(db, rahima, "inbound")
    assert left.kind == "voice_message" and left.simulated
    [recording] = db.exec(select(VoiceRecording)).all()
    thread = staff_client.get(thread_url(db, rahima)).get_data(as_text=True)
    assert f'src="/recordings/{recording.id}"' in thread and "Recorded on a phone call" in thread
    played = staff_client.get(f"/recordings/{recording.id}")
    assert played.status_code == 200 and played.data.startswith(b"RIFF") and played.mimetype == "audio/wav"


def test_another_school_cannot_play_a_recording(client, world, db, staff_client):
    app = staff_client.application
    rahima = make_guardian(db, world.school, "+447700900742", name="Rahima Begum", language="bn", channel="voice")
    db.commit()
    send_catalogue(app, world.school, rahima)
    run_jobs(app)
    call = ringing_call(db, rahima)
    html = staff_client.post(f"/simulator/calls/{call.id}/answer", data={"by": "human"}).get_data(as_text=True)
    html = step(staff_client, call, step(staff_client, call, html, "keys", digits="2"), "record", said="hello")
    [recording] = db.exec(select(VoiceRecording)).all()
    other = app.test_client()
    assert login(other, world.other_staff.email).status_code == 302
    assert other.get(f"/recordings/{recording.id}").status_code == 404
    assert other.post(f"/simulator/calls/{call.id}/answer", data={"by": "human"}).status_code == 404


def upload(client, key: str, language: str, data: bytes = b"RIFF....WAVEfmt ", mimetype: str = "audio/wav"):
    return client.post("/voice-prompts", data={"key": key, "language": language,
                                               "audio": (io.BytesIO(data), f"{key}.wav", mimetype)},
                       content_type="multipart/form-data")


def test_a_somali_parent_is_called_with_the_prompts_staff_recorded(staff_client, world, db):
    app = staff_client.application
    hodan = make_guardian(db, world.school, "+447700900743", name="Hodan Abdi", language="so", channel="voice")
    db.commit()
    page = text_of(staff_client.get("/voice-prompts").get_data(as_text=True))
    assert "Somali 17 still to record" in page
    assert upload(staff_client, "voice.menu", "so", b"not audio", "text/plain").status_code == 302
    assert db.exec(select(VoicePrompt)).all() == []  # refused, nothing stored
    for key in list(CALL_KEYS) + ["review.reminder.info"]:
        assert upload(staff_client, key, "so", b"RIFF" + key.encode()).status_code == 302
    send_catalogue(app, world.school, hodan, key="review.reminder")
    run_jobs(app)
    call = ringing_call(db, hodan)
    assert call.status == "ringing"
    html = staff_client.post(f"/simulator/calls/{call.id}/answer", data={"by": "human"}).get_data(as_text=True)
    assert "Twilio says" not in html and html.count("Twilio plays a staff recording") == 3
    urls = [unescape(u) for u in re.findall(r'<audio controls preload="none" src="([^"]+/voice-media/prompts/[^"]+)"', html)]
    assert len(urls) == 3
    audio = staff_client.get(urls[0].split("bot.school.example", 1)[-1])
    assert audio.data == b"RIFFreview.reminder.info"


def test_a_parent_answers_the_pre_review_questions_by_phone_and_the_review_page_shows_them(
        staff_client, world, db, lucas):
    app = staff_client.application
    world.parent.preferred_channel = "voice"
    db.add(world.parent)
    db.commit()
    schedule(staff_client, lucas.id, typed_in(30))
    review = only_review(db)
    ask(staff_client, review, world.parent.id)
    run_jobs(app)
    call = ringing_call(db, world.parent)
    html = staff_client.post(f"/simulator/calls/{call.id}/answer", data={"by": "human"}).get_data(as_text=True)
    assert "Twilio listens in es-ES" in html
    html = step(staff_client, call, html, "speech", speech="Lucas está contento en casa y duerme bien")
    for _ in range(4):
        html = step(staff_client, call, html, "speech", speech="skip")
    for _ in range(3):  # silence on the last free-text question: asked twice more, then skipped
        html = step(staff_client, call, html, "silence")
    for key in ("1", "2", "2"):
        html = step(staff_client, call, html, "keys", digits=key)
    html = step(staff_client, call, html, "speech", speech="Gracias")
    html = step(staff_client, call, html, "keys", digits="1")  # the read-back is right
    assert "The call has ended" in html
    run_jobs(app)
    answers = {a.step_id: a.value for a in db.exec(select(FlowAnswer)).all()}
    assert answers["home"] == "Lucas está contento en casa y duerme bien" and answers["attend_how"] == "phone"
    page = text_of(staff_client.get(f"/reviews/{review.id}").get_data(as_text=True))
    assert "At home Original · Spanish Lucas está contento en casa y duerme bien" in page
    assert "How you will join By phone" in page and "Coming to the meeting Yes" in page
    assert "Going well Skipped" in page and "Your hopes Skipped" in page
    spoken = db.exec(select(Message).where(Message.direction == "outbound", Message.channel == "voice")).all()
    assert spoken and {m.status for m in spoken} == {"spoken"}


def test_staff_start_a_call_with_the_review_reminder_and_the_demo_seed_has_voice_first_families(
        staff_client, world, db, lucas):
    app = staff_client.application
    assert "prefers SMS" in text_of(staff_client.post("/simulator/calls/start", data={"guardian": world.parent.id},
                                                      follow_redirects=True).get_data(as_text=True))
    world.parent.preferred_channel = "voice"
    db.add(world.parent)
    db.commit()
    page = staff_client.post("/simulator/calls/start", data={"guardian": world.parent.id}, follow_redirects=True)
    assert "no review coming up" in text_of(page.get_data(as_text=True))
    schedule(staff_client, lucas.id, typed_in(30))
    staff_client.post("/simulator/calls/start", data={"guardian": world.parent.id})
    run_jobs(app)
    assert "The school is calling" in call_page(staff_client, world.parent)
    call = ringing_call(db, world.parent)
    html = staff_client.post(f"/simulator/calls/{call.id}/answer", data={"by": "human"}).get_data(as_text=True)
    assert "Recordatorio" in html and "es-ES, voice Polly.Lucia" in text_of(html)
    assert staff_client.post("/simulator/calls/start", data={"guardian": world.other_parent.id}).status_code == 404

    from sqlmodel import Session, SQLModel, create_engine

    from storage.demo import seed_demo
    engine = create_engine("sqlite://")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        seed_demo(session)
        session.commit()
        voice_first = {g.preferred_language for g in session.exec(select(Guardian)).all()
                       if g.preferred_channel == "voice"}
        assert voice_first == {"bn", "so"} and len(session.exec(select(Review)).all()) == 2


def test_a_staff_reply_to_a_somali_family_is_phoned_once_staff_record_it(staff_client, world, db):
    from bot.conversation.takeover import queue_staff_reply
    from storage.db import session_scope
    from storage.models import Conversation, School

    app = staff_client.application
    hodan = make_guardian(db, world.school, "+447700900744", name="Hodan Abdi", language="so", channel="voice")
    db.commit()
    for key in CALL_KEYS:
        upload(staff_client, key, "so", b"RIFF" + key.encode())
    with app.app_context(), session_scope() as session:
        conversation = session.exec(select(Conversation).where(Conversation.guardian_id == hodan.id)).one()
        reply = queue_staff_reply(session, session.get(type(hodan), hodan.id), conversation,
                                  session.get(School, world.school.id), world.staff.id, "Sagal did very well today.")
    run_jobs(app)
    db.expire_all()
    message = db.get(Message, reply.id)
    assert message.status == "failed" and "this message itself" in message.error_message
    thread = staff_client.get(thread_url(db, hodan)).get_data(as_text=True)
    assert "Record this message in Somali" in text_of(thread)
    assert ringing_call(db, hodan).status == "cannot_call"
    response = staff_client.post(f"/messages/{reply.id}/recording", content_type="multipart/form-data",
                                 data={"audio": (io.BytesIO(b"RIFFsagal"), "reply.wav", "audio/wav")})
    assert response.status_code == 302
    run_jobs(app)
    call = ringing_call(db, hodan)
    assert call.status == "ringing"
    html = staff_client.post(f"/simulator/calls/{call.id}/answer", data={"by": "human"}).get_data(as_text=True)
    first = unescape(re.search(r'<audio controls preload="none" src="([^"]+/voice-media/prompts/[^"]+)"', html)[1])
    assert staff_client.get(first.split("bot.school.example", 1)[-1]).data == b"RIFFsagal"
    other = app.test_client()
    assert login(other, world.other_staff.email).status_code == 302
    assert other.post(f"/messages/{reply.id}/recording", content_type="multipart/form-data",
                      data={"audio": (io.BytesIO(b"RIFFx"), "x.wav", "audio/wav")}).status_code == 404


def test_staff_record_a_prompt_by_phone_and_the_waiting_somali_call_goes_ahead(staff_client, world, db):
    app = staff_client.application
    hodan = make_guardian(db, world.school, "+447700900745", name="Hodan Abdi", language="so", channel="voice")
    db.commit()
    keys = list(CALL_KEYS) + ["review.reminder.info"]
    for key in keys[:-1]:
        upload(staff_client, key, "so", b"RIFF" + key.encode())
    send_catalogue(app, world.school, hodan, key="review.reminder")
    run_jobs(app)
    assert ringing_call(db, hodan).status == "cannot_call"  # the reminder itself is not recorded yet

    refused = staff_client.post("/voice-prompts/call", data={"key": "review.reminder.info", "language": "so",
                                                            "phone": "not a number"}, follow_redirects=True)
    assert "Type the phone number to ring" in text_of(refused.get_data(as_text=True))
    asked = staff_client.post("/voice-prompts/call", data={"key": "review.reminder.info", "language": "so",
                                                          "phone": "07700 900999"}, follow_redirects=True)
    assert "The school is ringing number ending 0999 now" in text_of(asked.get_data(as_text=True))
    run_jobs(app)
    db.expire_all()
    [staff_call] = db.exec(select(Call).where(Call.purpose == "prompt")).all()
    assert (staff_call.status, staff_call.phone, staff_call.guardian_id) == ("ringing", "+447700900999", None)
    assert "The school is calling" in staff_client.get("/simulator/calls/?guardian=staff").get_data(as_text=True)
    html = staff_client.post(f"/simulator/calls/{staff_call.id}/answer", data={"by": "human"}).get_data(as_text=True)
    page = text_of(html)
    assert "Please record the Somali version of this message: Reminder from" in page
    assert "Twilio says, in English (en-GB, voice Polly.Amy)" in page
    html = step(staff_client, staff_call, html, "record", said="Xusuusin: kulanka dib-u-eegista ee ilmahaaga")
    assert "The recording is saved" in text_of(html)
    run_jobs(app)  # the prompt is kept, and the waiting call to Hodan is planned and placed again
    db.expire_all()
    [kept] = db.exec(select(VoicePrompt).where(VoicePrompt.key == "review.reminder.info")).all()
    assert kept.recorded_by_id == world.staff.id and kept.audio  # the typed words, rendered as audio
    call = ringing_call(db, hodan)
    assert call.status == "ringing"
    html = staff_client.post(f"/simulator/calls/{call.id}/answer", data={"by": "human"}).get_data(as_text=True)
    first = unescape(re.search(r'<audio controls preload="none" src="([^"]+/voice-media/prompts/[^"]+)"', html)[1])
    assert staff_client.get(first.split("bot.school.example", 1)[-1]).data == kept.audio
