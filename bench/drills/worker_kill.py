"""Drill: RQ workers SIGKILLed in the middle of a reminder fan-out; every parent gets exactly one message.

Run:  .venv/bin/python bench/drills/worker_kill.py [--reminders 400] [--kills 4] [--write]

Two `python worker.py` processes send due reminders to Prism behind a recording proxy that
waits `--delay` seconds before passing Twilio's answer on, so a kill often lands after Twilio
accepted a message and before the worker stored its sid. Every few seconds one worker's whole
process group gets SIGKILL and a fresh worker.py takes its place ("after restart").

Then recovery, as production does it:
- a message left in `dispatching` that reached Twilio: Twilio's signed status callback
  (`/twilio/status?m=<id>`, with the sid the mock gave) arrives and claims it;
- one left in `dispatching` that never reached Twilio: once DISPATCH_RECOVERY_MINUTES have
  passed (the clocks are moved back, not slept through) the sweep returns it to the outbox;
- one left in the outbox (killed before its claim, its job lost with the worker): the sweep
  re-enqueues it after its two-minute grace (clocks moved back too).
Asserted: every reminder became one message, every message has one sid, the mock accepted
exactly one request per parent, and the sids in the database are the ones the mock gave.
A separate scratch database, a private redis-server, a private Prism; nothing shared is touched.
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.common import (  # noqa: E402
    ACCOUNT_SID, AUTH_TOKEN, PYTHON, own_redis, prism_with_proxy, replace_subsection, scratch_database,
    start_process, stop_process, wait_until,
)
from bench.fanout import PUBLIC_BASE_URL, enqueue_sweep, seed, wait_for_workers  # noqa: E402

SUBSECTION = "### Drill: workers SIGKILLed mid-fan-out"


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL a worker and its scheduler child: no cleanup, no goodbye, like a lost machine."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


def counts(conn) -> dict[str, int]:
    """Outbound messages by status, plus how many have a sid."""
    by_status = dict(conn.execute("SELECT status, count(*) FROM message GROUP BY status").fetchall())
    by_status["with sid"] = conn.execute("SELECT count(*) FROM message WHERE provider_sid IS NOT NULL").fetchone()[0]
    return by_status


def recover(app, conn, proxy, recovery_minutes: int) -> dict[str, int]:
    """Twilio's callbacks for sends it accepted; clocks moved back for the sweep; then the sweep."""
    from bot.sweep import run_sweep
    from bot.channels.twilio.signature import sign

    accepted = {record.to: record.sid for record in proxy.records if record.status == 201}
    stuck = conn.execute("SELECT m.id, g.phone FROM message m JOIN guardian g ON g.id = m.guardian_id "
                         "WHERE m.status = 'dispatching' AND m.provider_sid IS NULL").fetchall()
    client, called_back = app.test_client(), 0
    for message_id, phone in stuck:
        if phone in accepted:  # Twilio has it: its status callback names our id and its sid
            path, form = f"/twilio/status?m={message_id}", {"MessageSid": accepted[phone], "MessageStatus": "sent",
                                                            "AccountSid": ACCOUNT_SID}
            response = client.post(path, data=form, base_url=PUBLIC_BASE_URL,
                                   headers={"X-Twilio-Signature": sign(PUBLIC_BASE_URL + path, form, AUTH_TOKEN)})
            assert response.status_code == 200, response.get_data(as_text=True)
            called_back += 1
    conn.execute("UPDATE message SET status_updated_at = status_updated_at - %s WHERE status = 'dispatching'",
                 (timedelta(minutes=recovery_minutes + 1),))
    conn.execute("UPDATE message SET created_at = created_at - interval '3 minutes' WHERE status IN "
                 "('outbox', 'dispatching')")
    with app.app_context():
        swept = run_sweep()
    return {"callbacks": called_back, "stuck": len(stuck), **swept}


