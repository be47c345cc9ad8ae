"""Translation and delivery through a real RQ worker; Twilio's side served by Prism."""
from __future__ import annotations

import uuid

import pytest
from sqlmodel import select

from bot.conversation.takeover import queue_staff_reply
from storage.db import session_scope
from datetime import timedelta

from storage.models import Conversation, Guardian, Message, School, utcnow
from tests.support.services import post_signed, run_jobs
from tests.support.factories import make_guardian, make_school

SCHOOL_NUMBER = "+447700900600"
PARENT = "+447700900601"


def inbound(body: str, sender: str = PARENT) -> dict:
    return {"MessageSid": "SM" + uuid.uuid4().hex, "From": sender, "To": SCHOOL_NUMBER, "Body": body,
            "NumMedia": "0"}


def setup_family(db, language="es", channel="sms", **fields):
    school = make_school(db, phone=SCHOOL_NUMBER)
    guardian = make_guardian(db, school, PARENT, language=language, channel=channel, **fields)
    db.commit()
    return school, guardian


def staff_reply(app, guardian_id: int, text: str) -> int:
    """Queue a staff reply the way the inbox does; return its id."""
    with app.app_context():
        with session_scope() as session:
            guardian = session.get(Guardian, guardian_id)
            school = session.get(School, guardian.school_id)
            conversation = session.exec(select(Conversation).where(Conversation.guardian_id == guardian_id)).one()
            message = queue_staff_reply(session, guardian, conversation, school, None, text)
    return message.id


def test_spanish_message_is_translated_to_english_by_the_worker(app, db):
    setup_family(db)
    post_signed(app, "/twilio/messages", inbound("Hola, mi hijo tuvo un día difícil en la escuela."))
    [message] = db.exec(select(Message)).all()
    assert message.translation is None
    run_jobs(app)
    db.refresh(message)
    assert message.translation_status == "done" and message.translation_engine == "apertium"
    assert "difficult day" in message.translation
    assert message.body == "Hola, mi hijo tuvo un día difícil en la escuela."  # the original is kept


def test_a_pair_no_engine_translates_says_so_plainly(app, db):
    setup_family(db, language="so")
    post_signed(app, "/twilio/messages", inbound("Subax wanaagsan, wiilkaygu maanta ma iman karo dugsiga."))
    run_jobs(app)
    [message] = db.exec(select(Message)).all()
    assert message.translation_status == "unavailable"
    assert message.translation is None
    assert message.translation_note  # the reason staff will read


def test_an_english_message_needs_no_translation(app, db):
    setup_family(db, language="en")
    post_signed(app, "/twilio/messages", inbound("Hi, can we move Thursday's meeting to Friday morning?"))
    run_jobs(app)
    [message] = db.exec(select(Message)).all()
    assert message.translation_status == "not_needed" and message.translation is None


def test_reply_is_sent_to_twilio_in_spanish_with_the_right_numbers(twilio_app, db, prism):
    _, guardian = setup_family(db)
    message_id = staff_reply(twilio_app, guardian.id, "Thank you for your message. We will call you tomorrow.")
    run_jobs(twilio_app)
    [request] = [r for r in prism.requests if r.path.endswith("/Messages.json")]
    assert request.status == 201  # Prism accepted it against Twilio's contract
    assert request.form["To"] == [PARENT] and request.form["From"] == [SCHOOL_NUMBER]
    body = request.form["Body"][0]
    assert "Gracias" in body or "gracias" in body
    assert request.form["StatusCallback"] == [f"https://bot.school.example/twilio/status?m={message_id}"]
    db.expire_all()
    message = db.get(Message, message_id)
    assert message.provider_sid.startswith("SM") and message.status == "queued"
    assert message.translation == body and message.translation_engine == "apertium"


