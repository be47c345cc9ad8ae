"""Stoplight Prism serving Twilio's OpenAPI spec, and a recording proxy in front of it.

Prism validates every request against Twilio's contract but answers with the spec's fixed
example, so the proxy keeps a copy of what the product actually sent (To, From, Body...), and
gives each created resource a fresh sid as Twilio does (Prism's example sid is always the same,
and the product rightly refuses to store two messages under one sid).
"""
from __future__ import annotations

import json
import shutil
import uuid
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import requests

ROOT = Path(__file__).resolve().parents[2]
PRISM_BIN = ROOT / "tests" / "prism" / "node_modules" / ".bin" / "prism"
SPEC = ROOT.parent / "shared" / "twilio" / "twilio_api_v2010.json"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_prism(log_path: Path, timeout: float = 90) -> tuple[subprocess.Popen, str]:
    """Start Prism on a free port; return the process and its base URL once it listens."""
    if not PRISM_BIN.exists():
        raise RuntimeError("Prism is not installed: run `npm ci --prefix tests/prism` (the test command does)")
    if not SPEC.exists():
        raise RuntimeError(f"Twilio's spec is missing at {SPEC}")
    port = free_port()
    with open(log_path, "w") as log:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen([str(PRISM_BIN), "mock", "-h", "127.0.0.1", "-p", str(port), str(SPEC)],
                                   stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "Prism is listening" in log_path.read_text(errors="replace"):
            return process, f"http://127.0.0.1:{port}"
        if process.poll() is not None:
            break
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"Prism did not start: {log_path.read_text(errors='replace')[-2000:]}")


@dataclass
class RecordedRequest:
    """One request the product made to the Twilio API."""

    method: str
    path: str
    form: dict[str, list[str]]
    status: int
    sid: str | None = None


@dataclass
class RecordingProxy:
    """Forwards to Prism and remembers each request with Prism's verdict."""

    upstream: str
    requests: list[RecordedRequest] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "RecordingProxy":
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                reply = requests.request(self.command, proxy.upstream + self.path, data=body,
                                         headers=headers, timeout=30)
                content, sid = _fresh_sid(reply)
                proxy.requests.append(RecordedRequest(
                    self.command, self.path.split("?")[0], parse_qs(body.decode("utf-8")), reply.status_code, sid))
                self.send_response(reply.status_code)
                for key in ("Content-Type",):
                    if key in reply.headers:
                        self.send_header(key, reply.headers[key])
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_DELETE = _forward

            def log_message(self, *args):  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _fresh_sid(reply: requests.Response) -> tuple[bytes, str | None]:
    """Give a created message or call a unique sid of Twilio's shape (prefix + 32 hex)."""
    if reply.status_code != 201 or "json" not in reply.headers.get("Content-Type", ""):
        return reply.content, None
    document = reply.json()
    prefix = str(document.get("sid", ""))[:2]
    if prefix not in ("SM", "MM", "CA"):
        return reply.content, None
    document["sid"] = prefix + uuid.uuid4().hex
    return json.dumps(document).encode(), document["sid"]


def node_available() -> bool:
    """Whether Node is on the PATH (Prism needs it)."""
    return shutil.which("node") is not None
