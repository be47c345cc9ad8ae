"""Drill: PostgreSQL restarted under webhook load. Requests fail cleanly, nothing is half-written,
and the service resumes by itself.

Run:  .venv/bin/python bench/drills/pg_restart.py [--duration 40] [--senders 16] [--write]

Everything is private to the drill: a throwaway PostgreSQL cluster (initdb + pg_ctl in a temp dir,
on a free port: the shared server is never touched), a private redis-server, and gunicorn on
bench.webhook:bench_app(). Parents (a quarter of them unknown numbers, so guardian, conversation
and message are created together) send signed webhooks for `--duration` seconds. Twice during
the run the database goes away: a clean restart (`pg_ctl stop -m fast`, 5 s down, start) and a
crash (`-m immediate`, 3 s down, start). Like Twilio, a sender that gets no 200 posts the same
request again (same MessageSid and signature) with a growing pause, until it is stored.

Asserted afterwards, on the database: every MessageSid stored exactly once; every failed answer
was a 5xx, never a 4xx or a hang past 15 s; each unknown sender has one guardian row and one
conversation; no conversation without its first message; the first 200 after each outage came
without restarting anything. --write adds the results to the `## Inbound webhook` section.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common import (  # noqa: E402
    AUTH_TOKEN, PYTHON, ROOT, OwnPostgres, free_port, listening, load_average, own_redis, percentile,
    replace_subsection, start_process, stop_process, wait_until,
)
from bench.webhook import REAL_PATH, Connection, RequestMaker, seed  # noqa: E402

SUBSECTION = "### Drill: PostgreSQL restarted under load"
TWILIO_TIMEOUT = 15.0
# (seconds into the run, pg_ctl stop mode, seconds down)
OUTAGES = [(8.0, "fast", 5.0), (22.0, "immediate", 3.0)]


@dataclass
class Delivery:
    """One parent message and every attempt to post it."""

    sid: str
    statuses: list[int] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    started: list[float] = field(default_factory=list)
    answered_at: float | None = None


class Senders:
    """Parents posting signed webhooks and retrying, as Twilio does, until each is stored."""

    def __init__(self, maker: RequestMaker, unknown: list[tuple[str, str]], port: int):
        self.maker, self.unknown, self.port = maker, unknown, port
        self.deliveries: list[Delivery] = []

    async def run(self, count: int, duration: float, drain: float) -> None:
        """`count` senders for `duration` seconds, then up to `drain` more seconds of retries."""
        deadline, give_up = time.monotonic() + duration, time.monotonic() + duration + drain
        await asyncio.gather(*(self._sender(deadline, give_up) for _ in range(count)))

    async def _sender(self, deadline: float, give_up: float) -> None:
        connection = Connection("127.0.0.1", self.port)
        while time.monotonic() < deadline:
            stranger = random.random() < 0.25  # a number the school has never seen
            request = self.maker.make(REAL_PATH, self.unknown if stranger else None)
            delivery = Delivery(request.sid)
            self.deliveries.append(delivery)
            pause = 0.25
            while time.monotonic() < give_up:
                began = time.monotonic()
                delivery.started.append(began)
                try:
                    status = await connection.post(request, timeout=TWILIO_TIMEOUT)
                except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError, IndexError):
                    status = 0
                    await connection.close()
                delivery.statuses.append(status)
                delivery.latencies.append(time.monotonic() - began)
                if status == 200:
                    delivery.answered_at = time.monotonic()
                    break
                await asyncio.sleep(pause)  # Twilio's retry, the same request again
                pause = min(pause * 2, 1.0)
        await connection.close()


async def outages(pg: OwnPostgres, started: float, log: list) -> None:
    """Stop and start the drill's PostgreSQL on the schedule, noting when it was back."""
    for at, mode, down in OUTAGES:
        await asyncio.sleep(max(0.0, started + at - time.monotonic()))
        stopped = time.monotonic()
        await asyncio.to_thread(pg.stop, mode)
        await asyncio.sleep(down)
        await asyncio.to_thread(pg.start)
        log.append((mode, stopped - started, time.monotonic() - started))


