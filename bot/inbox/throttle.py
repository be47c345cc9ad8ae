"""Password-guessing protection: a failure counter per email and per client address in Redis.

Keys hold a hash, never the email or address itself. If Redis is unreachable the login
still works (the password check is the real gate); the counter only slows guessing down.
"""
from __future__ import annotations

import hashlib
import logging

import redis

from bot.tasks import get_redis

log = logging.getLogger(__name__)

WINDOW_SECONDS = 15 * 60
MAX_FAILURES_PER_EMAIL = 5
# A whole school's staff can share one address behind its router, so allow more there.
MAX_FAILURES_PER_ADDRESS = 30
_PREFIX = "inbox:login-failures"


def _digest(value: str) -> str:
    return hashlib.sha256(value.strip().lower().encode("utf-8")).hexdigest()[:32]


def _limits(email: str, address: str | None) -> dict[str, int]:
    return {
        f"{_PREFIX}:email:{_digest(email)}": MAX_FAILURES_PER_EMAIL,
        f"{_PREFIX}:addr:{_digest(address or 'unknown')}": MAX_FAILURES_PER_ADDRESS,
    }


def is_locked(email: str, address: str | None) -> bool:
    """True when this email or this address has failed too often recently."""
    limits = _limits(email, address)
    try:
        counts = get_redis().mget(list(limits))
    except redis.exceptions.RedisError as error:
        log.warning("login throttle unavailable: %s", type(error).__name__)
        return False
    return any(int(count or 0) >= limit for count, limit in zip(counts, limits.values()))


def record_failure(email: str, address: str | None) -> None:
    """Count one failed login; each failure restarts the 15-minute window."""
    try:
        pipe = get_redis().pipeline()
        for key in _limits(email, address):
            pipe.incr(key)
            pipe.expire(key, WINDOW_SECONDS)
        pipe.execute()
    except redis.exceptions.RedisError as error:
        log.warning("login throttle unavailable: %s", type(error).__name__)


def clear(email: str) -> None:
    """Forget an email's failures after it logs in successfully."""
    key = next(iter(_limits(email, None)))
    try:
        get_redis().delete(key)
    except redis.exceptions.RedisError as error:
        log.warning("login throttle unavailable: %s", type(error).__name__)
