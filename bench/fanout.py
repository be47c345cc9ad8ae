"""Reminder fan-out benchmark: N due review reminders through two real RQ workers to the Twilio mock.

Run:  .venv/bin/python bench/fanout.py [--reminders 10000] [--schools 10] [--rate 10] [--write | --append]

N guardians (one child each, spread over `--schools` schools, each school one sender number)
each have a review in a week and a "reminder" due a minute ago, bulk-inserted. Two
`python worker.py` processes (CHANNEL=twilio, TWILIO_API_BASE_URL at Prism behind a
recording proxy that gives each message its own sid) then do what production does:
the `sweep` job is enqueued as worker.py's ticker enqueues it; it splits the due reminders into
batch jobs, which turn them into messages and enqueue their deliveries; each deliver job goes
through the per-sender rate limit (SEND_RATE_PER_SECOND=`--rate`) to the mock. Measured: when
the sweep job ended, when every reminder had become a message, the wall time until every
message was handed to the mock, sent == due, duplicates (requests per recipient, and the sids
in the database against those the mock gave), and each sender's achieved rate against the limit.
--write replaces the `## Reminder fan-out` section of docs/benchmarks.md; --append adds this
run's row to its table.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (  # noqa: E402
    ACCOUNT_SID, AUTH_TOKEN, DOC, PYTHON, ensure_machine_section, kept_subsections, load_average, prism_with_proxy,
    replace_section, scratch_database, spare_redis, start_process, stop_process, wait_until,
)

SECTION = "## Reminder fan-out"
PUBLIC_BASE_URL = "https://bot.school.example"
LANGUAGES = ["en", "pl", "es", "ur", "ro", "ar", "bn", "pt"]


def seed(database_url: str, reminders: int, schools: int) -> list[str]:
    """Schools with one number each; per guardian a child, a review in 7 days, a reminder due now."""
    from sqlalchemy import insert
    from sqlmodel import Session, select

    from storage.db import make_engine
    from storage.models import (Child, Conversation, Guardian, GuardianChild, Reminder, Review, School,
                                SchoolNumber, utcnow)

    now = utcnow()
    engine = make_engine(database_url)
    senders = [f"+4477009{n:05d}" for n in range(1, schools + 1)]
    with Session(engine) as session:
        school_ids = []
        for number, phone in enumerate(senders):
            school = School(name=f"Bench School {number}", quiet_start_hour=0, quiet_end_hour=0)
            session.add(school)
            session.flush()
            session.add(SchoolNumber(school_id=school.id, phone=phone, whatsapp=False))
            school_ids.append(school.id)
        # Guardian i belongs to school i % schools: the sweep's order interleaves the senders.
        school_of = [school_ids[i % schools] for i in range(reminders)]
        session.execute(insert(Child), [{"school_id": s, "name": f"Child {i}"} for i, s in enumerate(school_of)])
        session.execute(insert(Guardian), [
            {"school_id": s, "name": f"Parent {i}", "phone": f"+4477{10000000 + i:08d}",
             "preferred_language": LANGUAGES[i % len(LANGUAGES)], "preferred_channel": "sms"}
            for i, s in enumerate(school_of)])
        children = session.exec(select(Child.id).order_by(Child.id)).all()
        guardians = session.exec(select(Guardian.id).order_by(Guardian.id)).all()
        session.execute(insert(GuardianChild), [{"guardian_id": g, "child_id": c} for g, c in zip(guardians, children)])
        session.execute(insert(Conversation), [{"school_id": s, "guardian_id": g}
                                               for s, g in zip(school_of, guardians)])
        session.execute(insert(Review), [{"school_id": s, "child_id": c, "starts_at": now + timedelta(days=7),
                                          "kind": "sen_support", "location": "Room 4"}
                                         for s, c in zip(school_of, children)])
        reviews = session.exec(select(Review.id).order_by(Review.id)).all()
        due = now - timedelta(minutes=1)
        session.execute(insert(Reminder), [{"school_id": s, "review_id": r, "guardian_id": g, "kind": "reminder",
                                            "due_at": due, "status": "planned"}
                                           for s, r, g in zip(school_of, reviews, guardians)])
        session.commit()
    engine.dispose()
    return senders


def _scalar(conn, sql: str, *args):
    return conn.execute(sql, args).fetchone()[0]


def wait_for_workers(redis_url: str, count: int, timeout: float = 120) -> None:
    """Until `count` RQ workers have registered (worker.py preloads its models first)."""
    import redis
    from rq import Worker

    connection = redis.Redis.from_url(redis_url)
    wait_until(lambda: len(Worker.all(connection=connection)) >= count, timeout, 0.5, f"{count} RQ workers")


def enqueue_sweep(redis_url: str) -> str:
    """Enqueue the sweep job by name, exactly as worker.py's ticker does (default job timeout)."""
    import redis
    from rq import Queue

    from bot.tasks import JOBS, QUEUE_NAME

    return Queue(QUEUE_NAME, connection=redis.Redis.from_url(redis_url)).enqueue(JOBS["sweep"].path).id


