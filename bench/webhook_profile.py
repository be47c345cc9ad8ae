"""Where one inbound webhook's time goes: SQL statements, Redis round trips, time per part.

Run:  .venv/bin/python bench/webhook_profile.py [--requests 300] [--write]

The real `create_app()` on PostgreSQL (a throwaway database on the shared server) and Redis
(db 15), driven in-process through Flask's test client (no HTTP server, so the parts add up to
the request). Each request is a signed, Twilio-shaped inbound message with a unique MessageSid
from one of the seeded guardians. Counted per request: SQL statements (an engine event), Redis
round trips (writes to a Redis socket: a pipeline is one), and the time spent in each part:
signature check, form parsing, storing (the transaction, commit included), queueing the job
after commit. --write replaces the `### Where the time goes` block of the `## Inbound webhook`
section of docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import AUTH_TOKEN, replace_subsection, scratch_database, spare_redis  # noqa: E402
from bench.webhook import CEILING_PATH, REAL_PATH, SECTION, RequestMaker, seed  # noqa: E402

SUBSECTION = "### Where the time goes"


class Meter:
    """Counts and timings for the request in flight."""

    def __init__(self):
        self.sql = self.redis = 0
        self.parts: dict[str, float] = defaultdict(float)

    def reset(self) -> None:
        self.sql = self.redis = 0
        self.parts.clear()

    def timed(self, part: str, function):
        def wrapper(*args, **kwargs):
            began = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.parts[part] += time.perf_counter() - began
        return wrapper


@contextmanager
def instrumented(app, meter: Meter):
    """Count SQL and Redis traffic and time the webhook's parts, for the duration of the block."""
    import redis.connection
    from sqlalchemy import event

    from bot.channels.twilio import webhooks
    from bot.tasks import deferred

    engine = app.extensions["db_engine"]

    def count_sql(*_args):
        meter.sql += 1

    real_send = redis.connection.AbstractConnection.send_packed_command

    def count_redis(connection, command, check_health=True):
        meter.redis += 1
        return real_send(connection, command, check_health)

    originals = {(webhooks, "is_valid_request"): webhooks.is_valid_request,
                 (webhooks, "parse_message_form"): webhooks.parse_message_form,
                 (webhooks, "store_inbound"): webhooks.store_inbound,
                 (deferred, "enqueue_job"): deferred.enqueue_job}
    parts = {"is_valid_request": "signature", "parse_message_form": "parse", "store_inbound": "store + queue",
             "enqueue_job": "queue (after commit)"}
    event.listen(engine, "before_cursor_execute", count_sql)
    redis.connection.AbstractConnection.send_packed_command = count_redis
    for (module, name), function in originals.items():
        setattr(module, name, meter.timed(parts[name], function))
    try:
        yield
    finally:
        for (module, name), function in originals.items():
            setattr(module, name, function)
        redis.connection.AbstractConnection.send_packed_command = real_send
        event.remove(engine, "before_cursor_execute", count_sql)


def profile(app, maker: RequestMaker, requests: int, path: str) -> dict:
    """Post `requests` signed messages; per-request counts and median times per part (ms)."""
    client = app.test_client()
    meter = Meter()
    samples: dict[str, list[float]] = defaultdict(list)
    with instrumented(app, meter):
        for _ in range(requests):
            request = maker.make(path)
            meter.reset()
            began = time.perf_counter()
            response = client.post(request.path, data=request.body, content_type="application/x-www-form-urlencoded",
                                   headers={"X-Twilio-Signature": request.signature}, base_url=maker.base_url)
            samples["request"].append(time.perf_counter() - began)
            assert response.status_code == 200, response.get_data(as_text=True)
            samples["sql"].append(meter.sql)
            samples["redis"].append(meter.redis)
            for part, seconds in meter.parts.items():
                samples[part].append(seconds)
    return {key: statistics.median(values) for key, values in samples.items()}


def report(args, real: dict, bare: dict) -> str:
    """The `### Where the time goes` block."""
    store_only = real["store + queue"] - real["queue (after commit)"]
    rows = [("signature check (HMAC over the form)", real["signature"]),
            ("parse the form", real["parse"]),
            ("store: school + guardian + conversation lookups, INSERT … ON CONFLICT, COMMIT", store_only),
            ("queue the per-guardian job after commit (pointer check, RQ enqueue, pointer)",
             real["queue (after commit)"]),
            ("everything else (Flask, test client, before/after-request hooks)",
             real["request"] - real["signature"] - real["parse"] - real["store + queue"])]
    return "\n".join([
        SUBSECTION, "",
        f"`bench/webhook_profile.py --requests {args.requests}`, {time.strftime('%Y-%m-%d')}: the real `create_app()` "
        "on PostgreSQL and Redis, driven in-process by Flask's test client (no HTTP server), medians over "
        f"{args.requests} signed inbound messages. Per request: **{real['sql']:.0f} SQL statements** (besides "
        f"the pool's liveness ping and the COMMIT) and **{real['redis']:.0f} Redis round trips**; the bare route: "
        f"{bare['sql']:.0f} and {bare['redis']:.0f}.", "",
        "| part | median ms |", "| --- | --- |",
        *[f"| {name} | {1000 * seconds:.2f} |" for name, seconds in rows],
        f"| **whole request** | **{1000 * real['request']:.2f}** (bare route: {1000 * bare['request']:.2f}) |",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--write", action="store_true", help="write the block into docs/benchmarks.md")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="sendbot-bench-profile-"))
    base_url = "https://bot.school.example"
    with scratch_database("bench_profile") as database_url, spare_redis() as redis_url:
        senders = seed(database_url)
        os.environ["INSTANCE_PATH"] = str(workdir / "instance")
        from bench.webhook import bench_app

        os.environ.update({"DATABASE_URL": database_url, "REDIS_URL": redis_url, "PUBLIC_BASE_URL": base_url,
                           "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "CHANNEL": "simulator", "TRANSLATION_ENGINE": "none",
                           "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING"})
        app = bench_app()
        maker = RequestMaker(base_url, senders)
        profile(app, maker, 50, REAL_PATH)  # warm: connections open, code paths loaded
        real = profile(app, maker, args.requests, REAL_PATH)
        bare = profile(app, maker, args.requests, CEILING_PATH)
        app.extensions["db_engine"].dispose()
    text = report(args, real, bare)
    print(text)
    if args.write:
        replace_subsection(SECTION, SUBSECTION, text)


if __name__ == "__main__":
    main()
