"""Fixtures: real PostgreSQL and Redis, the app, Prism. Shared helpers live in tests/support/.

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
from sqlmodel import Session  # noqa: E402

from app import create_app  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from tests.support.prism import RecordingProxy, start_prism  # noqa: E402
from tests.support.services import (ACCOUNT_SID, PG_ADMIN_URL, REDIS_URL, RUN_ID, base_config,  # noqa: E402
                                    reset_state)


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