def sweep_job_state(redis_url: str, job_id: str) -> tuple[str, str | None]:
    """The RQ status of the sweep job, and the last line of its error if it failed."""
    import redis
    from rq.job import Job

    job = Job.fetch(job_id, connection=redis.Redis.from_url(redis_url))
    state = job.get_status(refresh=True).value
    result = job.latest_result() if state == "failed" else None
    error = result.exc_string.strip().splitlines()[-1] if result and result.exc_string else None
    return state, error


def follow(args, redis_url: str, conn, job_id: str, started: float) -> dict:
    """Poll until every due reminder's message has Twilio's sid (or time runs out); note the milestones."""
    seen: dict = {}
    deadline = started + args.timeout
    while time.perf_counter() < deadline:
        elapsed = time.perf_counter() - started
        if "sweep_seconds" not in seen:
            state, error = sweep_job_state(redis_url, job_id)
            if state in ("finished", "failed", "stopped", "canceled"):
                seen["sweep_seconds"], seen["sweep_job"] = elapsed, state + (f": {error}" if error else "")
        if "messages_seconds" not in seen and not _scalar(conn, "SELECT count(*) FROM reminder "
                                                                 "WHERE status = 'planned'"):
            seen["messages_seconds"] = elapsed
        if _scalar(conn, "SELECT count(*) FROM message WHERE provider_sid IS NOT NULL") >= args.reminders:
            seen["wall_seconds"] = elapsed
            return seen
        time.sleep(0.25)
    seen["timeout"] = True
    seen["wall_seconds"] = time.perf_counter() - started
    return seen


def run(args) -> dict:
    """Seed, start Prism and two workers, sweep, wait for every send, check the database."""
    import psycopg

    workdir = Path(tempfile.mkdtemp(prefix="sendbot-bench-fanout-"))
    with scratch_database("bench_fanout") as database_url, spare_redis() as redis_url, \
            prism_with_proxy(workdir) as proxy:
        seed_started = time.perf_counter()
        senders = seed(database_url, args.reminders, args.schools)
        seed_seconds = time.perf_counter() - seed_started
        env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "CHANNEL": "twilio",
               "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
               "TWILIO_API_BASE_URL": proxy.url, "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
               "SEND_RATE_PER_SECOND": str(args.rate), "TRANSLATION_ENGINE": "none",
               # The bench starts the one sweep itself, at a known moment.
               "SWEEP_INTERVAL_SECONDS": "3600", "INSTANCE_PATH": str(workdir / "instance"),
               "SECRET_KEY": "bench", "LOG_LEVEL": "WARNING"}
        workers = [start_process([PYTHON, "worker.py"], env, workdir / f"worker{i}.log") for i in range(2)]
        outcome: dict = {"seed_seconds": seed_seconds, "senders": senders, "load_before": load_average()}
        try:
            wait_for_workers(redis_url, 2)
            with psycopg.connect(database_url, autocommit=True) as conn:
                started = time.perf_counter()
                outcome.update(follow(args, redis_url, conn, enqueue_sweep(redis_url), started))
        finally:
            for worker in workers:
                stop_process(worker)  # a warm shutdown: a send in flight finishes first
        with psycopg.connect(database_url, autocommit=True) as conn:
            outcome.update(check(conn, proxy))
        outcome["load_after"] = load_average()
    print(f"logs: {workdir}")
    return outcome


def check(conn, proxy) -> dict:
    """sent == due, duplicates, sids, statuses, per-sender rates."""
    reminders = dict(conn.execute("SELECT status, count(*) FROM reminder GROUP BY status").fetchall())
    statuses = dict(conn.execute("SELECT status, count(*) FROM message WHERE direction = 'outbound' "
                                 "GROUP BY status").fetchall())
    db_sids = {sid for (sid,) in conn.execute("SELECT provider_sid FROM message WHERE provider_sid IS NOT NULL")}
    records = [r for r in proxy.records]
    accepted = [r for r in records if r.status == 201]
    per_recipient = Counter(r.to for r in accepted)
    by_sender: dict[str, list[float]] = defaultdict(list)
    for record in accepted:
        by_sender[record.sender].append(record.at)
    rates = {sender: _rates(sorted(times)) for sender, times in by_sender.items()}
    first = min((r.at for r in accepted), default=0)
    last = max((r.at for r in accepted), default=0)
    return {"reminders": reminders, "statuses": statuses, "db_sids": len(db_sids), "requests": len(records),
            "accepted": len(accepted), "refused": len(records) - len(accepted),
            "recipients": len(per_recipient), "duplicates": sum(n - 1 for n in per_recipient.values()),
            "sids_match": db_sids == {r.sid for r in accepted}, "rates": rates,
            "send_span": last - first}