def main() -> None:
    """Run the drill; print what happened; exit 1 if a parent got no message or two."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reminders", type=int, default=400)
    parser.add_argument("--kills", type=int, default=4)
    parser.add_argument("--delay", type=float, default=0.2, help="seconds the mock's answer is held back")
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument("--write", action="store_true", help="add the results to docs/benchmarks.md")
    args = parser.parse_args()
    import psycopg

    from app import create_app
    from config import load_settings

    workdir = Path(tempfile.mkdtemp(prefix="sendbot-drill-kill-"))
    with scratch_database("drill_kill") as database_url, own_redis() as redis_url, \
            prism_with_proxy(workdir, delay=args.delay) as proxy, \
            psycopg.connect(database_url, autocommit=True) as conn:
        seed(database_url, args.reminders, 2)
        env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "CHANNEL": "twilio",
               "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_API_BASE_URL": proxy.url,
               "PUBLIC_BASE_URL": PUBLIC_BASE_URL, "SEND_RATE_PER_SECOND": str(args.rate),
               "TRANSLATION_ENGINE": "none", "SWEEP_INTERVAL_SECONDS": "3600",
               "INSTANCE_PATH": str(workdir / "instance"), "SECRET_KEY": "drill", "LOG_LEVEL": "WARNING"}
        app = create_app({**load_settings(env), "TESTING": True})
        starts = iter(range(100))
        workers = [start_process([PYTHON, "worker.py"], env, workdir / f"worker{next(starts)}.log") for _ in range(2)]
        try:
            wait_for_workers(redis_url, 2)
            enqueue_sweep(redis_url)
            wait_until(lambda: counts(conn).get("with sid", 0) > 0, 180, 0.2, "the first send")
            kills = []
            for number in range(args.kills):
                time.sleep(1.5)
                victim = workers.pop(number % len(workers))
                kill_group(victim)
                kills.append(counts(conn))
                workers.append(start_process([PYTHON, "worker.py"], env, workdir / f"worker{next(starts)}.log"))
                wait_for_workers(redis_url, 2)
            # Sending settles: nothing moves for 5 s.
            previous = None
            for _ in range(120):
                now = counts(conn)
                if now == previous:
                    break
                previous = now
                time.sleep(5)
            before = counts(conn)
            print(f"after the kills, before recovery: {before}", flush=True)
            recovered = recover(app, conn, proxy, app.config["DISPATCH_RECOVERY_MINUTES"])
            print(f"recovery: {recovered}", flush=True)
            later_sweeps = 0
            while counts(conn)["with sid"] < args.reminders:
                # A retry RQ scheduled may wait for a scheduler: the killed worker held the lock, and
                # the others only try for it at their 10-minute maintenance. Production's sweep runs
                # every minute and re-enqueues what is still in the outbox: so does this loop.
                time.sleep(10)
                if counts(conn)["with sid"] < args.reminders:
                    assert later_sweeps < 5, f"still not delivered after {later_sweeps} sweeps: {counts(conn)}"
                    later_sweeps += 1
                    recovered = {k: recovered.get(k, 0) + v for k, v in
                                 recover(app, conn, proxy, app.config["DISPATCH_RECOVERY_MINUTES"]).items()}
            after = counts(conn)
        finally:
            for worker in workers:
                stop_process(worker)
        accepted = [record for record in proxy.records if record.status == 201]
        per_parent = Counter(record.to for record in accepted)
        db_sids = {sid for (sid,) in conn.execute("SELECT provider_sid FROM message WHERE provider_sid IS NOT NULL")}
        messages = conn.execute("SELECT count(*) FROM message").fetchone()[0]
        reminders = dict(conn.execute("SELECT status, count(*) FROM reminder GROUP BY status").fetchall())
    app.extensions["db_engine"].dispose()
    duplicates = sum(n - 1 for n in per_parent.values())
    broken = (messages != args.reminders or len(per_parent) != args.reminders or duplicates
              or db_sids != {r.sid for r in accepted})
    text = "\n".join([
        SUBSECTION, "",
        f"`bench/drills/worker_kill.py --reminders {args.reminders} --kills {args.kills} --delay {args.delay:g}`, "
        f"{time.strftime('%Y-%m-%d')}: two `python worker.py` (2 schools, {args.rate:g}/s each), Prism's answer held "
        f"back {args.delay:g} s; {len(kills)} times a worker's process group got SIGKILL mid-fan-out and a fresh "
        "worker.py replaced it.", "",
        f"- Left by the kills: {before.get('dispatching', 0)} messages in `dispatching` (claimed, worker gone), "
        f"{before.get('outbox', 0)} in the outbox (job lost before its claim).",
        f"- Recovery: {recovered['callbacks']} of them reached Twilio and were claimed by Twilio's signed status "
        f"callback (`?m=<id>` + sid); the sweep (clocks moved past DISPATCH_RECOVERY_MINUTES and the 2-minute grace) "
        f"handed {recovered['recovered_sends']} unreported sends to `recover_send` (which asks Twilio's Messages list "
        "before sending again) and re-enqueued "
        f"{recovered['deliveries']} outbox messages ({later_sweeps} sweeps after the first).",
        f"- Afterwards: {args.reminders} due, {messages} messages, the mock accepted {len(accepted)} requests for "
        f"{len(per_parent)} parents, duplicates {duplicates}; sids in the database = sids the mock gave: "
        f"{'yes' if db_sids == {r.sid for r in accepted} else 'NO'}.", "",
        "Verdict: " + ("BROKEN." if broken else "every parent got exactly one message."),
    ])
    print(f"statuses when each worker was killed: {kills}")
    print(f"after recovery: {after}; reminders: {reminders}")
    print(text)
    print(f"logs: {workdir}")
    if args.write:
        replace_subsection("## Reminder fan-out", SUBSECTION, text)
    sys.exit(1 if broken else 0)


if __name__ == "__main__":
    main()
