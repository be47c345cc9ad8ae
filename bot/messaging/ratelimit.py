"""A send-rate limit per sender number, shared by every worker through Redis.

Twilio takes about 10 messages a second from a UK long code; sent faster, messages pile up
in the sender's queue (error 30001 once it holds 10 hours) or the API answers 429/20429. Every
worker process asks Redis for a slot before each send, so the limit holds however many
workers run.

Why not RQ's own `RateLimit` (rq 3, `Queue.enqueue(rate_limit=RateLimit(key, concurrency))`):
it caps how many jobs with a key are queued or running at once. It has no notion of time:
with concurrency=1 a worker ran 40 instant jobs at 60–95 a second in our check (and
tests/test_ratelimit.py shows it). A per-second rate would need each job to sleep while holding
its slot, so a slow Twilio call would lower the rate and a fast one would not be limited.

The algorithm is GCRA, the token bucket written as one number: the "theoretical arrival time"
(TAT) of the next free slot. `rate_per_second` refills the bucket; `burst` is its size. One
Lua script reads Redis's clock (one clock for all hosts), and either reserves the next slot,
telling the caller how long to wait before sending, or refuses without reserving when that
wait would exceed the caller's limit. Callers queue in line instead of polling, so waiting
costs one Redis call and one sleep, and the rate holds exactly. A caller that reserves and
then dies leaves one slot unused: the rate can only fall short, never overshoot.

Use in a delivery job, before claiming the message:

    grant = acquire(redis, sender_key(sender), rate.rate_per_second, rate.burst, timeout_s=2)
    if not grant:   # the sender is busy for longer: leave the row in the outbox and
        queue.enqueue_in(timedelta(seconds=grant.wait_time), deliver_message, message_id)
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Mapping

import redis as redis_lib

DEFAULT_RATE_PER_SECOND = 10.0
# One slot: messages leave evenly spaced rather than in bursts Twilio would queue anyway.
DEFAULT_BURST = 1
KEY_PREFIX = "sendbot:rate:"

# KEYS[1]: the limit's key, holding the TAT in microseconds.
# ARGV: interval_us, tolerance_us, max_wait_us, now_us ("" = Redis's clock).
# Returns {granted (0/1), wait_us}: granted means "send after wait_us".
_RESERVE_SCRIPT = """
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local now
if ARGV[4] == '' then
    local clock = redis.call('TIME')
    now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
else
    now = tonumber(ARGV[4])
end
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then
    tat = now
end
local wait = tat - tolerance - now
if wait < 0 then
    wait = 0
end
if wait > max_wait then
    return {0, wait}
end
local next_tat = tat + interval
local ttl_ms = math.ceil((next_tat - now) / 1000) + 1000
redis.call('SET', KEYS[1], string.format('%d', next_tat), 'PX', ttl_ms)
return {1, wait}
"""


@dataclass(frozen=True)
class Grant:
    """The limiter's answer; true when granted.

    Granted: `wait_time` is how long the caller must wait before sending (`acquire` has
    already waited it). Refused: `wait_time` is how long until the sender would have a slot.
    """

    granted: bool
    wait_time: float

    def __bool__(self) -> bool:
        return self.granted


@dataclass(frozen=True)
class SendRate:
    """A sender's limit: messages per second and burst size."""

    rate_per_second: float = DEFAULT_RATE_PER_SECOND
    burst: int = DEFAULT_BURST

    @classmethod
    def from_config(cls, config: Mapping) -> SendRate:
        """Read SEND_RATE_PER_SECOND and SEND_RATE_BURST from app config, else the defaults."""
        rate = float(config.get("SEND_RATE_PER_SECOND") or DEFAULT_RATE_PER_SECOND)
        burst = int(config.get("SEND_RATE_BURST") or DEFAULT_BURST)
        _check_limit(rate, burst)
        return cls(rate, burst)


def sender_key(sender: str) -> str:
    """The Redis key for a sender number; SMS and WhatsApp from one number share a limit."""
    # Sharing is the cautious reading of Twilio's per-sender figure; it costs a school little.
    return KEY_PREFIX + sender.removeprefix("whatsapp:")


def _check_limit(rate_per_second: float, burst: int) -> None:
    if not (rate_per_second > 0 and math.isfinite(rate_per_second)):
        raise ValueError(f"rate_per_second must be a positive number, got {rate_per_second!r}")
    if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
        raise ValueError(f"burst must be a whole number of at least 1, got {burst!r}")


def reserve(redis: redis_lib.Redis, key: str, rate_per_second: float, burst: int = DEFAULT_BURST,
            max_wait_s: float = 0.0, now_s: float | None = None) -> Grant:
    """Atomically reserve the sender's next slot if it is at most `max_wait_s` away.

    `now_s` (Unix seconds) replaces Redis's clock, for tests only: real callers share the
    Redis clock so that workers on different hosts agree.
    """
    _check_limit(rate_per_second, burst)
    if max_wait_s < 0:
        raise ValueError("max_wait_s must not be negative")
    interval_us = max(1, round(1_000_000 / rate_per_second))
    args = [interval_us, (burst - 1) * interval_us, round(max_wait_s * 1_000_000),
            "" if now_s is None else round(now_s * 1_000_000)]
    granted, wait_us = redis.register_script(_RESERVE_SCRIPT)(keys=[key], args=args)
    return Grant(bool(granted), int(wait_us) / 1_000_000)


def acquire(redis: redis_lib.Redis, key: str, rate_per_second: float = DEFAULT_RATE_PER_SECOND,
            burst: int = DEFAULT_BURST, timeout_s: float = 2.0,
            sleep: Callable[[float], None] = time.sleep) -> Grant:
    """Wait for a slot for up to `timeout_s`; refused means try later, after `wait_time`."""
    grant = reserve(redis, key, rate_per_second, burst, max_wait_s=timeout_s)
    if grant and grant.wait_time > 0:
        sleep(grant.wait_time)  # our place in the line is held: no polling
    return grant