def _rates(times: list[float]) -> tuple[float, int]:
    """A sender's mean rate over its sending span, and the most sends in any 1-second window."""
    mean = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 and times[-1] > times[0] else 0.0
    most, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return mean, most


def _seconds(o: dict, key: str) -> str:
    return f"{o[key]:.1f} s" if key in o else "not reached"


def row(args, o: dict) -> str:
    """One results table row."""
    rates = list(o["rates"].values())
    mean_rate = sum(r for r, _ in rates) / len(rates) if rates else 0
    most = max((m for _, m in rates), default=0)
    unsent = (args.reminders - o["db_sids"])
    wall = _seconds(o, "wall_seconds") + (" (time limit)" if o.get("timeout") else "")
    return (f"| {args.reminders} | {args.schools} | {args.rate:g}/s | {_seconds(o, 'sweep_seconds')} "
            f"({o.get('sweep_job', '?')}) | {_seconds(o, 'messages_seconds')} | {wall} | "
            f"{o['accepted'] / o['send_span'] if o['send_span'] else 0:.1f}/s | "
            f"{mean_rate:.2f}/s ({100 * mean_rate / args.rate:.0f}%) | {most} | {o['accepted']} / {args.reminders} | "
            f"{unsent} | {o['duplicates']} | {'yes' if o['sids_match'] else 'NO'} |")


HEADER = ["| due | senders | limit per sender | sweep job | all reminders → messages | "
          "wall: sweep enqueued → last hand-over | total send rate | mean per-sender rate (of limit) | "
          "most sends by one sender in any 1 s | mock accepted / due | not sent | duplicates | "
          "sids in DB = sids the mock gave |",
          "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]


def section(args, o: dict, rows: list[str]) -> str:
    """The `## Reminder fan-out` section."""
    return "\n".join([
        SECTION, "",
        f"`bench/fanout.py`, {time.strftime('%Y-%m-%d')}. Each guardian has one child, a review in 7 days and a "
        "`reminder` due a minute ago (bulk-inserted). Two `python worker.py` processes (SimpleWorker + scheduler, "
        "CHANNEL=twilio) share the 2 cores with PostgreSQL (throwaway database), Redis (db 15), and Prism serving "
        "Twilio's spec behind a recording proxy that gives each message a unique sid (Prism answers every create "
        "with the same example sid, and sids are stored under a unique index). the `sweep` job is enqueued the way "
        "worker.py's timer does; it splits the due reminders into `send_reminder_batch` jobs of 100, each turning "
        "its reminders into the review_reminder flow's first message and enqueueing their deliveries; each deliver "
        "job takes a slot from the per-sender limiter (GCRA in Redis, burst 1) before it sends. Times run from "
        "enqueueing the sweep. Per-sender rates are measured where the requests arrive (the proxy). "
        f"Load average {o['load_before']} before, {o['load_after']} after (shared machine).", "",
        *HEADER, *rows, "",
    ])


def main() -> None:
    """Parse arguments, run, print (and optionally write) the results."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reminders", type=int, default=10000)
    parser.add_argument("--schools", type=int, default=10, help="one sender number per school")
    parser.add_argument("--rate", type=float, default=10, help="SEND_RATE_PER_SECOND per sender")
    parser.add_argument("--timeout", type=float, default=540, help="give up after this many seconds")
    parser.add_argument("--write", action="store_true", help="replace the section in docs/benchmarks.md")
    parser.add_argument("--append", action="store_true", help="add this run's row to the section")
    args = parser.parse_args()
    outcome = run(args)
    print({k: v for k, v in outcome.items() if k != "rates"})
    print("per sender (mean/s, most in 1 s):", {s: (round(m, 2), n) for s, (m, n) in outcome["rates"].items()})
    result = row(args, outcome)
    print("\n".join(HEADER + [result]))
    if args.write:
        ensure_machine_section()
        kept = kept_subsections(SECTION, "")  # notes written by hand, kept across re-runs
        replace_section(SECTION, section(args, outcome, [result]) + ("\n" + kept if kept else ""))
    elif args.append:
        text = DOC.read_text(encoding="utf-8")
        start = text.index(SECTION)
        end = text.find("\n## ", start + 1)
        block = text[start:end if end >= 0 else len(text)].rstrip("\n").split("\n")
        table_end = next((i for i, line in enumerate(block) if line.startswith("### ")), len(block))
        last_row = max(i for i, line in enumerate(block[:table_end]) if line.startswith("| "))
        block.insert(last_row + 1, result)
        replace_section(SECTION, "\n".join(block))


if __name__ == "__main__":
    main()
