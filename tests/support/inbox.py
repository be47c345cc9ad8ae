"""Shared helpers and fixtures for the inbox, simulator and browser tests.

`world` builds two schools (so every test can check one cannot see the other), each with a
SENDCo, and a Spanish-speaking parent at the first. `login` signs a test client in;
`parent_texts` posts a signed inbound webhook exactly as Twilio would.
"""
from __future__ import annotations

import re
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from html import unescape

import pytest
from sqlmodel import Session, select
from werkzeug.serving import make_server

from storage.models import AuditEvent, Conversation, Guardian, Message, School, StaffUser, utcnow
from tests.support.services import act_on_received, post_signed
from tests.support.factories import STAFF_PASSWORD, make_guardian, make_school, make_staff

SCHOOL_A_NUMBER = "+447700900700"
SCHOOL_B_NUMBER = "+447700900800"
SPANISH_PARENT = "+447700900701"
OTHER_PARENT = "+447700900801"


@dataclass
class World:
    """Two schools, their staff, and one family at each."""

    school: School
    staff: StaffUser
    parent: Guardian
    other_school: School
    other_staff: StaffUser
    other_parent: Guardian


def build_world(db: Session) -> World:
    """Create the two schools and commit."""
    school = make_school(db, name="Riverside Test Primary", phone=SCHOOL_A_NUMBER)
    staff = make_staff(db, school, email="sendco@riverside.example")
    parent = make_guardian(db, school, SPANISH_PARENT, name="María García", language="es", child="Lucas García")
    other = make_school(db, name="Hillside Test Academy", phone=SCHOOL_B_NUMBER)
    other_staff = make_staff(db, other, email="sendco@hillside.example")
    other_parent = make_guardian(db, other, OTHER_PARENT, name="Olena Shevchenko", language="uk", child="Ivan")
    db.commit()
    return World(school, staff, parent, other, other_staff, other_parent)


@pytest.fixture
def world(db) -> World:
    """Two schools with a SENDCo and a family each (state already reset by `app`)."""
    return build_world(db)


@pytest.fixture
def client(app):
    """A test client of the default app."""
    return app.test_client()


@pytest.fixture
def staff_client(client, world):
    """A test client signed in as the first school's SENDCo."""
    response = login(client, world.staff.email)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def login(client, email: str, password: str = STAFF_PASSWORD, **extra):
    """POST the login form."""
    return client.post("/login", data={"email": email, "password": password, **extra})


def twilio_form(body: str, sender: str, to: str, channel: str = "sms") -> dict[str, str]:
    """An inbound message form as Twilio posts it."""
    prefix = "whatsapp:" if channel == "whatsapp" else ""
    return {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": "AC" + "a" * 32, "From": prefix + sender,
            "To": prefix + to, "Body": body, "NumMedia": "0"}


def parent_texts(app, body: str, sender: str = SPANISH_PARENT, to: str = SCHOOL_A_NUMBER, channel: str = "sms"):
    """A parent's text arriving through the signed webhook (asserts Twilio got a 200), acted on as the
    worker's first job does; the translation and any reply stay queued for `run_jobs`."""
    response = post_signed(app, "/twilio/messages", twilio_form(body, sender, to, channel))
    assert response.status_code == 200, response.get_data(as_text=True)
    act_on_received(app)
    return response


def add_message(db: Session, guardian: Guardian, body: str, *, when: datetime | None = None, **fields) -> Message:
    """Store a message directly (for states the webhook cannot produce on demand)."""
    conversation = db.exec(select(Conversation).where(Conversation.guardian_id == guardian.id)).one()
    values = {"direction": "inbound", "channel": "sms", "status": "received", **fields}
    message = Message(school_id=guardian.school_id, conversation_id=conversation.id, guardian_id=guardian.id,
                      body=body, created_at=when or utcnow(), **values)
    db.add(message)
    conversation.last_message_at = max(filter(None, [conversation.last_message_at, message.created_at]))
    db.commit()
    return message


def conversation_of(db: Session, guardian: Guardian) -> Conversation:
    """A guardian's conversation (fresh from the database)."""
    db.expire_all()
    return db.exec(select(Conversation).where(Conversation.guardian_id == guardian.id)).one()


def thread_url(db: Session, guardian: Guardian) -> str:
    """The inbox address of a guardian's conversation."""
    return f"/conversations/{conversation_of(db, guardian).id}"


def reply_form(english: str, previewed: str | None = None) -> dict[str, str]:
    """The reply form with the English of a preview but no approved rendering (refused before any send)."""
    return {"body": english, "previewed": english if previewed is None else previewed}


def previewed_form(client, conversation_url: str, english: str, previewed: str | None = None) -> dict[str, str]:
    """The reply form as the browser posts it after staff previewed `previewed` (default: the same text):
    the preview page's own hidden fields, so the send carries the rendering staff saw."""
    shown = previewed if previewed is not None else english
    page = client.post(conversation_url + "/preview", data={"body": shown}).get_data(as_text=True)
    approved = re.search(r'name="approved" value="([0-9a-f]+)"', page)
    send_key = re.search(r'name="send_key" value="([0-9a-f]+)"', page)
    assert approved and send_key, "the preview page carries the approval of what it shows and a one-time key"
    return {"body": english, "previewed": shown, "approved": approved[1], "send_key": send_key[1]}


def messages_of(db: Session, guardian: Guardian, direction: str | None = None) -> list[Message]:
    """A guardian's messages, oldest first (fresh from the database)."""
    db.expire_all()
    query = select(Message).where(Message.guardian_id == guardian.id)
    if direction:
        query = query.where(Message.direction == direction)
    return list(db.exec(query.order_by(Message.id)).all())


def audit_actions(db: Session, school: School) -> list[tuple[str, str | None]]:
    """(action, target) of a school's audit events, oldest first."""
    db.expire_all()
    events = db.exec(select(AuditEvent).where(AuditEvent.school_id == school.id).order_by(AuditEvent.id)).all()
    return [(event.action, event.target) for event in events]


def text_of(html: str) -> str:
    """Page text with tags removed, entities decoded and whitespace collapsed (for assertions)."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


class LiveServer:
    """The app served by werkzeug in a thread on 127.0.0.1 and a free port.

    The server is bound before the app exists, so the app can be built knowing its own
    URL (PUBLIC_BASE_URL, which the simulator signs against).
    """

    def __init__(self):
        self.app = None
        self.server = make_server("127.0.0.1", 0, self._dispatch, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="live-server", daemon=True)

    def _dispatch(self, environ, start_response):
        return self.app(environ, start_response)

    def start(self, app) -> "LiveServer":
        """Serve `app` until stop()."""
        self.app = app
        self.thread.start()
        return self

    def stop(self) -> None:
        """Shut the server down and close its socket."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