def check_database(url: str, deliveries: list[Delivery], unknown_phones: set[str], warm_sids: set[str]) -> dict:
    """What the database holds after the drill (warm-up messages left out)."""
    import psycopg

    with psycopg.connect(url) as conn:
        rows = [sid for (sid,) in conn.execute("SELECT provider_sid FROM message WHERE direction = 'inbound'")
                if sid not in warm_sids]
        guardians = conn.execute("SELECT phone, count(*) FROM guardian WHERE known = false GROUP BY phone").fetchall()
        orphans = conn.execute("SELECT count(*) FROM conversation c WHERE NOT EXISTS "
                               "(SELECT 1 FROM message m WHERE m.conversation_id = c.id) AND c.guardian_id IN "
                               "(SELECT id FROM guardian WHERE known = false)").fetchone()[0]
        unprocessed = conn.execute("SELECT count(*) FROM message WHERE direction = 'inbound' "
                                   "AND status = 'received'").fetchone()[0]
        conversations = conn.execute("SELECT count(*) FROM conversation c JOIN guardian g ON g.id = c.guardian_id "
                                     "WHERE g.known = false").fetchone()[0]
    sent = {d.sid for d in deliveries}
    answered = {d.sid for d in deliveries if d.answered_at is not None}
    return {"rows": len(rows), "distinct": len(set(rows)), "sent": len(sent), "answered": len(answered),
            "missing": len(answered - set(rows)), "stored_never_answered": len(set(rows) - answered),
            "unknown_guardians": len(guardians), "guardian_duplicates": sum(n - 1 for _, n in guardians),
            "unknown_conversations": conversations, "conversations_without_message": orphans,
            "strangers": len({phone for phone, _ in guardians} - unknown_phones), "unprocessed": unprocessed}


def summarise(deliveries: list[Delivery], outage_log: list, started: float) -> dict:
    """Failed answers by status, how long failures took, recovery after each outage."""
    failures = Counter(s for d in deliveries for s in d.statuses if s != 200)
    failed_latencies = [t for d in deliveries for s, t in zip(d.statuses, d.latencies) if s != 200]
    ok_latencies = [t for d in deliveries for s, t in zip(d.statuses, d.latencies) if s == 200]
    recoveries = []
    for mode, stopped, back in outage_log:
        # Attempts that began once PostgreSQL was back: how soon one succeeded, how many failed.
        after = [(t - started, s) for d in deliveries for t, s in zip(d.started, d.statuses) if t - started >= back]
        first_ok = min((t for t, s in after if s == 200), default=None)
        failed_after = sum(1 for t, s in after if s != 200 and (first_ok is None or t <= first_ok + 5))
        recoveries.append((mode, stopped, back, None if first_ok is None else first_ok - back, failed_after))
    return {"attempts": sum(len(d.statuses) for d in deliveries), "failures": dict(failures),
            "retried": sum(len(d.statuses) > 1 for d in deliveries),
            "max_failed_latency": max(failed_latencies, default=0.0),
            "p99_ok_latency": percentile(ok_latencies, 0.99), "recoveries": recoveries}


def report(args, outcome: dict, db: dict, load: tuple[str, str]) -> str:
    """The drill's subsection."""
    lines = [
        SUBSECTION, "",
        f"`bench/drills/pg_restart.py --duration {args.duration:g} --senders {args.senders}`, "
        f"{time.strftime('%Y-%m-%d')}: gunicorn ({args.workers} workers × {args.threads} threads) on a throwaway "
        "PostgreSQL cluster and a private redis-server; a quarter of the senders are unknown numbers; a sender "
        "without a 200 posts the same request again (0.25 s, then 0.5 s, then every 1 s), as Twilio would. "
        f"Load average {load[0]} before, {load[1]} after.", "",
        "| outage | down at | back at | first success of a request sent after it is back | "
        "failed requests sent after it is back |", "| --- | --- | --- | --- | --- |",
    ]
    for mode, stopped, back, recovery, failed_after in outcome["recoveries"]:
        lines.append(f"| `pg_ctl stop -m {mode}` | {stopped:.1f} s | {back:.1f} s | "
                     f"{'never' if recovery is None else f'{recovery:.2f} s later'} | {failed_after} |")
    failures = ", ".join(f"{code or 'connection error'}: {n}" for code, n in sorted(outcome["failures"].items()))
    lines += [
        "",
        f"{db['sent']} messages sent in {outcome['attempts']} attempts; {outcome['retried']} needed a retry. "
        f"Failed answers: {failures or 'none'}; the slowest failure took {outcome['max_failed_latency']:.2f} s "
        f"(Twilio waits 15 s); p99 of successful answers {outcome['p99_ok_latency'] * 1000:.0f} ms.",
        f"Database afterwards: {db['answered']} answered 200, {db['rows']} rows ({db['distinct']} distinct sids), "
        f"missing {db['missing']}, stored without a 200 {db['stored_never_answered']}; unknown senders: "
        f"{db['unknown_guardians']} guardians, {db['guardian_duplicates']} duplicates, "
        f"{db['unknown_conversations']} conversations, {db['conversations_without_message']} without a message; "
        f"{db['unprocessed']} stored (warm-up included) and waiting for the worker (none runs in this drill: each one's "
        "per-guardian job is queued, and the sweep is the backstop).",
    ]
    return "\n".join(lines)


