"""The RQ worker: `python worker.py`. Builds the app, runs the worker with the scheduler.

A SimpleWorker runs jobs in this process, so translation engines and the language model
stay loaded between jobs instead of being reloaded in a fork for every message. Every worker
offers to queue the sweep each interval; a lease in Redis lets one of them do it. A Redis outage
is waited out (bot/tasks/runner.py); scripts/start and the Procfile's platform restart a worker
that exits anyway.
"""
from __future__ import annotations

import threading

from app import create_app


def main() -> None:
    """Run the worker until stopped."""
    # The worker blocks on the queue on purpose: no socket timeout on its Redis connection.
    app = create_app({"REDIS_SOCKET_TIMEOUT": None})
    queue = app.extensions["queue"]
    stop = threading.Event()
    from bot.tasks.ticker import tick_forever

    threading.Thread(target=tick_forever, args=(queue, app.config["SWEEP_INTERVAL_SECONDS"], stop),
                     daemon=True).start()
    with app.app_context():
        from bot.language.detection import preload
        from bot.tasks.runner import run_worker

        preload()
        run_worker(queue)  # waits out Redis outages by itself
    stop.set()


if __name__ == "__main__":
    main()
