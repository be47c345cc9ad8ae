"""Fault drills: each breaks something real, then asserts on the database that nothing was lost
and nothing was sent or stored twice.

Retry storms, Redis stopped while parents write, a worker SIGKILLed mid-send, Twilio answering
429/500, fuzzed webhooks, forged or replayed signatures, other schools' ids, CSRF-less posts.
Slower drills that restart PostgreSQL live in bench/drills/. Each drill here takes seconds.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from email.utils import formatdate
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rq import SimpleWorker
from sqlmodel import select

from app import create_app
from bot.sweep import run_sweep
from bot.conversation.takeover import queue_staff_reply
from storage.db import session_scope
from storage.models import Conversation, Guardian, Message, Review, School, utcnow
from tests.support.services import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_BASE_URL, base_config, post_signed, run_jobs
from tests.support.factories import STAFF_PASSWORD, make_guardian, make_school, make_staff
from tests.support.prism import free_port

SCHOOL_NUMBER = "+447700900400"
PARENT = "+447700900401"
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def inbound(body: str = "Hola, ¿mañana hay clase?", sender: str = PARENT, **extra) -> dict:
    """A Twilio-shaped inbound form with a fresh MessageSid."""
    params = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": ACCOUNT_SID, "From": sender,
              "To": SCHOOL_NUMBER, "Body": body, "NumMedia": "0"}
    params.update(extra)
    return params


@pytest.fixture
def family(db):
    """A school and a Spanish-speaking parent (no quiet hours)."""
    school = make_school(db, phone=SCHOOL_NUMBER)
    guardian = make_guardian(db, school, PARENT, name="María García", language="es")
    db.commit()
    return school, guardian


def stored(db, **where) -> list[Message]:
    """Messages in the database now, oldest first, filtered by column values."""
    db.expire_all()
    query = select(Message).order_by(Message.id)
    for name, value in where.items():
        query = query.where(getattr(Message, name) == value)
    return db.exec(query).all()


def staff_reply(app, guardian_id: int, text: str = "Thank you, we will call you tomorrow.") -> int:
    """Store a staff reply as the inbox does and hand it to the queue; its id."""
    with app.app_context():
        with session_scope() as session:
            guardian = session.get(Guardian, guardian_id)
            conversation = session.exec(select(Conversation).where(Conversation.guardian_id == guardian_id)).one()
            message = queue_staff_reply(session, guardian, conversation, session.get(School, guardian.school_id),
                                        None, text)
    return message.id


def age(db, message_id: int, minutes: float) -> None:
    """Move a message's clocks back (instead of sleeping through grace periods)."""
    message = db.get(Message, message_id)
    message.created_at -= timedelta(minutes=minutes)
    if message.status_updated_at:
        message.status_updated_at -= timedelta(minutes=minutes)
    db.commit()


# Twilio retries the same webhook five times at once

def test_five_concurrent_retries_store_one_message_and_one_job(app, db, family):
    params, start = inbound(), threading.Barrier(5)

    def post(_):
        start.wait()
        return post_signed(app, "/twilio/messages", params).status_code

    with ThreadPoolExecutor(5) as pool:  # the barrier releases all five at the same instant
        codes = list(pool.map(post, range(5)))
    assert codes == [200] * 5
    assert len(stored(db)) == 1
    assert app.extensions["queue"].count == 1  # one translation job, not five


# Redis down while parents write

