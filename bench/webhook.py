"""Inbound webhook benchmark: signed Twilio-shaped posts against gunicorn on PostgreSQL + Redis.

Run:  .venv/bin/python bench/webhook.py [--duration 10] [--workers 4 --threads 1] [--write]

The server is gunicorn on `bench.webhook:bench_app()`: the real `create_app()` plus one bare
route, `POST /bench/empty-twiml`, answering the same empty TwiML with no signature check,
no database and no Redis. That route on the same server, workers and load generator is the
ceiling; `/twilio/messages` is the real path (signature, parse, store once, queue the
per-guardian job after commit). app.py is not changed.

Each phase sends for `--duration` seconds (at most `--max-requests`) from 1, 16 and 64
concurrent senders, each with its own keep-alive connection, every request signed with a
unique MessageSid from one of a few hundred seeded guardians. Afterwards the database must
hold exactly one message per request answered 200. Also: five concurrent copies of one
request (a Twilio retry storm) must store one row. All traffic stays on 127.0.0.1.
--write replaces the `## Inbound webhook` section of docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (  # noqa: E402
    ACCOUNT_SID, AUTH_TOKEN, PYTHON, ROOT, ensure_machine_section, free_port, kept_subsections, listening,
    load_average, percentile, replace_section, scratch_database, spare_redis, start_process, stop_process,
    wait_until,
)

SCHOOL_NUMBER = "+447700900990"
GUARDIANS = 300
CONCURRENCY = (1, 16, 64)
REAL_PATH, CEILING_PATH = "/twilio/messages", "/bench/empty-twiml"
SECTION = "## Inbound webhook"
# What parents write, by the language their guardian row records (a mix of scripts and lengths).
MESSAGES = {
    "pl": ["Dzień dobry, syn dzisiaj nie przyjdzie do szkoły, jest chory.", "ok dzięki",
           "Czy możemy przełożyć spotkanie na czwartek po południu?"],
    "ur": ["السلام علیکم، میرا بیٹا آج اسکول نہیں آئے گا۔", "شکریہ",
           "کیا ہم جمعرات کو ملاقات کر سکتے ہیں؟"],
    "es": ["Hola, mi hijo tuvo un día difícil en la escuela.", "Gracias", "¿Podemos hablar mañana por la tarde?"],
    "ro": ["Bună ziua, fiica mea are o programare la doctor mâine.", "Mulțumesc"],
    "ar": ["مرحبا، ابني مريض اليوم ولن يحضر إلى المدرسة.", "شكرا جزيلا"],
    "bn": ["আমার ছেলে আজ স্কুলে আসবে না, সে অসুস্থ।", "ধন্যবাদ"],
    "en": ["Hi, can we move Thursday's meeting to Friday morning?", "Thanks, see you then",
           "He had a really hard morning, please keep an eye on him at lunch."],
}
LANGUAGES = list(MESSAGES)


def empty_twiml():
    """The ceiling: the same empty TwiML the webhook answers, with nothing else done."""
    from flask import Response

    from bot.channels.twilio.webhooks import EMPTY_TWIML

    return Response(EMPTY_TWIML, mimetype="text/xml")


def bench_app():
    """create_app() with the bare ceiling route added (gunicorn 'bench.webhook:bench_app()')."""
    from app import create_app, csrf

    app = create_app()
    app.add_url_rule(CEILING_PATH, "bench_empty_twiml", csrf.exempt(empty_twiml), methods=["POST"])
    return app


def seed(database_url: str) -> list[tuple[str, str]]:
    """One school with its number and GUARDIANS known guardians; returns (phone, language) pairs."""
    from sqlmodel import Session

    from storage.db import make_engine
    from storage.models import Conversation, Guardian, School, SchoolNumber

    engine = make_engine(database_url)
    senders = [(f"+4477009{n:05d}", LANGUAGES[n % len(LANGUAGES)]) for n in range(10000, 10000 + GUARDIANS)]
    with Session(engine) as session:
        school = School(name="Bench Primary", quiet_start_hour=0, quiet_end_hour=0)
        session.add(school)
        session.flush()
        session.add(SchoolNumber(school_id=school.id, phone=SCHOOL_NUMBER, whatsapp=True))
        guardians = [Guardian(school_id=school.id, name=f"Parent {i}", phone=phone, preferred_language=language)
                     for i, (phone, language) in enumerate(senders)]
        session.add_all(guardians)
        session.flush()
        session.add_all(Conversation(school_id=school.id, guardian_id=g.id) for g in guardians)
        session.commit()
    engine.dispose()
    return senders


@dataclass
class Request:
    """One prepared POST: path, form body, signature, and the MessageSid it carries."""

    path: str
    body: bytes
    signature: str
    sid: str


class RequestMaker:
    """Signed, Twilio-shaped inbound message posts with unique MessageSids."""

    def __init__(self, base_url: str, senders: list[tuple[str, str]], seed_value: int = 7):
        from twilio.request_validator import RequestValidator

        self.base_url, self.senders = base_url, senders
        self.validator = RequestValidator(AUTH_TOKEN)
        self.random = random.Random(seed_value)

    def make(self, path: str, senders: list[tuple[str, str]] | None = None) -> Request:
        """A new message from a random seeded guardian (or one of `senders`)."""
        phone, language = self.random.choice(senders or self.senders)
        sid = "SM" + uuid.uuid4().hex
        form = {"ToCountry": "GB", "SmsMessageSid": sid, "NumMedia": "0", "ToCity": "", "FromZip": "",
                "SmsSid": sid, "FromState": "", "SmsStatus": "received", "FromCity": "",
                "Body": self.random.choice(MESSAGES[language]), "FromCountry": "GB", "To": SCHOOL_NUMBER,
                "ToZip": "", "NumSegments": "1", "MessageSid": sid, "AccountSid": ACCOUNT_SID, "From": phone,
                "ApiVersion": "2010-04-01"}
        signature = self.validator.compute_signature(self.base_url + path, form)
        return Request(path, urlencode(form).encode(), signature, sid)


class Connection:
    """A minimal HTTP/1.1 client on one keep-alive socket (lighter than an HTTP library, so the
    load generator, which shares the 2 cores with the server, costs as little as possible)."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def post(self, request: Request, timeout: float = 30) -> int:
        """Send one request; return the HTTP status."""
        head = (f"POST {request.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(request.body)}\r\n"
                f"X-Twilio-Signature: {request.signature}\r\nUser-Agent: TwilioProxy/1.1\r\n\r\n")
        while True:
            reused = self.writer is not None
            if not reused:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            try:
                self.writer.write(head.encode() + request.body)
                return await asyncio.wait_for(self._response(), timeout)
            except (ConnectionResetError, BrokenPipeError, asyncio.IncompleteReadError):
                await self.close()
                if not reused:
                    raise
                # The server closed an idle keep-alive connection before reading: send again, as
                # every HTTP client does (nothing of this request was processed).

    async def _response(self) -> int:
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionResetError("the server closed the connection")
        status = int(status_line.split()[1])
        length, close = 0, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and value.strip().lower() == "close":
                close = True
        await self.reader.readexactly(length)
        if close:
            await self.close()
        return status

    async def close(self) -> None:
        """Close the socket (reopened on the next post)."""
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass
        self.reader = self.writer = None


