"""Fixtures: real PostgreSQL and Redis, the app, signed Twilio webhooks, a real RQ worker, Prism.

Services (see DEVELOPERS.md): PostgreSQL at 127.0.0.1:5432 (trust auth, database `test`,
user `postgres`) and Redis at 127.0.0.1:6379. Override with TEST_PG_ADMIN_URL / TEST_REDIS_URL.
"""
from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

# Settings the product reads once, at first import or first call, must be in place before
# anything imports the app: the instance folder and argostranslate's data directories.
_TMP = Path(tempfile.mkdtemp(prefix="sendbot-tests-"))
os.environ["INSTANCE_PATH"] = str(_TMP / "instance")
from tests.support.argos_tiny import configure_argos_env  # noqa: E402

configure_argos_env(_TMP / "argos")

import psycopg  # noqa: E402
import pytest  # noqa: E402
import redis  # noqa: E402
from rq import SimpleWorker  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlmodel import Session, SQLModel  # noqa: E402

from app import create_app  # noqa: E402
from bot.signature import sign  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from tests.support.prism import RecordingProxy, start_prism  # noqa: E402

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


@pytest.fixture(scope="session", autouse=True)
def release_redis_database():
    """Give this run's Redis database back when the run ends."""
    yield
    connection = redis.Redis.from_url(REDIS_URL)
    if connection.get("sendbot-tests:owner") == RUN_ID.encode():
        connection.flushdb()


@pytest.fixture(scope="session")
def pg_url():
    """A fresh PostgreSQL database for this run, migrated with Alembic."""
    name = f"sendbot_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    yield url
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def prism(tmp_path_factory):
    """Prism serving Twilio's spec, behind a recording proxy (one per test run)."""
    process, url = start_prism(tmp_path_factory.mktemp("prism") / "prism.log")
    proxy = RecordingProxy(url).start()
    yield proxy
    proxy.stop()
    process.terminate()
    process.wait(timeout=10)


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


_apps: dict = {}


@pytest.fixture(scope="session")
def make_app(pg_url):
    """Build (once per configuration) an app on the test database; reused across tests."""
    def factory(**overrides):
        key = tuple(sorted(overrides.items()))
        if key not in _apps:
            _apps[key] = create_app(base_config(pg_url, **overrides))
        return _apps[key]

    yield factory
    for built in _apps.values():
        built.extensions["translator"].close()  # stops Apertium pipelines
        built.extensions["db_engine"].dispose()
    _apps.clear()


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


@pytest.fixture
def app(make_app):
    """The app on PostgreSQL + Redis with the simulator channel, state reset."""
    built = make_app()
    reset_state(built)
    return built


@pytest.fixture
def twilio_app(make_app, prism):
    """The app with the Twilio channel pointed at Prism (through the recording proxy)."""
    built = make_app(CHANNEL="twilio", TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_API_BASE_URL=prism.url)
    reset_state(built)
    prism.requests.clear()
    return built


@pytest.fixture
def db(app):
    """A session on the app's database (commit what you create)."""
    with Session(app.extensions["db_engine"], expire_on_commit=False) as session:
        yield session


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


def redis_client() -> redis.Redis:
    """A plain connection to the test Redis database."""
    return redis.Redis.from_url(REDIS_URL)