def listening(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:`port`."""
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def own_redis(tmp_path):
    """A private redis-server (the shared one is never stopped); `stop()` and `start()` it at will."""
    class OwnRedis:
        port = free_port()
        url = f"redis://127.0.0.1:{port}/0"
        process = None

        def start(self):
            self.process = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                             "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
                                            stdout=subprocess.DEVNULL)
            deadline = time.monotonic() + 10
            while not listening(self.port):
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

        def stop(self):
            self.process.terminate()
            self.process.wait(10)

    server = OwnRedis()
    server.start()
    yield server
    if server.process.poll() is None:
        server.stop()


def test_redis_down_webhook_still_stores_and_answers_and_the_sweep_catches_up(make_app, db, family, own_redis):
    app = make_app(REDIS_URL=own_redis.url)
    _, guardian = family
    own_redis.stop()
    began = time.monotonic()
    response = post_signed(app, "/twilio/messages", inbound("Hola, mi hijo tuvo un día difícil en la escuela."))
    answered_in = time.monotonic() - began
    print(f"Redis down: answered {response.status_code} in {answered_in:.1f} s")
    assert response.status_code == 200 and response.get_data(as_text=True).endswith("<Response/>")
    assert answered_in < 10  # inside Twilio's 15 s, even with redis-py retrying the enqueue
    reply_id = staff_reply(app, guardian.id)  # staff reply while Redis is down: stored, not queued
    [parent_message] = stored(db, direction="inbound")
    assert parent_message.status == "received" and parent_message.body.startswith("Hola")
    assert db.get(Message, reply_id).status == "outbox"

    own_redis.start()  # back, empty: every job enqueued before the outage is gone
    age(db, parent_message.id, 5)
    age(db, reply_id, 5)
    with app.app_context():
        counts = run_sweep()
    assert (counts["unprocessed"], counts["deliveries"]) == (1, 1)
    run_jobs(app)
    db.expire_all()
    assert db.get(Message, parent_message.id).language == "es"
    assert db.get(Message, parent_message.id).translation_status == "done"
    reply = db.get(Message, reply_id)
    assert reply.status == "delivered" and reply.provider_sid


def test_a_worker_outlives_redis_dying_mid_delivery_and_every_reply_goes_once(make_app, pg_url, db, family,
                                                                               own_redis, tmp_path):
    school, _ = family
    parents = [make_guardian(db, school, f"+4477009005{n:02d}", name=f"Parent {n}", language="en") for n in range(30)]
    db.commit()
    twilio = FakeTwilio([])
    env = {**os.environ, "DATABASE_URL": pg_url, "REDIS_URL": own_redis.url, "CHANNEL": "twilio",
           "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_API_BASE_URL": twilio.url,
           "PUBLIC_BASE_URL": PUBLIC_BASE_URL, "TRANSLATION_ENGINE": "none", "INSTANCE_PATH": str(tmp_path),
           "SEND_RATE_PER_SECOND": "10", "SWEEP_INTERVAL_SECONDS": "1", "SWEEP_GRACE_SECONDS": "1",
           "LOG_LEVEL": "WARNING"}
    worker = subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        app = make_app(REDIS_URL=own_redis.url, CHANNEL="twilio", TWILIO_ACCOUNT_SID=ACCOUNT_SID)
        reply_ids = [staff_reply(app, parent.id, f"Reply {n}") for n, parent in enumerate(parents)]
        deadline = time.monotonic() + 120  # the worker loads its language models first
        while len(twilio.requests) < 5:
            assert time.monotonic() < deadline, "the worker never started sending"
            time.sleep(0.05)
        own_redis.stop()  # mid-delivery: queued jobs, the rate limit, RQ's own bookkeeping, all gone
        time.sleep(3)
        own_redis.start()  # back, and empty
        back = time.monotonic()
        while any(m.status in ("outbox", "dispatching") for m in stored(db, direction="outbound")):
            assert time.monotonic() - back < 60, "replies still waiting a minute after Redis came back"
            time.sleep(0.2)
        print(f"Redis back: every reply sent within {time.monotonic() - back:.1f} s")
        assert worker.poll() is None, "the worker died with Redis"
    finally:
        worker.terminate()
        worker.wait(20)
        twilio.close()
    sent_to = [re.search(r"To=([^&]+)", form)[1] for form in twilio.requests]
    assert sorted(sent_to) == sorted(p.phone.replace("+", "%2B") for p in parents)  # each once, none twice
    assert {db.get(Message, m).status for m in reply_ids} == {"queued"}


def test_a_hung_redis_costs_the_webhook_seconds_not_the_answer(make_app, db, family):
    # A Redis that accepts connections and never answers (a stalled server, a dead host behind a
    # live proxy): the web app's Redis commands give up after REDIS_SOCKET_TIMEOUT (2 s), and the
    # message is already stored.
    with silent_socket() as url:
        app = make_app(REDIS_URL=url.replace("http://", "redis://") + "/0")
        began = time.monotonic()
        response = post_signed(app, "/twilio/messages", inbound())
        answered_in = time.monotonic() - began
    print(f"hung Redis: answered {response.status_code} in {answered_in:.1f} s")
    assert response.status_code == 200 and answered_in < 2 * app.config["REDIS_SOCKET_TIMEOUT"] + 1
    [message] = stored(db)
    assert message.status == "received"  # for the sweep, once Redis is back


# A worker SIGKILLed in the middle of sending

class FakeTwilio:
    """Twilio's Messages endpoint on 127.0.0.1: scripted answers, every request recorded.

    `answers` is a list of (HTTP status, JSON body); None as an answer means accept the request,
    record it, and never reply (the worker is killed while it waits).
    """

    def __init__(self, answers):
        self.answers, self.requests, self.release = list(answers), [], threading.Event()
        self.lists, self.sids = 0, {}  # GETs of the Messages list; the sid Twilio gave each body
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                form = self.rfile.read(int(self.headers["Content-Length"])).decode()
                fake.requests.append(form)
                fake.sids[parse_qs(form)["Body"][0]] = "SM" + uuid.uuid4().hex
                answer = fake.answers.pop(0) if fake.answers else (201, None)
                if answer is None:
                    fake.release.wait(30)
                    return
                status, document = answer
                if status == 201:
                    document = {"sid": "SM" + uuid.uuid4().hex, "status": "queued", "account_sid": ACCOUNT_SID,
                                "api_version": "2010-04-01", "direction": "outbound-api", "num_segments": "1"}
                payload = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self):  # the Messages list: what it accepted, newest first
                fake.lists += 1
                accepted = [parse_qs(form) for form in reversed(fake.requests)]
                document = {"messages": [{"sid": fake.sids.get(form["Body"][0], "SM" + "0" * 32),
                                          "body": form["Body"][0], "to": form["To"][0], "from": form["From"][0],
                                          "status": "sent", "account_sid": ACCOUNT_SID,
                                          "date_created": formatdate(usegmt=True)} for form in accepted],
                            "page": 0, "page_size": 20, "next_page_uri": None, "uri": self.path,
                            "first_page_uri": self.path, "previous_page_uri": None}
                payload = json.dumps(document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def silent_socket():
    """A listener whose connections the kernel accepts but nobody ever reads: the request
    leaves the worker and never reaches the service."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def _run_worker(config: dict) -> None:
    """The child: a real RQ SimpleWorker inside its own app context, as worker.py runs one."""
    app = create_app(config)
    queue = app.extensions["queue"]
    with app.app_context():
        SimpleWorker([queue], connection=queue.connection).work(burst=True)


@contextmanager
def worker_killed_mid_send(pg_url, twilio_url, db, message_id):
    """Start a worker whose Twilio never answers; SIGKILL it once it is sending `message_id`."""
    config = base_config(pg_url, CHANNEL="twilio", TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_API_BASE_URL=twilio_url)
    child = multiprocessing.get_context("fork").Process(target=_run_worker, args=(config,), daemon=True)
    child.start()
    try:
        deadline = time.monotonic() + 20
        while db.get(Message, message_id).status != "dispatching":
            assert time.monotonic() < deadline and child.is_alive(), "the worker never started sending"
            time.sleep(0.05)
            db.expire_all()
        time.sleep(0.3)  # inside the HTTP call by now
        yield
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.join(10)
        db.expire_all()


def test_killed_after_twilio_accepted_the_status_callback_claims_it_and_nothing_is_resent(
        twilio_app, pg_url, db, family, prism):
    _, guardian = family
    message_id = staff_reply(twilio_app, guardian.id)
    twilio = FakeTwilio([None])
    try:
        with worker_killed_mid_send(pg_url, twilio.url, db, message_id):
            assert len(twilio.requests) == 1  # Twilio has it; our worker never heard back
    finally:
        twilio.close()
    message = db.get(Message, message_id)
    assert (message.status, message.provider_sid) == ("dispatching", None)

    # Twilio reports the message it accepted, to the callback URL that carries our id.
    sid = "SM" + uuid.uuid4().hex
    response = post_signed(twilio_app, f"/twilio/status?m={message_id}",
                           {"MessageSid": sid, "MessageStatus": "sent", "AccountSid": ACCOUNT_SID})
    assert response.status_code == 200
    age(db, message_id, 60)
    with twilio_app.app_context():
        assert run_sweep()["recovered_sends"] == 0
        twilio_app.extensions["queue"].enqueue("bot.jobs.deliver_message", message_id)  # RQ recovering the abandoned job
    run_jobs(twilio_app)
    db.expire_all()
    message = db.get(Message, message_id)
    assert (message.provider_sid, message.status) == (sid, "sent")
    assert prism.requests == []  # delivered exactly once: the request the killed worker made


def test_killed_before_twilio_got_it_the_send_is_recovered_and_delivered_once(twilio_app, pg_url, db, family, prism):
    _, guardian = family
    message_id = staff_reply(twilio_app, guardian.id)
    with silent_socket() as nowhere, worker_killed_mid_send(pg_url, nowhere, db, message_id):
        pass
    assert db.get(Message, message_id).status == "dispatching"
    with twilio_app.app_context():
        assert run_sweep()["recovered_sends"] == 0  # at most once: Twilio might still report it
    age(db, message_id, twilio_app.config["DISPATCH_RECOVERY_MINUTES"] + 1)
    with twilio_app.app_context():
        counts = run_sweep()
    assert counts["recovered_sends"] == 1
    run_jobs(twilio_app)  # asks Twilio first (its list has no such text), then sends it again
    db.expire_all()
    message = db.get(Message, message_id)
    assert message.status == "queued" and message.provider_sid
    assert [r.method for r in prism.requests] == ["GET", "POST"]  # looked, then sent: once
    assert "Twilio had no record of it, so it was sent again" in message.delivery_note  # kept for staff


def test_killed_after_twilio_accepted_with_no_callback_twilio_is_asked_and_nothing_is_resent(
        make_app, pg_url, db, family):
    _, guardian = family
    twilio = FakeTwilio([None])
    try:
        app = make_app(CHANNEL="twilio", TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_API_BASE_URL=twilio.url)
        message_id = staff_reply(app, guardian.id)
        with worker_killed_mid_send(pg_url, twilio.url, db, message_id):
            assert len(twilio.requests) == 1  # Twilio has it; our worker never heard back
        age(db, message_id, app.config["DISPATCH_RECOVERY_MINUTES"] + 1)  # and no status callback came
        with app.app_context():
            assert run_sweep()["recovered_sends"] == 1
        run_jobs(app)
    finally:
        twilio.close()
    db.expire_all()
    message = db.get(Message, message_id)
    assert twilio.lists == 1 and len(twilio.requests) == 1  # asked, found, not sent twice
    assert [message.provider_sid] == list(twilio.sids.values())  # the sid Twilio gave the one it has
    assert message.status == "accepted" and "Twilio already had the message" in message.delivery_note


# Twilio answering 429, then 500, then accepting

def test_429_then_500_is_retried_with_backoff_and_delivered_once(make_app, db, family):
    twilio = FakeTwilio([(429, {"code": 20429, "message": "Too Many Requests", "status": 429}),
                         (500, {"code": 20500, "message": "Internal Server Error", "status": 500})])
    try:
        app = make_app(CHANNEL="twilio", TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_API_BASE_URL=twilio.url)
        _, guardian = family
        message_id = staff_reply(app, guardian.id)
        queue = app.extensions["queue"]
        registry, delays = queue.scheduled_job_registry, []
        for attempt in range(2):
            run_jobs(app)
            db.expire_all()
            assert db.get(Message, message_id).status == "outbox"  # back in the outbox, not failed
            [job_id] = registry.get_job_ids()
            delays.append((registry.get_scheduled_time(job_id) - utcnow()).total_seconds())
            registry.requeue(job_id)  # its time has come (instead of waiting for the scheduler)
        run_jobs(app)
        assert 5 < delays[0] <= 10 and 20 < delays[1] <= 30  # RQ's backoff: 10 s, then 30 s
        assert len(twilio.requests) == 3 and len(set(twilio.requests)) == 1  # the same message each time
        db.expire_all()
        message = db.get(Message, message_id)
        assert message.status == "queued" and message.provider_sid and message.error_code is None
        assert registry.get_job_ids() == [] and queue.count == 0  # nothing left to send it again
    finally:
        twilio.close()


# Fuzzed webhooks: never a 500, never garbage stored

XSS = [
    '<script>window.__xss=1</script>',
    '<img src=x onerror="window.__xss=1">',
    '<svg onload=window.__xss=1>',
    '"><script>window.__xss=1</script>',
    "'><img src=x onerror=window.__xss=1>",
    '</p></div><script>window.__xss=1</script><p>',
    '<a href="javascript:window.__xss=1">click</a>',
    '<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>',
    '<math><mtext></p><script>window.__xss=1</script>',
    '&lt;script&gt;window.__xss=1&lt;/script&gt;',
    '{{ config }} {% print(7*7) %} ${7*7} __xss',
]
ODD_PHONES = [
    PARENT, "07700 900401", "(07700) 900-401", "whatsapp:+447700900401", "WhatsApp:+447700900401",
    "0044 7700 900401", "+44 (0) 7700 900401", "+1 415 555 2671", "447700900401", "+447700900401 ext. 12",
    "٠٧٧٠٠٩٠٠٤٠١", "+", "", " ", "whatsapp:", "tel:+447700900401", "+4477009004019999999", "SM123", "+999",
    "sip:parent@example.com", "whatsapp:whatsapp:+447700900401", "+44\u200b7700900401",
]
# NUL is left out here: it has its own drill below (stored as U+FFFD, so not byte for byte).
TEXT = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
FIELDS = ("MessageSid", "From", "To", "Body", "NumMedia")


@st.composite
def webhook_forms(draw) -> dict:
    """Twilio-shaped forms with odd senders, bodies, media counts and missing fields."""
    media = draw(st.integers(0, 11))
    form = inbound(
        body=draw(st.one_of(st.text(TEXT, max_size=1700), st.sampled_from(XSS),
                            st.integers(1598, 1602).map(lambda n: "ż" * n))),
        sender=draw(st.one_of(st.sampled_from(ODD_PHONES), st.text(TEXT, max_size=30))),
        NumMedia=draw(st.one_of(st.just(str(media)), st.sampled_from(["-1", " 2", "1_0", "٣", "two", ""]))),
    )
    for i in range(media):
        form[f"MediaUrl{i}"] = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM{i}/Media/ME{i}"
        form[f"MediaContentType{i}"] = draw(st.sampled_from(["image/jpeg", "application/pdf", "audio/ogg", ""]))
    if draw(st.booleans()):
        form["MessageSid"] = draw(st.sampled_from(["", "SM123", "XX" + "0" * 32, "SM" + "g" * 32]))
    for name in draw(st.sets(st.sampled_from(FIELDS), max_size=2)):
        form.pop(name, None)
    return form


@settings(max_examples=80, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(form=webhook_forms())
def test_fuzzed_webhooks_get_an_answer_and_store_only_clean_rows(app, db, family, form):
    response = post_signed(app, "/twilio/messages", form)  # an exception here would be a 500
    assert response.status_code in (200, 400), response.get_data(as_text=True)
    rows = stored(db, provider_sid=form["MessageSid"]) if form.get("MessageSid") else []
    if response.status_code != 200:
        assert rows == []  # refused: nothing stored, not even an unknown contact's message
        return
    [row] = rows
    assert row.body == form.get("Body", "")  # untouched, byte for byte
    guardian = db.get(Guardian, row.guardian_id)
    assert E164.match(guardian.phone) and guardian.school_id == family[0].id
    assert row.channel == ("whatsapp" if form["From"].strip().lower().startswith("whatsapp:") else "sms")
    assert 0 <= row.num_media <= 10 and len(row.media or []) == row.num_media


def test_a_nul_character_is_stored_as_a_replacement_mark_not_a_500(app, db, family):
    # PostgreSQL text cannot hold NUL: stored as is, the insert would fail on every Twilio retry.
    form = inbound("Hola\x00, ¿mañana\x00 hay clase?")
    assert post_signed(app, "/twilio/messages", form).status_code == 200
    [row] = stored(db)
    assert "\x00" not in row.body and row.body == "Hola\ufffd, ¿mañana\ufffd hay clase?"


@settings(max_examples=40, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(min_size=1, max_size=200).filter(lambda b: b"\x00" not in b))
def test_invalid_utf8_is_stored_as_valid_text_or_refused(app, db, family, raw):
    from urllib.parse import quote_from_bytes

    from bot.channels.twilio.signature import sign

    sid = "SM" + uuid.uuid4().hex
    data = (f"MessageSid={sid}&From=%2B447700900401&To=%2B447700900400&NumMedia=0&Body="
            + quote_from_bytes(raw, safe="")).encode()
    with app.test_request_context("/", method="POST", data=data, content_type="application/x-www-form-urlencoded"):
        from flask import request

        decoded = request.form.copy()  # what Flask reads, and so what a valid signature covers
    signature = sign(PUBLIC_BASE_URL + "/twilio/messages", decoded, AUTH_TOKEN)
    response = app.test_client().post("/twilio/messages", data=data, base_url=PUBLIC_BASE_URL,
                                      content_type="application/x-www-form-urlencoded",
                                      headers={"X-Twilio-Signature": signature})
    assert response.status_code in (200, 400)
    rows = stored(db, provider_sid=sid)
    assert len(rows) == (response.status_code == 200)
    for row in rows:
        assert row.body == decoded["Body"] and row.body.encode("utf-8")  # valid text, as received


@pytest.mark.parametrize("extra, expected", [
    ({"Body": "x" * (70 * 1024)}, 413),                                   # over MAX_WEBHOOK_BYTES
    ({f"Field{i}": "1" for i in range(1500)}, 200),                       # many unknown fields: ignored
    ({"NumMedia": "10", **{f"MediaUrl{i}": f"https://api.twilio.com/m/{i}" for i in range(10)}}, 200),
    ({"NumMedia": "11", **{f"MediaUrl{i}": f"https://api.twilio.com/m/{i}" for i in range(11)}}, 400),
])
def test_huge_and_crowded_webhooks_are_answered_plainly(app, db, family, extra, expected):
    response = post_signed(app, "/twilio/messages", inbound(**extra))
    assert response.status_code == expected
    assert len(stored(db)) == (expected == 200)


class _Markup(HTMLParser):
    """Every place a payload could run: script/style text and scriptable attributes."""

    SCRIPTABLE = {"href", "src", "srcdoc", "action", "formaction", "style", "xlink:href", "data"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.executable, self.text, self._raw = [], [], None

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._raw = tag
        for name, value in attrs:
            if name.startswith("on") or name in self.SCRIPTABLE:
                self.executable.append(value or "")

    def handle_endtag(self, tag):
        if tag == self._raw:
            self._raw = None

    def handle_data(self, data):
        (self.executable if self._raw else self.text).append(data)


def staff_login(client, db, school):
    """Create a member of staff at `school` and sign the client in."""
    staff = make_staff(db, school)
    db.commit()
    response = client.post("/login", data={"email": staff.email, "password": STAFF_PASSWORD})
    assert response.status_code == 302
    return staff


def test_html_and_script_in_parents_messages_stay_text_in_the_inbox(app, db, family):
    school, guardian = family
    for payload in XSS:
        assert post_signed(app, "/twilio/messages", inbound(payload)).status_code == 200
    client = app.test_client()
    staff_login(client, db, school)
    conversation = db.exec(select(Conversation).where(Conversation.guardian_id == guardian.id)).one()
    for url in ("/", f"/conversations/{conversation.id}"):
        response = client.get(url)
        assert response.status_code == 200
        page = _Markup()
        page.feed(response.get_data(as_text=True))
        assert not [code for code in page.executable if "__xss" in code]
        assert "SECRET_KEY" not in response.get_data(as_text=True)  # {{ config }} was not evaluated
    text = " ".join(page.text)
    assert all(payload.strip() in text for payload in XSS)  # every payload shown, as the parent typed it


@pytest.mark.browser
def test_script_in_a_parents_message_never_runs_in_a_real_browser(make_app, app, db, family):
    from playwright.sync_api import sync_playwright

    from tests.support.inbox import LiveServer

    if not os.path.exists("/usr/bin/chromium"):
        pytest.skip("Debian's chromium is not installed")
    school, guardian = family
    for payload in XSS:
        post_signed(app, "/twilio/messages", inbound(payload))
    staff = make_staff(db, school)
    db.commit()
    conversation = db.exec(select(Conversation).where(Conversation.guardian_id == guardian.id)).one()
    server = LiveServer()
    server.start(make_app(WTF_CSRF_ENABLED=True, PUBLIC_BASE_URL=server.url))
    dialogs: list[str] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = browser.new_page(base_url=server.url)
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.goto("/login")
            page.fill("#email", staff.email)
            page.fill("#password", STAFF_PASSWORD)
            page.click("button[type=submit]")
            for url in ("/", f"/conversations/{conversation.id}"):
                page.goto(url)
                page.wait_for_load_state("load")
                assert page.evaluate("window.__xss === undefined && !document.querySelector('iframe[srcdoc]')")
            assert "window.__xss=1" in page.inner_text("body")
            browser.close()
    finally:
        server.stop()
    assert dialogs == []


# Forged, replayed and misdirected requests

def test_wrong_and_replayed_signatures_are_refused(app, db, family):
    from bot.channels.twilio.signature import sign

    first = inbound("Hola")
    good = sign(PUBLIC_BASE_URL + "/twilio/messages", first, AUTH_TOKEN)
    assert post_signed(app, "/twilio/messages", first, signature=good).status_code == 200
    refused = [
        ("another message under the first one's signature", "/twilio/messages", inbound("Hola otra vez"), good),
        ("signed for another site", "/twilio/messages", inbound("Hola"), None),
        ("the inbound signature replayed on the status callback", "/twilio/status",
         {**first, "MessageStatus": "delivered"}, good),
        ("another account's token", "/twilio/messages", inbound("Hola"), "token"),
    ]
    for reason, path, params, signature in refused:
        if signature is None:
            signature = sign("https://attacker.example" + path, params, AUTH_TOKEN)
        elif signature == "token":
            signature = sign(PUBLIC_BASE_URL + path, params, "not-our-token")
        assert post_signed(app, path, params, signature=signature).status_code == 403, reason
    # An exact replay cannot be told from Twilio's own retry (signatures carry no time): harmless.
    assert post_signed(app, "/twilio/messages", first, signature=good).status_code == 200
    assert [m.provider_sid for m in stored(db)] == [first["MessageSid"]]


def test_a_status_callback_cannot_be_moved_to_another_message(app, db, family):
    _, guardian = family
    reply_id, other_id = staff_reply(app, guardian.id), staff_reply(app, guardian.id, "Second reply.")
    params = {"MessageSid": "SM" + uuid.uuid4().hex, "MessageStatus": "sent"}
    from bot.channels.twilio.signature import sign

    signature = sign(f"{PUBLIC_BASE_URL}/twilio/status?m={reply_id}", params, AUTH_TOKEN)
    assert post_signed(app, f"/twilio/status?m={other_id}", params, signature=signature).status_code == 403
    assert post_signed(app, "/twilio/messages", inbound()).status_code == 200
    [parent_message] = stored(db, direction="inbound")
    # Even Twilio's genuine callback cannot hand a sid to an inbound message or one that has a sid.
    assert post_signed(app, f"/twilio/status?m={parent_message.id}", params).status_code == 200
    db.expire_all()
    assert db.get(Message, parent_message.id).provider_sid != params["MessageSid"]
    assert {db.get(Message, i).provider_sid for i in (reply_id, other_id)} == {None}


def _other_school(db):
    """Another school with a family, a conversation and a review (what a forger would aim at)."""
    other = make_school(db, name="Hillside Drill Academy", phone="+447700900480")
    guardian = make_guardian(db, other, "+447700900481", name="Olena Shevchenko", language="uk", child="Ivan")
    conversation = db.exec(select(Conversation).where(Conversation.guardian_id == guardian.id)).one()
    from storage.models import GuardianChild

    child_id = db.exec(select(GuardianChild.child_id).where(GuardianChild.guardian_id == guardian.id)).one()
    review = Review(school_id=other.id, child_id=child_id, starts_at=utcnow() + timedelta(days=10))
    db.add(review)
    db.commit()
    return guardian, conversation, review


def test_another_schools_ids_in_urls_are_not_found_and_change_nothing(app, db, family):
    school, _ = family
    guardian, conversation, review = _other_school(db)
    client = app.test_client()
    staff_login(client, db, school)
    reply = {"body": "Hello", "previewed": "Hello"}
    attempts = [
        ("get", f"/conversations/{conversation.id}", None),
        ("post", f"/conversations/{conversation.id}/preview", reply),
        ("post", f"/conversations/{conversation.id}/send", reply),
        ("post", f"/conversations/{conversation.id}/take-over", {}),
        ("post", f"/conversations/{conversation.id}/hand-back", {}),
        ("get", f"/reviews/{review.id}", None),
        ("post", f"/reviews/{review.id}/move", {"starts_at": "01/12/2030 10:00"}),
        ("post", f"/reviews/{review.id}/cancel", {}),
        ("post", f"/reviews/{review.id}/ask/{guardian.id}", {}),
        ("get", f"/reviews/{review.id}/contribution/print", None),
        ("get", f"/simulator/guardians/{guardian.id}/messages", None),
        ("post", "/simulator/send", {"guardian": str(guardian.id), "channel": "sms", "body": "Hi"}),
    ]
    for method, url, data in attempts:
        response = getattr(client, method)(url, data=data)
        assert response.status_code == 404, (url, response.status_code)
        assert "Olena" not in response.get_data(as_text=True)
    db.expire_all()
    assert stored(db, guardian_id=guardian.id) == []
    assert db.get(Review, review.id).status == "scheduled"
    assert db.get(Review, review.id).starts_at > utcnow() + timedelta(days=9)


def test_posts_without_the_csrf_token_are_refused(make_app, app, db, family):
    school, guardian = family
    protected = make_app(WTF_CSRF_ENABLED=True)
    client = protected.test_client()
    staff = make_staff(db, school)
    db.commit()
    assert client.post("/login", data={"email": staff.email, "password": STAFF_PASSWORD}).status_code == 400
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True))[1]
    login = {"email": staff.email, "password": STAFF_PASSWORD}
    assert client.post("/login", data={**login, "csrf_token": token}).status_code == 302
    conversation = db.exec(select(Conversation).where(Conversation.guardian_id == guardian.id)).one()
    reply = {"body": "See you on Monday.", "previewed": "See you on Monday."}
    assert client.post(f"/conversations/{conversation.id}/send", data=reply).status_code == 400
    assert client.post("/logout").status_code == 400
    assert stored(db, direction="outbound") == []
    page = client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]  # signing in started a new session
    preview = client.post(f"/conversations/{conversation.id}/preview", data={**reply, "csrf_token": token})
    page = preview.get_data(as_text=True)
    approved = re.search(r'name="approved" value="([0-9a-f]+)"', page)[1]
    send_key = re.search(r'name="send_key" value="([0-9a-f]+)"', page)[1]
    accepted = client.post(f"/conversations/{conversation.id}/send",
                           data={**reply, "approved": approved, "send_key": send_key, "csrf_token": token})
    assert accepted.status_code in (200, 302, 303)
    assert len(stored(db, direction="outbound")) == 1  # the token was the only difference
