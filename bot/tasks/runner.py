"""Running a worker that outlives Redis: an outage (or Redis not up yet at start) is waited out
with a growing pause, then the worker carries on by itself; the rows it could not finish are
found again by the sweep.
"""
from __future__ import annotations

import logging
import threading

import redis
from rq import Queue, SimpleWorker

log = logging.getLogger(__name__)

MAX_PAUSE_SECONDS = 30


def run_worker(queue: Queue, stop: threading.Event | None = None, pause: float = 1.0) -> None:
    """Run an RQ worker (with the scheduler) until it stops normally or `stop` is set.

    RQ's worker loop raises when its Redis connection breaks; here that means: pause, then start
    a fresh worker on the same connection (redis-py reconnects by itself once Redis is back).
    """
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            queue.connection.ping()
            # Maintenance every minute (not RQ's default ten): if the worker holding the scheduler
            # lock dies, another takes over retries and quiet-hours holds within a minute or two.
            SimpleWorker([queue], connection=queue.connection, maintenance_interval=60).work(with_scheduler=True)
            return
        except redis.exceptions.RedisError as error:
            log.warning("Redis is unavailable (%s): the worker waits %.0f s and starts again",
                        type(error).__name__, pause)
            stop.wait(pause)
            pause = min(pause * 2, MAX_PAUSE_SECONDS)
