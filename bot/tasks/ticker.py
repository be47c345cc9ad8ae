"""The periodic sweep: queued once per interval however many workers run, and run by one at a time.

Every worker runs `tick_forever`; a lease in Redis lets only the first of them in each interval
queue the sweep, and `exclusive` keeps a slow sweep from overlapping the next one.
"""
from __future__ import annotations

import logging
import threading
import uuid
from contextlib import contextmanager
from typing import Iterator

import redis
from rq import Queue

from bot.tasks.queue import enqueue_job

log = logging.getLogger(__name__)

LEASE_KEY = "sendbot:sweep:lease"
RUNNING_KEY = "sendbot:sweep:running"
# A sweep still "running" after this long died with its worker: another may start.
RUNNING_TTL_SECONDS = 600


def tick(queue: Queue, interval_seconds: float) -> bool:
    """Queue the sweep unless another worker already did in this interval; True if this one did."""
    try:
        if not queue.connection.set(LEASE_KEY, uuid.uuid4().hex, nx=True, ex=max(1, int(interval_seconds))):
            return False
    except redis.exceptions.RedisError as error:
        log.warning("sweep not queued: %s", type(error).__name__)
        return False
    return enqueue_job(queue, "sweep", ())


def tick_forever(queue: Queue, interval_seconds: float, stop: threading.Event) -> None:
    """Call `tick` every interval until `stop` is set (a worker's background thread)."""
    while not stop.wait(interval_seconds):
        tick(queue, interval_seconds)


@contextmanager
def exclusive(connection: redis.Redis, key: str = RUNNING_KEY, ttl_seconds: int = RUNNING_TTL_SECONDS) -> Iterator[bool]:
    """Yield True if this process holds `key` (and release it after), False if another does."""
    token = uuid.uuid4().hex
    held = bool(connection.set(key, token, nx=True, ex=ttl_seconds))
    try:
        yield held
    finally:
        if held and connection.get(key) == token.encode():
            connection.delete(key)
