"""The inbound webhook and the status callback, through signed requests on PostgreSQL + Redis."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import select

from storage.models import Guardian, Message
from tests.support.services import post_signed, run_jobs
from tests.support.factories import make_guardian, make_school

SCHOOL_NUMBER = "+447700900500"
PARENT = "+447700900501"


def sid(prefix: str = "SM") -> str:
    return prefix + uuid.uuid4().hex


def inbound(body: str, sender: str = PARENT, to: str = SCHOOL_NUMBER, **extra) -> dict:
    params = {"MessageSid": sid(), "AccountSid": "AC" + "a" * 32, "From": sender, "To": to,
              "Body": body, "NumMedia": "0"}
    params.update(extra)
    return params


@pytest.fixture
def school(db):
    school = make_school(db, phone=SCHOOL_NUMBER)
    db.commit()
    return school


@pytest.fixture
def parent(db, school):
    guardian = make_guardian(db, school, PARENT, name="María García", language="es")
    db.commit()
    return guardian


def messages(db) -> list[Message]:
    db.expire_all()
    return db.exec(select(Message).order_by(Message.id)).all()


def test_valid_request_is_stored_untouched_and_answered_with_empty_twiml(app, db, parent):
    body = "Hola, mi hijo tuvo un día difícil en la escuela. ¿Podemos hablar mañana?"
    response = post_signed(app, "/twilio/messages", inbound(body))
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert response.get_data(as_text=True).endswith("<Response/>")
    [message] = messages(db)
    assert message.body == body
    assert (message.direction, message.channel, message.guardian_id) == ("inbound", "sms", parent.id)
    assert message.status == "received"  # the webhook only stores: everything else is the worker's
    assert message.language is None and message.translation_status == "pending"
    [job] = app.extensions["queue"].get_jobs()
    assert (job.func_name, job.args) == ("bot.jobs.process_guardian", (parent.id,))
    run_jobs(app)
    db.expire_all()
    [message] = messages(db)
    assert message.status == "processed" and message.body == body
    assert message.language == "es" and message.language_confidence > 0.5
    assert message.translation_status == "done"


def test_a_retried_webhook_stores_and_queues_nothing_more(app, db, parent):
    params = inbound("Hola")
    assert post_signed(app, "/twilio/messages", params).status_code == 200
    assert post_signed(app, "/twilio/messages", params).status_code == 200  # Twilio retrying
    assert len(messages(db)) == 1
    assert len(app.extensions["queue"].get_jobs()) == 1


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl", None])
def test_missing_or_wrong_signature_is_refused_and_nothing_stored(app, db, parent, signature):
    params = inbound("Hola")
    if signature is None:  # a real signature, but made with another account's token
        response = post_signed(app, "/twilio/messages", params, token="someone-elses-token")
    else:
        response = post_signed(app, "/twilio/messages", params, signature=signature)
    assert response.status_code == 403
    assert messages(db) == []


def test_signature_over_a_tampered_body_is_refused(app, db, parent):
    params = inbound("Hola")
    from bot.channels.twilio.signature import sign
    from tests.support.services import AUTH_TOKEN, PUBLIC_BASE_URL

    signature = sign(PUBLIC_BASE_URL + "/twilio/messages", params, AUTH_TOKEN)
    params["Body"] = "Something else"
    response = post_signed(app, "/twilio/messages", params, signature=signature)
    assert response.status_code == 403
    assert messages(db) == []


def test_signature_uses_public_base_url_not_the_proxied_request_url(app, db, parent):
    # Behind a proxy the request arrives as http://internal:8000; Twilio signed the public URL.
    from bot.channels.twilio.signature import sign
    from tests.support.services import AUTH_TOKEN, PUBLIC_BASE_URL

    params = inbound("Hola")
    signature = sign(PUBLIC_BASE_URL + "/twilio/messages", params, AUTH_TOKEN)
    response = app.test_client().post("/twilio/messages", data=params, base_url="http://internal:8000",
                                      headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
    assert len(messages(db)) == 1


def test_five_retries_of_one_message_store_one_row(app, db, parent):
    params = inbound("¿Mañana hay clase?")
    for _ in range(5):
        assert post_signed(app, "/twilio/messages", params).status_code == 200
    assert len(messages(db)) == 1


def test_five_concurrent_retries_from_an_unknown_number_store_one_row_and_one_contact(app, db, school):
    params = inbound("Hello, I am Zain's uncle, who do I speak to?", sender="+447700900777")
    with ThreadPoolExecutor(5) as pool:
        codes = list(pool.map(lambda _: post_signed(app, "/twilio/messages", params).status_code, range(5)))
    assert codes == [200] * 5
    assert len(messages(db)) == 1
    assert len(db.exec(select(Guardian).where(Guardian.phone == "+447700900777")).all()) == 1


def test_whatsapp_sender_is_parsed_and_national_format_normalised(app, db, parent):
    post_signed(app, "/twilio/messages", inbound("Dziękuję bardzo za informację o spotkaniu.",
                                               sender="whatsapp:+447700900501", to=f"whatsapp:{SCHOOL_NUMBER}",
                                               ProfileName="Maria", WaId="447700900501"))
    post_signed(app, "/twilio/messages", inbound("Gracias", sender="07700 900501"))
    first, second = messages(db)
    assert first.channel == "whatsapp" and second.channel == "sms"
    assert first.guardian_id == second.guardian_id == parent.id


def test_unknown_sender_lands_in_the_inbox_as_unknown_contact(app, db, school):
    post_signed(app, "/twilio/messages", inbound("Hello, this is Zain's grandmother.", sender="+447700900888"))
    [message] = messages(db)
    guardian = db.get(Guardian, message.guardian_id)
    assert guardian.known is False and guardian.school_id == school.id


def test_message_to_a_number_no_school_uses_is_refused_clearly(app, db, school):
    response = post_signed(app, "/twilio/messages", inbound("Hola", to="+447700900999"))
    assert response.status_code == 404
    assert "no school uses" in response.get_data(as_text=True)
    assert messages(db) == []


@pytest.mark.parametrize("change, reason", [
    ({"MessageSid": "not-a-sid"}, "MessageSid"),
    ({"MessageSid": sid() + "\n"}, "MessageSid"),  # a trailing newline is not the same sid
    ({"MessageSid": sid() + "\x00"}, "MessageSid"),
    ({"From": ""}, "From and To"),
    ({"From": "not a phone"}, "From:"),
    ({"From": "messenger:1234567890"}, "'messenger' channel is not supported"),
    ({"From": "sip:parent@example.com"}, "'sip' channel is not supported"),
    ({"NumMedia": "11"}, "NumMedia"),
    ({"NumMedia": "lots"}, "NumMedia"),
    ({"NumMedia": "²"}, "NumMedia"),
])
def test_malformed_payloads_get_a_clear_400_and_store_nothing(app, db, parent, change, reason):
    params = inbound("Hola")
    params.update(change)
    response = post_signed(app, "/twilio/messages", params)
    assert response.status_code == 400
    assert reason in response.get_data(as_text=True)
    assert messages(db) == []


def test_a_whatsapp_message_of_any_length_is_stored_whole(app, db, parent):
    body = "Zain " * 900  # 4,500 characters: WhatsApp allows 4,096, and a parent may paste more
    params = inbound(body, sender=f"whatsapp:{parent.phone}", to=f"whatsapp:{SCHOOL_NUMBER}")
    assert post_signed(app, "/twilio/messages", params).status_code == 200
    [message] = messages(db)
    assert message.body == body and message.channel == "whatsapp"


def test_the_media_actually_present_is_stored_whatever_num_media_says(app, db, parent):
    params = {**inbound("photo"), "NumMedia": "1", "MediaUrl0": "https://api.twilio.com/m/0",
              "MediaContentType0": "image/jpeg", "MediaUrl1": "https://api.twilio.com/m/1",
              "MediaContentType1": "image/png"}
    assert post_signed(app, "/twilio/messages", params).status_code == 200
    [message] = messages(db)
    assert [m["url"] for m in message.media] == ["https://api.twilio.com/m/0", "https://api.twilio.com/m/1"]
    assert message.num_media == 2


@pytest.mark.parametrize("form, query", [
    ({"MessageStatus": "failed", "ErrorCode": "²"}, ""),
    ({"MessageStatus": "sent"}, "?m=99999999999999999999"),
    ({"MessageStatus": "sent", "MessageSid": sid() + "\n"}, ""),
])
def test_odd_status_callbacks_get_a_clear_answer_never_a_500(app, db, parent, form, query):
    response = post_signed(app, f"/twilio/status{query}", {"MessageSid": sid(), **form})
    assert response.status_code in (200, 400)


def test_oversized_request_is_refused_before_parsing(app, db, parent):
    params = inbound("Hola", Padding="x" * (app.config["MAX_CONTENT_LENGTH"] + 1))
    response = post_signed(app, "/twilio/messages", params)
    assert response.status_code == 413
    assert messages(db) == []


def test_media_items_are_recorded(app, db, parent):
    params = inbound("", NumMedia="2", MediaUrl0="https://api.twilio.com/m/0", MediaContentType0="image/jpeg",
                     MediaUrl1="https://api.twilio.com/m/1", MediaContentType1="application/pdf")
    assert post_signed(app, "/twilio/messages", params).status_code == 200
    [message] = messages(db)
    assert message.num_media == 2 and message.media[1]["content_type"] == "application/pdf"


def test_stop_opts_out_confirms_in_their_language_and_blocks_later_replies(app, db, school, parent):
    from bot.conversation.takeover import queue_staff_reply
    from storage.db import session_scope
    from storage.models import Conversation

    assert post_signed(app, "/twilio/messages", inbound("BAJA")).status_code == 200
    run_jobs(app)
    db.expire_all()
    guardian = db.get(Guardian, parent.id)
    assert guardian.opted_out and guardian.opted_out_at is not None
    stop, confirmation = messages(db)
    assert stop.kind == "keyword"
    assert confirmation.template_key == "optout.confirm" and confirmation.language == "es"
    assert confirmation.status == "delivered"  # the one message an opt-out still gets

    with app.app_context(), session_scope() as session:
        conversation = session.exec(select(Conversation).where(Conversation.guardian_id == parent.id)).one()
        reply = queue_staff_reply(session, session.get(Guardian, parent.id), conversation, school, None,
                                  "Thank you for your message.")
    run_jobs(app)
    assert db.get(Message, reply.id).status == "blocked"
    assert db.get(Message, reply.id).provider_sid is None


def test_start_opts_back_in(app, db, parent):
    post_signed(app, "/twilio/messages", inbound("STOP"))
    post_signed(app, "/twilio/messages", inbound("START"))
    run_jobs(app)
    db.expire_all()
    assert db.get(Guardian, parent.id).opted_out is False
    assert [m.template_key for m in messages(db) if m.direction == "outbound"] == ["optout.confirm", "optin.confirm"]


def test_stop_inside_a_sentence_is_a_message_not_an_opt_out(app, db, parent):
    post_signed(app, "/twilio/messages", inbound("Please stop giving him homework on Fridays"))
    db.expire_all()
    assert db.get(Guardian, parent.id).opted_out is False
    assert messages(db)[0].kind == "text"


def test_short_reply_is_read_in_the_parents_known_language(app, db, school):
    make_guardian(db, school, "+447700900502", language="pl")
    db.commit()
    post_signed(app, "/twilio/messages", inbound("ok dzięki", sender="+447700900502"))
    run_jobs(app)
    assert messages(db)[0].language == "pl"


def _sent_message(db, parent, sid_: str, status: str = "sent") -> Message:
    from storage.models import Conversation

    conversation = db.exec(select(Conversation).where(Conversation.guardian_id == parent.id)).one()
    message = Message(school_id=parent.school_id, conversation_id=conversation.id, guardian_id=parent.id,
                      direction="outbound", channel="sms", kind="staff_reply", body="Hello",
                      translation="Hola", provider_sid=sid_, status=status)
    db.add(message)
    db.commit()
    return message


def test_status_callbacks_out_of_order_keep_the_furthest_status(app, db, parent):
    message = _sent_message(db, parent, sid())
    for status in ["delivered", "sent", "queued"]:
        response = post_signed(app, "/twilio/status", {"MessageSid": message.provider_sid, "MessageStatus": status})
        assert response.status_code == 200
    db.expire_all()
    assert db.get(Message, message.id).status == "delivered"
    post_signed(app, "/twilio/status", {"MessageSid": message.provider_sid, "MessageStatus": "read"})
    db.expire_all()
    assert db.get(Message, message.id).status == "read"


def test_status_callback_21610_marks_the_guardian_opted_out(app, db, parent):
    message = _sent_message(db, parent, sid())
    post_signed(app, "/twilio/status", {"MessageSid": message.provider_sid, "MessageStatus": "failed",
                                        "ErrorCode": "21610"})
    db.expire_all()
    assert db.get(Message, message.id).status == "failed"
    assert db.get(Message, message.id).error_code == 21610
    assert db.get(Guardian, parent.id).opted_out is True


def test_a_late_failure_after_read_neither_fails_over_nor_changes_the_status(app, db, parent):
    message = _sent_message(db, parent, sid(), status="read")
    message.channel = "whatsapp"
    db.commit()
    post_signed(app, "/twilio/status", {"MessageSid": message.provider_sid, "MessageStatus": "undelivered",
                                        "ErrorCode": "63016"})
    run_jobs(app)
    assert [m.id for m in messages(db)] == [message.id]  # no SMS copy of a reply the parent has read
    assert db.get(Message, message.id).status == "read"


def test_a_replayed_opt_out_report_does_not_undo_a_later_start(app, db, parent):
    message = _sent_message(db, parent, sid())
    report = {"MessageSid": message.provider_sid, "MessageStatus": "failed", "ErrorCode": "21610"}
    post_signed(app, "/twilio/status", report)
    db.expire_all()
    assert db.get(Guardian, parent.id).opted_out is True
    post_signed(app, "/twilio/messages", inbound("START"))
    run_jobs(app)
    db.expire_all()
    assert db.get(Guardian, parent.id).opted_out is False
    post_signed(app, "/twilio/status", report)  # Twilio replays the old report
    db.expire_all()
    assert db.get(Guardian, parent.id).opted_out is False


def test_an_opt_out_report_about_a_message_sent_before_start_is_stale(app, db, parent):
    from datetime import timedelta

    from storage.models import utcnow

    message = _sent_message(db, parent, sid())
    message.sent_at = utcnow() - timedelta(minutes=10)
    parent.opted_in_at = utcnow() - timedelta(minutes=5)  # START came after the message left
    db.commit()
    post_signed(app, "/twilio/status", {"MessageSid": message.provider_sid, "MessageStatus": "undelivered",
                                        "ErrorCode": "21610"})
    db.expire_all()
    assert db.get(Message, message.id).status == "undelivered"
    assert db.get(Guardian, parent.id).opted_out is False


def test_status_callback_must_be_signed(app, db, parent):
    message = _sent_message(db, parent, sid())
    response = post_signed(app, "/twilio/status", {"MessageSid": message.provider_sid, "MessageStatus": "failed"},
                           signature="")
    assert response.status_code == 403
    db.expire_all()
    assert db.get(Message, message.id).status == "sent"


def test_status_callback_for_an_unknown_sid_changes_nothing(app, db, parent):
    message = _sent_message(db, parent, sid())
    response = post_signed(app, "/twilio/status", {"MessageSid": sid(), "MessageStatus": "failed"})
    assert response.status_code == 200
    db.expire_all()
    assert db.get(Message, message.id).status == "sent"


def test_a_failure_after_storing_loses_nothing_and_the_sweep_finishes_the_work(app, db, parent, monkeypatch):
    from datetime import timedelta

    import bot.conversation.turn
    from bot.sweep import run_sweep
    from storage.models import utcnow

    def broken(*args, **kwargs):
        raise RuntimeError("language models failed to load")

    monkeypatch.setattr(bot.conversation.turn, "detect", broken)
    response = post_signed(app, "/twilio/messages", inbound("BAJA"))
    assert response.status_code == 200  # stored: Twilio need not retry
    run_jobs(app)  # the job fails; RQ schedules a retry ...
    app.extensions["redis"].flushdb()  # ... which a Redis restart then loses
    [message] = messages(db)
    assert message.status == "received" and message.body == "BAJA"
    assert db.get(Guardian, parent.id).opted_out is False

    monkeypatch.undo()
    message.created_at = utcnow() - timedelta(minutes=5)
    db.commit()
    with app.app_context():
        assert run_sweep()["unprocessed"] == 1
    run_jobs(app)
    db.expire_all()
    assert db.get(Guardian, parent.id).opted_out is True  # the STOP was acted on after all
    assert messages(db)[0].status == "processed"


@pytest.mark.parametrize("sender", ["12345", "SCHOOLNEWS"])
def test_a_short_code_or_named_sender_is_stored_as_what_it_is_and_never_written_back_to(app, db, school, sender):
    assert post_signed(app, "/twilio/messages", inbound("Your code is 4821", sender=sender)).status_code == 200
    [message] = messages(db)
    guardian = db.get(Guardian, message.guardian_id)
    assert guardian.phone == sender and guardian.known is False  # not "+4412345", a number nobody has
    from bot.conversation.takeover import queue_staff_reply
    from storage.db import session_scope
    from storage.models import Conversation

    with app.app_context(), session_scope() as session:
        conversation = session.exec(select(Conversation).where(Conversation.guardian_id == guardian.id)).one()
        reply = queue_staff_reply(session, session.get(Guardian, guardian.id), conversation, school, None, "Thanks")
    run_jobs(app)
    sent = db.get(Message, reply.id)
    assert sent.status == "failed" and "short code or a named sender" in sent.error_message
    assert sent.provider_sid is None


@pytest.mark.parametrize("word, known_language, replied_in", [
    ("BAND KARDO", None, "ur-Latn"),    # a Roman Urdu word from a new number: answered in Roman Urdu
    ("BAND KARO", "ur", "ur-Latn"),     # typed in English letters: Roman Urdu, not Urdu script
    ("بند کریں", "ur", "ur"),
    ("BONDHO KORUN", "bn", "bn-Latn"),
])
def test_a_stop_word_is_confirmed_in_the_script_it_was_typed_in(app, db, school, word, known_language, replied_in):
    from tests.support.factories import make_guardian
    guardian = make_guardian(db, school, "+447700900555", language=known_language)
    db.commit()
    assert post_signed(app, "/twilio/messages", inbound(word, From="+447700900555")).status_code == 200
    run_jobs(app)
    db.expire_all()
    confirmation = db.exec(select(Message).where(Message.guardian_id == guardian.id,
                                                 Message.direction == "outbound")).one()
    assert confirmation.template_key == "optout.confirm" and confirmation.language == replied_in
