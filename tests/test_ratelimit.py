"""The per-sender send-rate limit, against real Redis (database 13, flushed around each test).

Most tests pass the limiter an explicit clock; the two timing tests sleep for real, and the
shared-limit test measures the rate two threads and two processes achieve together.
"""
import multiprocessing
import os
import threading
import time

import pytest
import redis
from rq import Queue, RateLimit, SimpleWorker

from bot.messaging.ratelimit import (
    DEFAULT_RATE_PER_SECOND, KEY_PREFIX, Grant, SendRate, acquire, reserve, sender_key,
)

REDIS_HOST, REDIS_PORT, REDIS_DB = "127.0.0.1", 6379, 13
T0 = 1_800_000_000.0  # an explicit clock, in Unix seconds


@pytest.fixture
def r():
    """A clean Redis database 13."""
    connection = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB)
    connection.flushdb()
    yield connection
    connection.flushdb()
    connection.close()


def test_burst_then_evenly_spaced_slots(r):
    waits = [reserve(r, "k", 10, burst=3, max_wait_s=10, now_s=T0).wait_time for _ in range(6)]
    assert waits == pytest.approx([0, 0, 0, 0.1, 0.2, 0.3])


def test_refusal_reserves_nothing_and_says_how_long_to_wait(r):
    assert reserve(r, "k", 10, now_s=T0) == Grant(True, 0.0)
    refused = reserve(r, "k", 10, max_wait_s=0.05, now_s=T0)
    assert not refused and refused.wait_time == pytest.approx(0.1)
    again = reserve(r, "k", 10, max_wait_s=0.05, now_s=T0 + 0.02)
    assert not again and again.wait_time == pytest.approx(0.08)  # the refusal took no slot
    assert reserve(r, "k", 10, now_s=T0 + 0.1) == Grant(True, 0.0)


def test_an_idle_sender_refills_to_its_burst_and_no_further(r):
    for _ in range(4):
        reserve(r, "k", 10, burst=4, max_wait_s=10, now_s=T0)
    later = T0 + 60
    grants = [reserve(r, "k", 10, burst=4, now_s=later) for _ in range(5)]
    assert [bool(g) for g in grants] == [True, True, True, True, False]


def test_senders_are_limited_separately(r):
    assert reserve(r, sender_key("+447700900001"), 1, now_s=T0)
    assert not reserve(r, sender_key("+447700900001"), 1, now_s=T0)
    assert reserve(r, sender_key("+447700900002"), 1, now_s=T0)


def test_whatsapp_and_sms_from_one_number_share_a_limit():
    assert sender_key("whatsapp:+447700900001") == sender_key("+447700900001") == KEY_PREFIX + "+447700900001"


def test_keys_expire_once_the_sender_is_idle(r):
    reserve(r, "k", 10, burst=1, now_s=time.time())
    ttl_ms = r.pttl("k")
    assert 0 < ttl_ms <= 1100  # the next slot (100 ms) plus a second of slack


def test_bad_limits_are_refused(r):
    with pytest.raises(ValueError, match="rate_per_second"):
        reserve(r, "k", 0)
    with pytest.raises(ValueError, match="burst"):
        reserve(r, "k", 10, burst=0)
    with pytest.raises(ValueError, match="max_wait_s"):
        reserve(r, "k", 10, max_wait_s=-1)


def test_send_rate_from_config():
    assert SendRate.from_config({}) == SendRate(DEFAULT_RATE_PER_SECOND, 1)
    assert SendRate.from_config({"SEND_RATE_PER_SECOND": "1", "SEND_RATE_BURST": "2"}) == SendRate(1.0, 2)
    with pytest.raises(ValueError, match="rate_per_second"):
        SendRate.from_config({"SEND_RATE_PER_SECOND": "-3"})


def test_acquire_waits_its_turn_on_the_redis_clock(r):
    first = acquire(r, "k", rate_per_second=5, timeout_s=1)
    between = time.monotonic()
    second = acquire(r, "k", rate_per_second=5, timeout_s=1)
    finished = time.monotonic()
    assert first and first.wait_time == 0
    assert second and 0.15 < second.wait_time <= 0.2
    assert finished - between >= 0.15  # it really waited for its slot


