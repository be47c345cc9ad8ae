"""The RQ worker: `python worker.py`. Builds the app, runs the worker with the scheduler.

A SimpleWorker runs jobs in this process, so translation engines and the language model
stay loaded between jobs instead of being reloaded in a fork for every message.
"""
from __future__ import annotations

import os
import threading

from rq import SimpleWorker

from app import create_app

SWEEP_INTERVAL_SECONDS = int(os.environ.get("SWEEP_INTERVAL_SECONDS", "60"))


def _sweep_forever(queue, stop: threading.Event) -> None:
    # The database is the truth: every minute, whatever is still pending is enqueued again
    # (a Redis restart or flush loses no work). Enqueueing is all this thread does.
    from bot.jobs import sweep_pending

    while not stop.wait(SWEEP_INTERVAL_SECONDS):
        try:
            queue.enqueue(sweep_pending)
        except Exception as error:  # Redis down: try again next time
            print(f"sweep not enqueued: {type(error).__name__}", flush=True)


def main() -> None:
    """Run the worker until stopped."""
    app = create_app()
    queue = app.extensions["queue"]
    stop = threading.Event()
    threading.Thread(target=_sweep_forever, args=(queue, stop), daemon=True).start()
    with app.app_context():
        from bot.language import preload

        preload()
        # Maintenance every minute (not RQ's default ten): if the worker holding the scheduler
        # lock dies, another takes over retries and quiet-hours holds within a minute or two.
        SimpleWorker([queue], connection=queue.connection, maintenance_interval=60).work(with_scheduler=True)
    stop.set()


if __name__ == "__main__":
    main()
