"""Shared pieces of the webhook and fan-out benchmarks and the fault drills.

Scratch services, so a run never disturbs the shared ones: a throwaway database on the shared
PostgreSQL (or a whole throwaway cluster), a spare Redis database (or a private redis-server),
processes started and stopped by pid, a recording proxy in front of Prism that gives each
message its own sid, percentiles, machine details, and replacing one section of
docs/benchmarks.md.
"""
from __future__ import annotations

import contextlib
import http.client
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.support.prism import free_port, start_prism  # noqa: E402  (after the path fix)

PYTHON = str(ROOT / ".venv" / "bin" / "python")
DOC = ROOT / "docs" / "benchmarks.md"
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_SERVER = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379")
# Test runs claim Redis databases 1-12, the rate-limit and translation benches use 13 and 14.
BENCH_REDIS_DB = 15
AUTH_TOKEN = "bench-auth-token-0123456789abcdef"
ACCOUNT_SID = "AC" + "a" * 32

__all__ = ["free_port", "start_prism"]


def machine() -> str:
    """CPU, cores, memory, kernel, Python and the versions that matter here."""
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    memory = int(next(line for line in open("/proc/meminfo") if line.startswith("MemTotal")).split()[1]) / 1024 ** 2
    server = subprocess.run(["psql", PG_ADMIN_URL, "-Atc", "SHOW server_version"], capture_output=True,
                            text=True).stdout.strip() or "?"
    return (f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB RAM, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, PostgreSQL {server.split()[0]}, "
            f"redis-py {version('redis')}, rq {version('rq')}, gunicorn {version('gunicorn')}, "
            f"Flask {version('flask')}, SQLAlchemy {version('sqlalchemy')}, psycopg {version('psycopg')}")


def load_average() -> str:
    """The 1-minute load average (a shared machine: say how busy it was)."""
    return f"{os.getloadavg()[0]:.1f}"


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (fraction in 0..1) of `values`; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(fraction * len(ordered) + 0.5)) - 1))]


@contextlib.contextmanager
def scratch_database(prefix: str):
    """A fresh database on the shared PostgreSQL, migrated to head; dropped afterwards."""
    import psycopg

    from storage.migrate import upgrade

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def spare_redis():
    """Redis database 15 on the shared server, claimed for this run and flushed afterwards."""
    import redis

    url = f"{REDIS_SERVER}/{BENCH_REDIS_DB}"
    connection = redis.Redis.from_url(url)
    owner = uuid.uuid4().hex
    if not connection.set("sendbot-bench:owner", owner, nx=True, ex=3600):
        raise RuntimeError(f"Redis database {BENCH_REDIS_DB} is in use by another bench run")
    connection.flushdb()  # whatever an interrupted earlier run left behind
    connection.set("sendbot-bench:owner", owner, ex=3600)
    try:
        yield url
    finally:
        connection.flushdb()