@dataclass
class PhaseResult:
    """What one phase measured."""

    path: str
    concurrency: int
    wall: float
    client_cpu: float
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    stored_sids: list[str] = field(default_factory=list)

    @property
    def ok(self) -> int:
        return self.statuses.get(200, 0)

    @property
    def errors(self) -> int:
        return sum(self.statuses.values()) - self.ok

    @property
    def rate(self) -> float:
        return self.ok / self.wall


async def run_phase(maker: RequestMaker, port: int, path: str, concurrency: int, duration: float,
                    max_requests: int) -> PhaseResult:
    """Send from `concurrency` senders for `duration` seconds or `max_requests` requests."""
    result = PhaseResult(path, concurrency, 0.0, 0.0)
    issued = itertools.count()
    start, cpu_start = time.perf_counter(), time.process_time()
    deadline = start + duration

    async def sender() -> None:
        connection = Connection("127.0.0.1", port)
        while time.perf_counter() < deadline and next(issued) < max_requests:
            request = maker.make(path)
            began = time.perf_counter()
            try:
                status = await connection.post(request)
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError, IndexError):
                status = 0  # connection reset or timeout: an error, never retried here
                await connection.close()
            result.latencies.append(time.perf_counter() - began)
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if status == 200 and path == REAL_PATH:
                result.stored_sids.append(request.sid)
        await connection.close()

    await asyncio.gather(*(sender() for _ in range(concurrency)))
    result.wall, result.client_cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return result