def test_acquire_refuses_when_the_wait_exceeds_the_timeout(r):
    assert acquire(r, "k", rate_per_second=1, timeout_s=0)
    started = time.monotonic()
    refused = acquire(r, "k", rate_per_second=1, timeout_s=0.2)
    assert not refused and 0.5 < refused.wait_time <= 1.0
    assert time.monotonic() - started < 0.5  # refused at once, not after waiting


# --- one limit shared by threads and processes --------------------------------------------------

RATE, BURST, RUN_SECONDS = DEFAULT_RATE_PER_SECOND, 1, 3.0


def _send_until(key: str, start_at: float, stop_at: float) -> list[float]:
    """Send (record the time) as often as the shared limit allows between two instants."""
    connection = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB)
    time.sleep(max(0.0, start_at - time.time()))
    sent = []
    while time.time() < stop_at:
        if acquire(connection, key, RATE, BURST, timeout_s=1.0):
            sent.append(time.time())
    connection.close()
    return sent


def _process_main(key: str, ready, go, results) -> None:
    redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB).ping()
    ready.put(os.getpid())
    start_at, stop_at = go.get(timeout=60)
    results.put(_send_until(key, start_at, stop_at))


def test_two_threads_and_two_processes_share_one_rate(r):
    key = sender_key("+447700900999")
    context = multiprocessing.get_context("spawn")
    ready, go, results = context.Queue(), context.Queue(), context.Queue()
    processes = [context.Process(target=_process_main, args=(key, ready, go, results)) for _ in range(2)]
    for process in processes:
        process.start()
    for _ in processes:
        ready.get(timeout=60)  # spawned interpreters are up; start everyone together
    start_at = time.time() + 0.3
    stop_at = start_at + RUN_SECONDS
    for _ in processes:
        go.put((start_at, stop_at))
    thread_results: list[list[float]] = []
    threads = [threading.Thread(target=lambda: thread_results.append(_send_until(key, start_at, stop_at)))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    per_worker = [results.get(timeout=60) for _ in processes]
    for thread in threads:
        thread.join(timeout=60)
    for process in processes:
        process.join(timeout=60)
    per_worker += thread_results

    assert len(per_worker) == 4
    in_window = sorted(t for sent in per_worker for t in sent if start_at <= t <= stop_at)
    allowed = BURST + RATE * RUN_SECONDS
    achieved = (len(in_window) - BURST) / RUN_SECONDS
    # The upper bound is the guarantee: never faster than configured (10% for timer jitter).
    assert len(in_window) <= allowed * 1.10, f"{achieved:.2f}/s against a limit of {RATE}/s"
    # The lower bound only shows slots are not wasted; generous for a loaded 2-core machine.
    assert len(in_window) >= RATE * RUN_SECONDS * 0.75, f"only {achieved:.2f}/s"
    assert sum(1 for sent in per_worker if sent) >= 3  # the line is shared, not one winner


# --- why not RQ's RateLimit ---------------------------------------------------------------------

def stamp() -> float:
    """An RQ job that records when it ran."""
    return time.time()


def test_rq_rate_limit_caps_concurrency_not_messages_per_second(r):
    queue = Queue("ratelimit-check", connection=r)
    jobs = [queue.enqueue(stamp, rate_limit=RateLimit("sender", concurrency=1)) for _ in range(30)]
    assert queue.count == 1  # one job admitted at a time: the rest wait in RQ's registry
    SimpleWorker([queue], connection=r).work(burst=True)
    ran_at = sorted(job.latest_result().return_value for job in jobs)
    assert len(ran_at) == 30
    per_second = (len(ran_at) - 1) / (ran_at[-1] - ran_at[0])
    # Far above a 10/s sender limit: concurrency=1 alone does not pace sends in time.
    assert per_second > 2 * DEFAULT_RATE_PER_SECOND
