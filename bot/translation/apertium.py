"""Apertium: offline rule-based translation from Debian packages, one live pipeline per pair.

Starting `apertium -u spa-eng` per message costs 200-350 ms; keeping the pair's stage
pipeline running with null-flush (the trick apertium-apy uses) costs ~4 ms per message.
Each request writes `<escaped text>\\n NUL <nonce> NUL` and reads up to `<nonce> NUL`; the
nonce is a "superblank" that every stage passes through untouched. A pipeline that dies or
hangs is killed and started again once; a second failure is a TranslationFailed.
"""
from __future__ import annotations

import os
import re
import secrets
import select
import shutil
import signal
import subprocess
import threading
import time
import weakref
from pathlib import Path

from bot.translation import TranslationFailed

# ISO 639-3 (Apertium's codes) -> ISO 639-1 (the rest of the bot's codes).
ISO3_TO_ISO1 = {
    "afr": "af", "amh": "am", "ara": "ar", "arg": "an", "aze": "az", "bel": "be", "ben": "bn",
    "bos": "bs", "bre": "br", "bul": "bg", "cat": "ca", "ces": "cs", "cos": "co", "cym": "cy",
    "dan": "da", "deu": "de", "ell": "el", "eng": "en", "epo": "eo", "est": "et", "eus": "eu",
    "fao": "fo", "fas": "fa", "fin": "fi", "fra": "fr", "gla": "gd", "gle": "ga", "glg": "gl",
    "guj": "gu", "hau": "ha", "hbs": "sh", "heb": "he", "hin": "hi", "hrv": "hr", "hun": "hu",
    "hye": "hy", "ibo": "ig", "ind": "id", "isl": "is", "ita": "it", "jpn": "ja", "kat": "ka",
    "kaz": "kk", "kir": "ky", "kor": "ko", "kur": "ku", "lav": "lv", "lin": "ln", "lit": "lt",
    "ltz": "lb", "mal": "ml", "mkd": "mk", "mlt": "mt", "msa": "ms", "nep": "ne", "nld": "nl",
    "nno": "nn", "nob": "nb", "oci": "oc", "pan": "pa", "pol": "pl", "por": "pt", "pus": "ps",
    "ron": "ro", "rus": "ru", "sin": "si", "slk": "sk", "slv": "sl", "sme": "se", "som": "so",
    "spa": "es", "sqi": "sq", "srd": "sc", "srp": "sr", "swa": "sw", "swe": "sv", "tam": "ta",
    "tat": "tt", "tel": "te", "tgl": "tl", "tha": "th", "tir": "ti", "tur": "tr", "ukr": "uk",
    "urd": "ur", "uzb": "uz", "vie": "vi", "yor": "yo", "zho": "zh",
}
ISO1_TO_ISO3 = {iso1: iso3 for iso3, iso1 in ISO3_TO_ISO1.items()}

_MODE_FILE = re.compile(r"^([a-z]{2,3})-([a-z]{2,3})\.mode$")  # variants like spa-eng_US skipped
_SPECIAL = re.compile(r"([\[\]{}^$/\\@<>])")  # Apertium's stream format reserves these
_ESCAPED = re.compile(r"\\(.)", re.S)


def iso3(code: str) -> str:
    """Apertium's code for an ISO 639-1 code ("es" -> "spa"); unknown codes pass through."""
    return ISO1_TO_ISO3.get(code, code)


def discover_pairs(modes_dir: Path) -> dict[tuple[str, str], str]:
    """Installed pairs as {(source, target) in ISO 639-1: mode name} from the modes dir."""
    pairs = {}
    for mode in sorted(modes_dir.glob("*.mode")):
        match = _MODE_FILE.match(mode.name)
        if match:
            source, target = (ISO3_TO_ISO1.get(c, c) for c in match.groups())
            pairs[(source, target)] = mode.stem
    return pairs