async def warm_up(maker: RequestMaker, port: int, timeout: float = 90) -> tuple[list[str], float]:
    """Post real messages until the server is warm (connections open, code paths loaded)."""
    sids, start = [], time.perf_counter()
    while time.perf_counter() - start < timeout:
        batch = await run_phase(maker, port, REAL_PATH, 8, 30, 80)
        sids += batch.stored_sids
        await run_phase(maker, port, CEILING_PATH, 8, 30, 80)
        if batch.errors == 0 and max(batch.latencies) < 0.5:
            return sids, time.perf_counter() - start
    raise TimeoutError("the server never got fast")


async def retry_storm(maker: RequestMaker, port: int) -> tuple[list[int], str]:
    """Five concurrent copies of one signed request, on five connections, as Twilio retries do."""
    request = maker.make(REAL_PATH)
    connections = [Connection("127.0.0.1", port) for _ in range(5)]
    statuses = await asyncio.gather(*(c.post(request) for c in connections))
    for connection in connections:
        await connection.close()
    return list(statuses), request.sid


def count_stored(database_url: str, sids: set[str], storm_sid: str) -> dict[str, int]:
    """Compare the inbound rows in the database with the requests answered 200."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT provider_sid FROM message WHERE direction = 'inbound'").fetchall()
        storm_rows = conn.execute("SELECT count(*) FROM message WHERE provider_sid = %s", (storm_sid,)).fetchone()[0]
    stored = [sid for (sid,) in rows]
    return {"rows": len(stored), "answered_200": len(sids), "missing": len(sids - set(stored)),
            "unexpected": len(set(stored) - sids - {storm_sid}), "duplicates": len(stored) - len(set(stored)),
            "storm_rows": storm_rows}


async def measure(port: int, base_url: str, senders, duration: float, max_requests: int):
    """Warm up, then ceiling and real path at each concurrency, then the retry storm."""
    maker = RequestMaker(base_url, senders)
    warm_sids, warm_seconds = await warm_up(maker, port)
    results = []
    for concurrency in CONCURRENCY:
        for path in (CEILING_PATH, REAL_PATH):
            results.append(await run_phase(maker, port, path, concurrency, duration, max_requests))
            print(_row(results[-1]), flush=True)
    storm = await retry_storm(maker, port)
    return warm_sids, warm_seconds, results, storm


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def _row(r: PhaseResult) -> str:
    name = "real `/twilio/messages`" if r.path == REAL_PATH else "ceiling `/bench/empty-twiml`"
    return (f"| {r.concurrency} | {name} | {r.ok + r.errors} | {r.rate:.0f} | {_ms(percentile(r.latencies, .5))} | "
            f"{_ms(percentile(r.latencies, .95))} | {_ms(percentile(r.latencies, .99))} | "
            f"{_ms(max(r.latencies))} | {r.errors} | {100 * r.client_cpu / r.wall:.0f}% |")


def report(args, results, counts, storm_statuses, warm_seconds, load_before, load_after) -> str:
    """The `## Inbound webhook` section."""
    by_key = {(r.path, r.concurrency): r for r in results}
    ratios = []
    for concurrency in CONCURRENCY:
        real, ceiling = by_key[(REAL_PATH, concurrency)], by_key[(CEILING_PATH, concurrency)]
        ratios.append(f"| {concurrency} | {real.rate:.0f} | {ceiling.rate:.0f} | **{real.rate / ceiling.rate:.2f}** | "
                      f"{_ms(percentile(real.latencies, .99))} |")
    server = f"gunicorn, {args.workers} worker{'s' if args.workers > 1 else ''}" + (
        f" × {args.threads} threads (gthread)" if args.threads > 1 else " (sync)")
    return "\n".join([
        SECTION, "",
        f"`bench/webhook.py --workers {args.workers} --threads {args.threads} --duration {args.duration:g}`, "
        f"{time.strftime('%Y-%m-%d')}. {server} on `bench.webhook:bench_app()` (the real `create_app()` plus a bare "
        "`POST /bench/empty-twiml` route returning the same empty TwiML: the ceiling, same server), PostgreSQL "
        "(throwaway database on the shared server) and Redis (db 15), CHANNEL=simulator, TRANSLATION_ENGINE=none; "
        "no worker runs, so the numbers are the webhook's alone (every stored message queues its per-guardian job). "
        f"{GUARDIANS} seeded guardians in 7 languages; every request signed, Twilio-shaped, with a unique "
        "MessageSid. The load generator (a small asyncio HTTP/1.1 client, one keep-alive connection per sender) "
        f"runs on the same 2 cores. Warm-up until the first requests stopped being slow: {warm_seconds:.0f} s. "
        f"{args.duration:g} s per phase. Load average {load_before} before, {load_after} after (shared machine).", "",
        "| senders | endpoint | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | errors | load generator CPU |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        *[_row(r) for r in results], "",
        "| senders | real req/s | ceiling req/s | real / ceiling | real p99 ms |",
        "| --- | --- | --- | --- | --- |",
        *ratios, "",
        f"Nothing lost, nothing twice: {counts['answered_200']} real requests answered 200 (warm-up included), "
        f"{counts['rows']} inbound rows; missing {counts['missing']}, duplicates {counts['duplicates']}, "
        f"rows without a 200 {counts['unexpected']}. Five concurrent copies of one request (a retry storm, across "
        f"workers): statuses {storm_statuses}, rows stored {counts['storm_rows']}.",
    ])


def run(args) -> str:
    """Start the services and the server, measure, check the database, stop everything."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    workdir = Path(tempfile.mkdtemp(prefix="sendbot-bench-webhook-"))
    with scratch_database("bench_webhook") as database_url, spare_redis() as redis_url:
        senders = seed(database_url)
        env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "PUBLIC_BASE_URL": base_url,
               "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "CHANNEL": "simulator", "TRANSLATION_ENGINE": "none",
               "INSTANCE_PATH": str(workdir / "instance"), "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING"}
        command = [str(Path(PYTHON).parent / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
                   "--chdir", str(ROOT), "--bind", f"127.0.0.1:{port}",
                   "--workers", str(args.workers), "--threads", str(args.threads), "--backlog", "2048",
                   "bench.webhook:bench_app()"]
        server = start_process(command, env, workdir / "gunicorn.log")
        try:
            wait_until(lambda: listening(port), 60, what="gunicorn to listen")
            load_before = load_average()
            warm_sids, warm_seconds, results, (storm_statuses, storm_sid) = asyncio.run(
                measure(port, base_url, senders, args.duration, args.max_requests))
            load_after = load_average()
        finally:
            stop_process(server)
        answered = set(warm_sids) | {sid for r in results for sid in r.stored_sids}
        counts = count_stored(database_url, answered, storm_sid)
    print(f"gunicorn log: {workdir / 'gunicorn.log'}")
    return report(args, results, counts, storm_statuses, warm_seconds, load_before, load_after)


def main() -> None:
    """Parse arguments, run, print (and optionally write) the section."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds per phase")
    parser.add_argument("--max-requests", type=int, default=30000, help="cap per phase")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--write", action="store_true", help="replace the section in docs/benchmarks.md")
    args = parser.parse_args()
    section = run(args)
    print(section)
    if args.write:
        ensure_machine_section()
        kept = kept_subsections(SECTION, "")  # drills (bench/drills/) and notes: kept across re-runs
        replace_section(SECTION, section + ("\n\n" + kept if kept else ""))


if __name__ == "__main__":
    main()
