"""Helpers every test module shares: the test services, signed Twilio webhooks, a real RQ worker.

Services (see DEVELOPERS.md): PostgreSQL at 127.0.0.1:5432 (trust auth, database `test`,
user `postgres`) and Redis at 127.0.0.1:6379. Override with TEST_PG_ADMIN_URL / TEST_REDIS_URL.
"""
from __future__ import annotations

import os
import uuid

import redis
from rq import SimpleWorker
from sqlalchemy import text
from sqlmodel import SQLModel, select

from bot.channels.twilio.signature import sign

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_SERVER = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
RUN_ID = uuid.uuid4().hex


def _claim_redis_database() -> str:
    """A Redis database number no other test run is using (runs flush theirs between tests)."""
    for number in range(1, 13):  # 13 and 14 belong to the rate-limit and translation tests
        claimed = redis.Redis.from_url(f"{REDIS_SERVER}/{number}").set("sendbot-tests:owner", RUN_ID,
                                                                      nx=True, ex=6 * 3600)
        if claimed:
            return f"{REDIS_SERVER}/{number}"
    raise RuntimeError("every Redis test database 1-12 is in use by another test run")


REDIS_URL = _claim_redis_database()
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
PUBLIC_BASE_URL = "https://bot.school.example"
ACCOUNT_SID = "AC" + "a" * 32


def base_config(database_url: str, **overrides) -> dict:
    """Test configuration: real services, a known Twilio token and public URL."""
    config = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "CHANNEL": "simulator",
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "TRANSLATION_ENGINE": "apertium",
        "WTF_CSRF_ENABLED": False,
        "SESSION_COOKIE_SECURE": False,
    }
    config.update(overrides)
    return config


def reset_state(app) -> None:
    """Empty every table and the test Redis database."""
    engine = app.extensions["db_engine"]
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(SQLModel.metadata.sorted_tables):
                conn.execute(table.delete())
    connection = app.extensions["redis"]
    connection.flushdb()
    connection.set("sendbot-tests:owner", RUN_ID, ex=6 * 3600)  # keep this run's claim


def post_signed(app, path: str, params: dict, token: str = AUTH_TOKEN, signature: str | None = None):
    """POST form params to the app, signed exactly as Twilio signs them."""
    signature = signature if signature is not None else sign(PUBLIC_BASE_URL + path, params, token)
    headers = {"X-Twilio-Signature": signature} if signature else {}
    return app.test_client().post(path, data=params, headers=headers, base_url=PUBLIC_BASE_URL)


def run_jobs(app) -> None:
    """Run every queued job with a real RQ worker (burst mode) inside the app context."""
    queue = app.extensions["queue"]
    with app.app_context():
        SimpleWorker([queue], connection=queue.connection).work(burst=True)


def act_on_received(app) -> None:
    """Run the per-guardian step for every stored, unprocessed message, as the worker's first job does
    (keywords, language, flow answers), leaving the jobs it queues (translations, replies) queued."""
    from bot.conversation.turn import process_guardian
    from storage.db import session_scope
    from storage.models import Message

    with app.app_context():
        with session_scope() as session:
            guardian_ids = session.exec(select(Message.guardian_id).distinct().where(
                Message.direction == "inbound", Message.status == "received")).all()
        for guardian_id in guardian_ids:
            process_guardian(guardian_id)


def redis_client() -> redis.Redis:
    """A plain connection to the test Redis database."""
    return redis.Redis.from_url(REDIS_URL)
