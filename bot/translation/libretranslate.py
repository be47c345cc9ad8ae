"""LibreTranslate: translation by a LibreTranslate HTTP server (for larger deployments).

Speaks the documented API: GET /languages -> [{"code", "name", "targets"}], and POST
/translate with q, source, target, format=text (and api_key) -> {"translatedText"}.
A server that is down, slow, rate-limiting (429) or failing (5xx) raises TranslationFailed,
so the job retries; a refused API key or an unsupported language is TranslationUnavailable.
The language list is cached for a few minutes so routing a message costs no extra request.
"""
from __future__ import annotations

import threading
import time
import weakref

import requests

from bot.translation import TranslationFailed, TranslationUnavailable

LANGUAGES_TTL_SECONDS = 300.0


class LibreTranslateEngine:
    """Translate through a LibreTranslate server at LIBRETRANSLATE_URL."""

    name = "libretranslate"

    def __init__(self, url: str, api_key: str | None = None, timeout: float = 10.0):
        self.url = (url or "").rstrip("/")
        self.api_key = api_key
        self.timeout = float(timeout)
        self._session = requests.Session()
        weakref.finalize(self, self._session.close)  # no unclosed sockets if close() is skipped
        self._lock = threading.Lock()
        self._languages: dict[str, set[str]] | None = None
        self._fetched_at = 0.0

    def languages(self) -> dict[str, set[str]]:
        """{source code: target codes} from the server's /languages (cached)."""
        with self._lock:
            fresh = time.monotonic() - self._fetched_at < LANGUAGES_TTL_SECONDS
            if self._languages is not None and fresh:
                return self._languages
        body = self._request("GET", "/languages")
        if not isinstance(body, list):
            raise TranslationFailed("libretranslate /languages did not return a list")
        codes = {entry["code"] for entry in body}
        # Servers older than the "targets" field translate between all their languages.
        table = {entry["code"]: set(entry["targets"] if "targets" in entry else codes)
                 - {entry["code"]} for entry in body}
        with self._lock:
            self._languages, self._fetched_at = table, time.monotonic()
        return table

    def _server_code(self, code: str, known) -> str | None:
        """The server's spelling of a code ("pt" may be served as "pt-BR", "zh" as "zh-Hans")."""
        if code in known:
            return code
        return next((k for k in sorted(known) if k.split("-")[0].lower() == code), None)

    def unsupported_reason(self, source: str, target: str) -> str | None:
        """None if the server translates source -> target; TranslationFailed if unreachable."""
        if not self.url:
            return "libretranslate is not set up (LIBRETRANSLATE_URL is empty)"
        table = self.languages()
        server_source = self._server_code(source, table)
        if server_source is None:
            return f"libretranslate at {self.url} does not know {source}"
        if self._server_code(target, table[server_source]) is None:
            return f"libretranslate at {self.url} cannot translate {source} to {target}"
        return None

    def translate(self, text: str, source: str, target: str) -> str:
        """POST /translate; returns translatedText."""
        table = self.languages()
        server_source = self._server_code(source, table) or source
        server_target = self._server_code(target, table.get(server_source, ())) or target
        form = {"q": text, "source": server_source, "target": server_target, "format": "text"}
        if self.api_key:
            form["api_key"] = self.api_key
        body = self._request("POST", "/translate", json=form)
        translated = body.get("translatedText") if isinstance(body, dict) else None
        if not isinstance(translated, str):
            raise TranslationFailed("libretranslate answered without translatedText")
        return translated.strip()

    def _request(self, method: str, path: str, **kwargs):
        try:
            response = self._session.request(method, self.url + path, timeout=self.timeout,
                                             **kwargs)
        except requests.Timeout as exc:
            raise TranslationFailed(f"libretranslate at {self.url} timed out after "
                                    f"{self.timeout:g} s") from exc
        except requests.RequestException as exc:
            raise TranslationFailed(f"libretranslate at {self.url} is unreachable "
                                    f"({type(exc).__name__})") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise TranslationFailed(f"libretranslate at {self.url} answered HTTP "
                                    f"{response.status_code}")
        if response.status_code in (401, 403):
            raise TranslationUnavailable(f"libretranslate at {self.url} refused the API key "
                                         f"(HTTP {response.status_code}); check "
                                         "LIBRETRANSLATE_API_KEY")
        if response.status_code >= 400:
            raise TranslationUnavailable(f"libretranslate at {self.url} rejected the request: "
                                         f"{_error_text(response)}")
        try:
            return response.json()
        except ValueError as exc:
            raise TranslationFailed(f"libretranslate at {self.url} sent a reply that is not "
                                    "JSON") from exc

    def describe(self) -> dict:
        """Status for a status page: server URL, availability, pairs or why not."""
        info = {"name": self.name, "url": self.url, "available": False, "pairs": [], "reason": None}
        if not self.url:
            info["reason"] = "libretranslate is not set up (LIBRETRANSLATE_URL is empty)"
            return info
        try:
            table = self.languages()
        except (TranslationFailed, TranslationUnavailable) as exc:
            info["reason"] = str(exc)
            return info
        info["pairs"] = sorted((s, t) for s, targets in table.items() for t in targets)
        info["available"] = bool(info["pairs"])
        if not info["available"]:
            info["reason"] = f"libretranslate at {self.url} has no languages loaded"
        return info

    def close(self) -> None:
        """Close pooled HTTP connections."""
        self._session.close()


def _error_text(response: requests.Response) -> str:
    """LibreTranslate's {"error": ...} message, shortened (it never contains the text sent)."""
    try:
        message = response.json().get("error")
    except (ValueError, AttributeError):
        message = None
    return str(message or f"HTTP {response.status_code}")[:200]