def verdict(outcome: dict, db: dict) -> list[str]:
    """The promises the drill checks; empty when all hold."""
    problems = []
    if db["missing"] or db["rows"] != db["distinct"] or db["answered"] != db["sent"]:
        problems.append("a message was lost or stored twice")
    if db["stored_never_answered"]:
        problems.append("a row exists for a message never answered 200")
    if any(code and not 500 <= code < 600 for code in outcome["failures"]):
        problems.append("a failure answered with something other than 5xx")
    if outcome["failures"].get(0):
        problems.append("connections dropped instead of a 5xx answer")
    if outcome["max_failed_latency"] >= TWILIO_TIMEOUT:
        problems.append("a failure took longer than Twilio waits")
    if db["guardian_duplicates"] or db["conversations_without_message"] or db["strangers"]:
        problems.append("half-written contacts")
    if any(recovery is None for _, _, _, recovery, _ in outcome["recoveries"]):
        problems.append("the service did not resume by itself")
    return problems


def run(args) -> tuple[dict, dict, tuple[str, str]]:
    """Start everything private to the drill, load it through the outages, check, clean up."""
    from storage.migrate import upgrade

    workdir = Path(tempfile.mkdtemp(prefix="sendbot-drill-pg-"))
    pg = OwnPostgres().start()
    try:
        upgrade(pg.url)
        senders = seed(pg.url)
        unknown = [(f"+4477009{n:05d}", "en") for n in range(20000, 20000 + 200)]
        with own_redis() as redis_url:
            port = free_port()
            base_url = f"http://127.0.0.1:{port}"
            env = {"DATABASE_URL": pg.url, "REDIS_URL": redis_url, "PUBLIC_BASE_URL": base_url,
                   "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "CHANNEL": "simulator", "TRANSLATION_ENGINE": "none",
                   "INSTANCE_PATH": str(workdir / "instance"), "SECRET_KEY": "drill", "LOG_LEVEL": "WARNING"}
            command = [str(Path(PYTHON).parent / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
                   "--chdir", str(ROOT), "--bind", f"127.0.0.1:{port}",
                       "--workers", str(args.workers), "--threads", str(args.threads), "bench.webhook:bench_app()"]
            server = start_process(command, env, workdir / "gunicorn.log")
            try:
                wait_until(lambda: listening(port), 60, what="gunicorn")
                load_before = load_average()
                crowd = Senders(RequestMaker(base_url, senders, seed_value=11), unknown, port)
                warm_sids = asyncio.run(_warm(crowd))
                crowd.deliveries.clear()
                outage_log: list = []

                async def drill():
                    started = time.monotonic()
                    await asyncio.gather(crowd.run(args.senders, args.duration, 60), outages(pg, started, outage_log))
                    return started

                started = asyncio.run(drill())
                load_after = load_average()
            finally:
                stop_process(server)
        outcome = summarise(crowd.deliveries, outage_log, started)
        db = check_database(pg.url, crowd.deliveries, {phone for phone, _ in unknown}, warm_sids)
    finally:
        pg.destroy()
    print(f"gunicorn log: {workdir / 'gunicorn.log'}")
    return outcome, db, (load_before, load_after)


async def _warm(crowd: Senders) -> set[str]:
    """Post until every worker has its language models (a worker's first requests take seconds)."""
    deadline, sids = time.monotonic() + 90, set()
    while time.monotonic() < deadline:
        crowd.deliveries.clear()
        await crowd.run(8, 3, 30)
        sids |= {d.sid for d in crowd.deliveries}
        if all(max(d.latencies) < 0.5 for d in crowd.deliveries):
            break
    return sids


def main() -> None:
    """Run the drill, print the results and the verdict; exit 1 if a promise was broken."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=40)
    parser.add_argument("--senders", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--write", action="store_true", help="add the results to docs/benchmarks.md")
    args = parser.parse_args()
    random.seed(5)
    outcome, db, load = run(args)
    text = report(args, outcome, db, load)
    problems = verdict(outcome, db)
    text += "\n\nVerdict: " + ("every promise held." if not problems else "BROKEN: " + "; ".join(problems) + ".")
    print(text)
    if args.write:
        replace_subsection("## Inbound webhook", SUBSECTION, text)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
