"""Password-guessing protection: growing delays, per account and address, kept in Redis.

Each failure from an address for an account makes the next attempt from there wait longer
(after a few free tries: 1 s, 2 s, 4 s … up to 5 minutes); failures for an account from
everywhere together slow it too, later. Nobody is locked out: once the wait is over, the right
password works, and one colleague's typos never block another behind the school's router.
Keys hold hashes, never the email or the address. If Redis is unreachable the login still
works (the password check is the real gate); the delays only slow guessing down.
"""
from __future__ import annotations

import hashlib
import logging
import time

import redis

from bot.tasks import get_redis

log = logging.getLogger(__name__)

WINDOW_SECONDS = 15 * 60
MAX_DELAY_SECONDS = 300
# Failures allowed before delays start: from one address, and for the account from anywhere.
FREE_FAILURES_FROM_ADDRESS = 3
FREE_FAILURES_FOR_ACCOUNT = 10
# Failed sign-ins audited per account and address in a window; a flood adds no more rows.
AUDITED_FAILURES = 5
_PREFIX = "inbox:login-failures"


def _digest(value: str) -> str:
    return hashlib.sha256(value.strip().lower().encode("utf-8")).hexdigest()[:32]


def _keys(email: str, address: str | None) -> dict[str, int]:
    """Each counter's key and the failures it allows before delays start."""
    account = _digest(email)
    return {f"{_PREFIX}:pair:{account}:{_digest(address or 'unknown')}": FREE_FAILURES_FROM_ADDRESS,
            f"{_PREFIX}:account:{account}": FREE_FAILURES_FOR_ACCOUNT}


def delay_after(failures: int, free: int) -> int:
    """Seconds to wait after `failures` failures when `free` are allowed: 0, then 1, 2, 4 … up to the maximum."""
    return 0 if failures < free else min(2 ** (failures - free), MAX_DELAY_SECONDS)


def wait_seconds(email: str, address: str | None) -> int:
    """How long this account must wait before trying again from this address (0: try now)."""
    keys = _keys(email, address)
    try:
        pipe = get_redis().pipeline()
        for key in keys:
            pipe.hmget(key, "failures", "last")
        found = pipe.execute()
    except redis.exceptions.RedisError as error:
        log.warning("login throttle unavailable: %s", type(error).__name__)
        return 0
    now, waits = time.time(), [0]
    for (failures, last), free in zip(found, keys.values()):
        if failures is not None and last is not None:
            waits.append(int(float(last) + delay_after(int(failures), free) - now + 0.999))
    return max(waits)


def record_failure(email: str, address: str | None) -> int:
    """Count one failed sign-in; the failures from this address for this account in the window."""
    try:
        pipe = get_redis().pipeline()
        for key in _keys(email, address):
            pipe.hincrby(key, "failures", 1)
            pipe.hset(key, "last", time.time())
            pipe.expire(key, WINDOW_SECONDS)
        return int(pipe.execute()[0])
    except redis.exceptions.RedisError as error:
        log.warning("login throttle unavailable: %s", type(error).__name__)
        return 0


def first_refusal_in_window(email: str, address: str | None) -> bool:
    """True once per window for a throttled account and address (so a flood writes one audit row)."""
    key = f"{_PREFIX}:refused:{_digest(email)}:{_digest(address or 'unknown')}"
    try:
        return bool(get_redis().set(key, 1, nx=True, ex=WINDOW_SECONDS))
    except redis.exceptions.RedisError:
        return False


def clear(email: str, address: str | None) -> None:
    """Forget the failures of an account (from everywhere) after it signs in."""
    try:
        get_redis().delete(*_keys(email, address))
    except redis.exceptions.RedisError as error:
        log.warning("login throttle unavailable: %s", type(error).__name__)