def test_whatsapp_reply_inside_the_window_uses_whatsapp_addresses(twilio_app, db, prism):
    _, guardian = setup_family(db, channel="whatsapp", last_inbound_at=utcnow() - timedelta(hours=2))
    staff_reply(twilio_app, guardian.id, "See you on Monday.")
    run_jobs(twilio_app)
    [request] = prism.requests
    assert request.form["To"] == [f"whatsapp:{PARENT}"]
    assert request.form["From"] == [f"whatsapp:{SCHOOL_NUMBER}"]


def test_a_delivery_job_run_twice_sends_once(twilio_app, db, prism):
    _, guardian = setup_family(db)
    message_id = staff_reply(twilio_app, guardian.id, "Good morning.")
    with twilio_app.app_context():
        # The same job again, as an RQ retry would run it (past the queue's own de-duplication).
        twilio_app.extensions["queue"].enqueue("bot.jobs.deliver_message", message_id)
    run_jobs(twilio_app)
    assert len(prism.requests) == 1
    db.expire_all()
    assert db.get(Message, message_id).status == "queued"
    assert db.get(Message, message_id).simulated is False  # a real channel's messages are real


def test_stop_then_reply_sends_nothing_to_twilio(twilio_app, db, prism):
    _, guardian = setup_family(db)
    post_signed(twilio_app, "/twilio/messages", inbound("STOP"))
    message_id = staff_reply(twilio_app, guardian.id, "Are you coming to the review?")
    run_jobs(twilio_app)
    assert prism.requests == []  # Twilio answers its own STOP on SMS; our reply is blocked
    db.expire_all()
    assert db.get(Message, message_id).status == "blocked"


class _FailingChannel:
    name, handles_sms_keywords = "failing", False

    def __init__(self, error):
        self.error, self.calls = error, 0

    def send_text(self, message):
        self.calls += 1
        raise self.error


@pytest.mark.parametrize("code, permanent", [(21211, True), (21614, True), (21610, True), (20429, False)])
def test_permanent_errors_are_recorded_and_transient_ones_retried(app, db, code, permanent):
    from bot.channels.twilio.errors import delivery_error
    from bot.messaging.channel import ChannelError

    _, guardian = setup_family(db)
    message_id = staff_reply(app, guardian.id, "Hello")
    failing = _FailingChannel(ChannelError("refused", delivery_error(code), permanent=permanent))
    real, app.extensions["channel"] = app.extensions["channel"], failing
    try:
        run_jobs(app)
    finally:
        app.extensions["channel"] = real
    db.expire_all()
    message = db.get(Message, message_id)
    assert message.error_code == code
    assert failing.calls == 1
    if permanent:
        assert message.status == "failed"
        assert db.get(Guardian, guardian.id).opted_out is (code == 21610)
    else:
        assert message.status == "outbox"  # back in the outbox, with a retry scheduled
        scheduled = app.extensions["queue"].scheduled_job_registry.get_job_ids()
        assert len(scheduled) == 1


def test_twilio_errors_are_sorted_into_transient_and_permanent():
    from twilio.base.exceptions import TwilioRestException

    from bot.channels.twilio.client import is_transient

    assert is_transient(TwilioRestException(429, "uri", code=20429))
    assert is_transient(TwilioRestException(503, "uri"))
    assert not is_transient(TwilioRestException(400, "uri", code=21211))
    assert not is_transient(TwilioRestException(400, "uri", code=21610))


def test_sweep_recovers_work_redis_lost(app, db):
    from datetime import timedelta

    from bot.sweep import run_sweep
    from storage.models import utcnow

    setup_family(db)
    post_signed(app, "/twilio/messages", inbound("Hola, ¿cómo está mi hijo hoy?"))
    app.extensions["redis"].flushdb()  # Redis restarted: the job for this message is gone
    [message] = db.exec(select(Message)).all()
    message.created_at = utcnow() - timedelta(minutes=5)
    db.commit()
    with app.app_context():
        assert run_sweep()["unprocessed"] == 1
    run_jobs(app)
    db.refresh(message)
    assert message.translation_status == "done"