def start_process(command: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """Start a process in its own session (so stopping it stops its children), logging to a file."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(command, env={**os.environ, **env}, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


def stop_process(process: subprocess.Popen, timeout: float = 15) -> None:
    """SIGTERM the process group we started, then SIGKILL it if it lingers."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)


def wait_until(check, timeout: float, interval: float = 0.2, what: str = "condition"):
    """Poll `check()` until it returns something truthy; raise after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


@dataclass
class SentRecord:
    """One create-message request as it reached the mock: who to, from whom, when, the answer."""

    to: str
    sender: str
    at: float
    status: int
    sid: str | None


class _QuietServer(ThreadingHTTPServer):
    """A threading HTTP server that does not print a traceback when a client hangs up (a
    worker killed while it waits for Twilio's answer, in the drills)."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


@dataclass
class UniqueSidProxy:
    """Forwards the Twilio API to Prism and records every request.

    Prism validates the request against Twilio's contract but answers every create with the
    same example sid; real Twilio gives each message its own, and the product stores sids
    under a unique index. So the proxy rewrites `sid` in a 201 answer to a fresh one.
    """

    upstream: str
    delay: float = 0.0  # seconds between Twilio's answer and passing it on (a slow network)
    records: list[SentRecord] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        """Where the product's TWILIO_API_BASE_URL should point."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "UniqueSidProxy":
        """Serve on a free port in a background thread."""
        proxy, upstream, local = self, urlsplit(self.upstream), threading.local()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: the Twilio client reuses its connection

            def _forward(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                for attempt in (1, 2):
                    reused = hasattr(local, "conn")
                    if not reused:
                        local.conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=30)
                    try:
                        local.conn.request(self.command, self.path, body=body, headers=headers)
                        reply = local.conn.getresponse()
                        content = reply.read()
                        break
                    except (OSError, http.client.HTTPException):
                        local.conn.close()
                        del local.conn
                        # Prism (Node) closes idle keep-alive connections after 5 s: open a new one.
                        if not reused or attempt == 2:
                            raise
                sid = None
                if reply.status == 201 and self.path.split("?")[0].endswith("/Messages.json"):
                    document = json.loads(content)
                    document["sid"] = sid = "SM" + uuid.uuid4().hex
                    content = json.dumps(document).encode()
                if self.path.split("?")[0].endswith("/Messages.json"):
                    form = parse_qs(body.decode("utf-8"))
                    proxy.records.append(SentRecord(form.get("To", [""])[0], form.get("From", [""])[0],
                                                    time.time(), reply.status, sid))
                if proxy.delay:
                    time.sleep(proxy.delay)
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.getheader("Content-Type") or "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_DELETE = _forward

            def log_message(self, *args):
                pass

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, name="twilio-proxy", daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


@contextlib.contextmanager
def prism_with_proxy(workdir: Path, delay: float = 0.0):
    """Prism on Twilio's spec behind a UniqueSidProxy; yields the proxy."""
    process, url = start_prism(workdir / "prism.log")
    proxy = UniqueSidProxy(url, delay).start()
    try:
        yield proxy
    finally:
        proxy.stop()
        process.terminate()
        process.wait(timeout=10)


def _pg_bin() -> Path:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if not versions:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
    return versions[-1].parent


class OwnPostgres:
    """A throwaway PostgreSQL cluster in a temp dir on a free port: restart it at will.

    The shared server is never touched. initdb refuses to run as root, so as root the
    cluster belongs to the `postgres` user.
    """

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="sendbot-pg-"))
        self.port = free_port()
        self.bin = _pg_bin()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.dir, "postgres", "postgres")

    @property
    def url(self) -> str:
        """The URL of the `bench` database."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/bench"

    def _ctl(self, *args: str) -> None:
        subprocess.run([*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), *args],
                       check=True, capture_output=True, timeout=120)

    def start(self) -> "OwnPostgres":
        """initdb (first time) and start on our own port; create the `bench` database."""
        first = not (self.dir / "data").exists()
        if first:
            subprocess.run([*self.as_user, str(self.bin / "initdb"), "-D", str(self.dir / "data"), "-A", "trust",
                            "-U", "postgres", "--no-sync"], check=True, capture_output=True, timeout=120)
        # The port and socket go on every start: the cluster's own config would say 5432.
        self._ctl("start", "-w", "-l", str(self.dir / "log"),
                  "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1")
        if first:
            subprocess.run([str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                            "bench"], check=True, capture_output=True, timeout=60)
        return self

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (`fast` aborts open transactions, `immediate` is a crash)."""
        self._ctl("stop", "-w", "-m", mode)

    def destroy(self) -> None:
        """Stop if running and delete the cluster."""
        with contextlib.suppress(subprocess.CalledProcessError):
            self._ctl("stop", "-w", "-m", "immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.contextmanager
def own_redis():
    """A private redis-server on a free port, nothing saved; yields its URL."""
    port = free_port()
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no"], stdout=subprocess.DEVNULL)
    try:
        wait_until(lambda: _listening(port), 10, 0.05, "redis-server")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def listening(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:`port`."""
    return _listening(port)


def section_text(heading: str) -> str | None:
    """The current text of one `## ...` section of docs/benchmarks.md, if it exists."""
    if not DOC.exists():
        return None
    lines = DOC.read_text(encoding="utf-8").rstrip("\n").split("\n")
    starts = [i for i, line in enumerate(lines) if line.startswith("## ")]
    ours = next((i for i in starts if lines[i].strip() == heading), None)
    if ours is None:
        return None
    end = next((i for i in starts if i > ours), len(lines))
    return "\n".join(lines[ours:end]).rstrip("\n")


def replace_subsection(heading: str, subheading: str, text: str) -> None:
    """Replace (or append) one `### ...` block inside the `## ...` section `heading`."""
    current = section_text(heading) or heading
    lines = current.split("\n")
    starts = [i for i, line in enumerate(lines) if line.startswith("### ")]
    ours = next((i for i in starts if lines[i].strip() == subheading), None)
    block = text.rstrip("\n").split("\n")
    if ours is None:
        lines += [""] + block
    else:
        end = next((i for i in starts if i > ours), len(lines))
        lines[ours:end] = block + ([""] if end < len(lines) else [])
    replace_section(heading, "\n".join(lines))


def kept_subsections(heading: str, prefix: str) -> str:
    """The `### <prefix>...` blocks of a section, to carry over when the section is rewritten."""
    current = section_text(heading)
    if not current:
        return ""
    lines = current.split("\n")
    starts = [i for i, line in enumerate(lines) if line.startswith("### ")] + [len(lines)]
    blocks = ["\n".join(lines[a:b]).rstrip("\n") for a, b in zip(starts, starts[1:])
              if lines[a].startswith("### " + prefix)]
    return "\n\n".join(blocks)


def replace_section(heading: str, text: str, before: str | None = None) -> None:
    """Replace (or add) one `## ...` section of docs/benchmarks.md, leaving the others alone.

    A new section goes before the section named `before` if it exists, else at the end.
    """
    current = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    lines = current.rstrip("\n").split("\n")
    starts = [i for i, line in enumerate(lines) if line.startswith("## ")]
    ours = next((i for i in starts if lines[i].strip() == heading), None)
    block = text.rstrip("\n").split("\n")
    if ours is not None:
        end = next((i for i in starts if i > ours), len(lines))
        lines[ours:end] = block + ([""] if end < len(lines) else [])
    else:
        anchor = next((i for i in starts if lines[i].strip() == before), None) if before else None
        if anchor is None:
            lines += [""] + block
        else:
            lines[anchor:anchor] = block + [""]
    DOC.write_text("\n".join(lines) + "\n", encoding="utf-8")


def ensure_machine_section() -> None:
    """Add a short `## Machine` section at the top of docs/benchmarks.md if there is none."""
    if section_text("## Machine") is not None:
        return
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    first = next((line.strip() for line in text.split("\n") if line.startswith("## ")), None)
    replace_section("## Machine", "\n".join([
        "## Machine", "",
        f"Unless a section says otherwise: {machine()}. A shared machine: other work may run at the same time, "
        "so each section gives its load average, and every comparison is between figures from the same run.",
    ]), before=first)