class ApertiumPipe:
    """One long-running null-flush pipeline for one mode; thread-safe, restarts itself."""

    def __init__(self, mode_path: Path):
        self.mode_path = mode_path
        self.lock = threading.Lock()
        self.proc: subprocess.Popen | None = None
        self._owner_pid = 0
        self._finalizer: weakref.finalize | None = None

    def translate(self, text: str) -> str:
        """Translate one text through the pipeline, restarting it once if it has died."""
        payload = _SPECIAL.sub(r"\\\1", text.replace("\0", "")).encode("utf-8") + b"\n"
        timeout = 15.0 + len(payload) / 100  # generous: a healthy pipe answers in milliseconds
        with self.lock:
            for attempt in (1, 2):
                try:
                    self._ensure_running()
                    raw = self._exchange(payload, timeout)
                    return _ESCAPED.sub(r"\1", raw.decode("utf-8", "replace")).strip()
                except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
                    self._stop()
                    if attempt == 2:
                        raise TranslationFailed(f"apertium {self.mode_path.stem} pipeline "
                                                f"failed: {type(exc).__name__}") from exc
        raise AssertionError("unreachable")

    def _ensure_running(self) -> None:
        if self.proc is not None and self._owner_pid != os.getpid():
            # Forked (e.g. an RQ work horse): the parent owns that pipeline; leave it be.
            self._stop()
        if self.proc is None or self.proc.poll() is not None:
            self._stop()
            self._start()

    def _start(self) -> None:
        script = subprocess.run(["apertium-wblank-mode", "-z", str(self.mode_path)], check=True,
                                capture_output=True, text=True, timeout=10).stdout
        # $1=-n: no '*' marks on unknown words; $2: tagger option (none). Own process group so
        # _stop can end every stage. stderr is dropped: stages may echo input text there.
        self.proc = subprocess.Popen(["bash", "-c", script, "_", "-n", ""], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     bufsize=0, start_new_session=True)
        self._owner_pid = os.getpid()
        # Stops the pipeline if this object is dropped without close(), and at exit.
        self._finalizer = weakref.finalize(self, _terminate, self.proc, self._owner_pid)

    def _exchange(self, payload: bytes, timeout: float) -> bytes:
        nonce = f"[/NONCE:{secrets.token_hex(8)}]".encode() + b"\0"
        self.proc.stdin.write(payload + b"\0" + nonce)
        fd, buf = self.proc.stdout.fileno(), bytearray()
        deadline = time.monotonic() + timeout
        while not buf.endswith(nonce):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise RuntimeError("apertium pipeline did not answer in time")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise RuntimeError("apertium pipeline exited")
            buf += chunk
        return bytes(buf[: -len(nonce)]).replace(b"\0", b"")

    def _stop(self) -> None:
        self.proc = None
        if self._finalizer is not None:
            self._finalizer()  # runs _terminate once

    def close(self) -> None:
        """Stop the pipeline (it starts again on the next translate)."""
        with self.lock:
            self._stop()


def _terminate(proc: subprocess.Popen, owner_pid: int) -> None:
    """End a pipeline: EOF first (every stage exits), the whole process group if it hangs."""
    for stream in (proc.stdin, proc.stdout):
        try:
            stream.close()
        except OSError:
            pass
    if os.getpid() != owner_pid:
        return  # a forked child only drops its copies; the parent still uses the pipeline
    try:
        proc.wait(timeout=2)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=5)


class ApertiumEngine:
    """Translate with the Apertium pairs installed under APERTIUM_MODES_DIR."""

    name = "apertium"

    def __init__(self, modes_dir: str | Path = "/usr/share/apertium/modes"):
        self.modes_dir = Path(modes_dir)
        self._pipes: dict[str, ApertiumPipe] = {}
        self._lock = threading.Lock()

    def _not_installed_reason(self) -> str | None:
        if shutil.which("apertium-wblank-mode") is None or shutil.which("lt-proc") is None:
            return "apertium is not installed on this server"
        if not self.modes_dir.is_dir():
            return f"apertium has no language pairs installed ({self.modes_dir} not found)"
        return None

    def pairs(self) -> dict[tuple[str, str], str]:
        """Installed pairs, read from the modes dir each time (a directory listing is cheap)."""
        return {} if self._not_installed_reason() else discover_pairs(self.modes_dir)

    def unsupported_reason(self, source: str, target: str) -> str | None:
        """None if Apertium can translate source -> target, else why not."""
        missing = self._not_installed_reason()
        if missing:
            return missing
        if (source, target) not in discover_pairs(self.modes_dir):
            return f"apertium has no {iso3(source)}-{iso3(target)} pair"
        return None

    def translate(self, text: str, source: str, target: str) -> str:
        """Translate through the pair's persistent pipeline (started on first use)."""
        mode = self.pairs().get((source, target))
        if mode is None:
            raise TranslationFailed(f"apertium {iso3(source)}-{iso3(target)} pair disappeared")
        with self._lock:
            pipe = self._pipes.get(mode)
            if pipe is None:
                pipe = self._pipes[mode] = ApertiumPipe(self.modes_dir / f"{mode}.mode")
        return pipe.translate(text)

    def describe(self) -> dict:
        """Status for a status page: availability, pairs, modes dir."""
        reason = self._not_installed_reason()
        pairs = sorted(self.pairs())
        if reason is None and not pairs:
            reason = f"apertium has no language pairs installed in {self.modes_dir}"
        return {"name": self.name, "available": reason is None, "pairs": pairs,
                "reason": reason, "modes_dir": str(self.modes_dir)}

    def close(self) -> None:
        """Stop every running pipeline."""
        with self._lock:
            pipes, self._pipes = list(self._pipes.values()), {}
        for pipe in pipes:
            pipe.close()
