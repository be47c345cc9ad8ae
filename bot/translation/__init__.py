"""Machine translation behind one small interface; the engine is chosen by configuration.

`build_translator(config, redis)` reads TRANSLATION_ENGINE (an ordered preference such as
"argos,apertium", or "none") and returns a `Translator`. For each request the first engine
that supports the language pair is used, so a machine with Apertium but no Argos pack still
translates Spanish. When no engine can, `TranslationUnavailable` says why in plain English;
a transient fault (a LibreTranslate server down) raises `TranslationFailed` so the job retries.

Engines are imported lazily: building a translator starts no process and loads no model.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from bot.translation.protect import LostToken, protect, restore

log = logging.getLogger(__name__)

__all__ = ["build_translator", "Translator", "TranslationResult", "TranslationUnavailable",
           "TranslationFailed", "language_name"]

ENGINE_NAMES = ("argos", "apertium", "libretranslate")
_CODE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")


class TranslationUnavailable(Exception):
    """No configured engine can translate this pair; `reason` is the technical detail for an
    administrator, `gap` its kind for staff: no_engine | turned_off | mangled | other."""

    def __init__(self, reason: str, gap: str = "other"):
        super().__init__(reason)
        self.reason, self.gap = reason, gap


class TranslationFailed(Exception):
    """A transient fault (server down, timeout, crashed pipeline): retrying may succeed."""


@dataclass(frozen=True)
class TranslationResult:
    """Translated text and which engine made it (`cached` if it came from the cache)."""

    text: str
    engine: str
    cached: bool = False


class Engine(Protocol):
    """What every engine module provides."""

    name: str

    def unsupported_reason(self, source: str, target: str) -> str | None: ...
    def translate(self, text: str, source: str, target: str) -> str: ...
    def describe(self) -> dict: ...
    def close(self) -> None: ...


def language_name(code: str) -> str:
    """English name of an ISO 639-1 code ("so" -> "Somali"), or the code itself if unknown."""
    try:
        from babel import Locale

        return Locale.parse(code.replace("-", "_")).get_display_name("en") or code
    except Exception:  # babel knows no such locale: the code is still informative
        return code


def _normalise_code(code: str) -> str:
    normalised = (code or "").strip().lower()
    if not _CODE.match(normalised):
        raise ValueError(f"not a language code: {code!r}")
    return normalised


class Translator:
    """Routes each request to the first engine that supports the pair, through the cache."""

    def __init__(self, engines: list[Engine], cache=None):
        self.engines = list(engines)
        self.cache = cache

    def supports(self, source: str, target: str) -> bool:
        """True if some configured engine can translate source -> target right now."""
        source, target = _normalise_code(source), _normalise_code(target)
        for engine in self.engines:
            try:
                if engine.unsupported_reason(source, target) is None:
                    return True
            except (TranslationFailed, TranslationUnavailable):
                continue  # unreachable or refusing now, so not a yes
        return False

    def translate(self, text: str, source: str, target: str, keep: tuple[str, ...] = ()) -> TranslationResult:
        """Translate text, passing times, dates, numbers, addresses, emoji and the names in `keep`
        through unchanged; raises TranslationUnavailable or TranslationFailed (see module doc)."""
        source, target = _normalise_code(source), _normalise_code(target)
        if source == target:
            raise ValueError(f"source and target are both {source!r}; nothing to translate")
        if not self.engines:
            raise TranslationUnavailable("machine translation is turned off "
                                         "(TRANSLATION_ENGINE=none)", gap="turned_off")
        text = text.strip()
        reasons: list[str] = []
        failure: TranslationFailed | None = None
        for engine in self.engines:
            try:
                reason = engine.unsupported_reason(source, target)
            except TranslationUnavailable as exc:
                reason = exc.reason
            except TranslationFailed as exc:
                failure, reason = exc, f"{engine.name} is not reachable"
            if reason is not None:
                reasons.append(reason)
                continue
            if not text:
                return TranslationResult(text="", engine=engine.name)
            try:
                return self._translate_with(engine, text, source, target, keep)
            except TranslationUnavailable as exc:
                reasons.append(exc.reason)
            except TranslationFailed as exc:
                # A later engine that also supports the pair keeps messages flowing.
                log.warning("translation engine %s failed (%s); trying the next one",
                            engine.name, type(exc.__cause__ or exc).__name__)
                failure = exc
        if failure is not None:
            raise TranslationFailed(f"no engine could translate {source}->{target} just now: "
                                    f"{failure}") from failure
        raise TranslationUnavailable(f"no engine translates {language_name(source)} to "
                                     f"{language_name(target)}: " + "; ".join(reasons), gap="no_engine")

    def _translate_with(self, engine: Engine, text: str, source: str, target: str, keep: tuple[str, ...] = ()):
        if self.cache is not None:
            hit = self.cache.get(engine.name, source, target, text)
            if hit is not None:
                return TranslationResult(text=hit, engine=engine.name, cached=True)
        protected = protect(text, keep)
        try:
            translated = restore(engine.translate(protected.text, source, target), protected)
        except LostToken as lost:
            raise TranslationUnavailable(f"{engine.name}'s translation changed what must stay as written "
                                         f"({lost}), so it is not used", gap="mangled") from None
        if self.cache is not None:
            self.cache.set(engine.name, source, target, text, translated)
        return TranslationResult(text=translated, engine=engine.name)

    def describe(self) -> list[dict]:
        """Per engine: name, available, pairs (list of (source, target)) or reason."""
        return [engine.describe() for engine in self.engines]

    def close(self) -> None:
        """Stop engine processes (Apertium pipelines) and HTTP sessions."""
        for engine in self.engines:
            engine.close()

    def __enter__(self) -> Translator:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def engine_names(config: Mapping[str, Any]) -> list[str]:
    """The ordered engine names from TRANSLATION_ENGINE ([] for "none"); rejects unknown names."""
    raw = config.get("TRANSLATION_ENGINE") or "argos,apertium"
    names = [name.strip().lower() for name in str(raw).split(",") if name.strip()]
    if names == ["none"]:
        return []
    unknown = [name for name in names if name not in ENGINE_NAMES]
    if unknown or not names:
        raise ValueError(f"TRANSLATION_ENGINE={raw!r}: use 'none' or a comma-separated list of "
                         f"{', '.join(ENGINE_NAMES)}")
    return list(dict.fromkeys(names))


def _build_engine(name: str, config: Mapping[str, Any]) -> Engine:
    if name == "argos":
        from bot.translation.argos import ArgosEngine

        return ArgosEngine()
    if name == "apertium":
        from bot.translation.apertium import ApertiumEngine

        return ApertiumEngine(config.get("APERTIUM_MODES_DIR") or "/usr/share/apertium/modes")
    from bot.translation.libretranslate import LibreTranslateEngine

    return LibreTranslateEngine(url=config.get("LIBRETRANSLATE_URL") or "",
                                api_key=config.get("LIBRETRANSLATE_API_KEY") or None,
                                timeout=float(config.get("LIBRETRANSLATE_TIMEOUT") or 10))


def build_translator(config: Mapping[str, Any], redis=None) -> Translator:
    """A Translator for the configured engines; `redis` (a redis.Redis) enables the cache."""
    engines = [_build_engine(name, config) for name in engine_names(config)]
    cache = None
    if redis is not None:
        from bot.translation.cache import TranslationCache

        ttl = int(config.get("TRANSLATION_CACHE_TTL") or 24 * 3600)
        cache = TranslationCache(redis, ttl_seconds=ttl, secret=config["SECRET_KEY"])
    return Translator(engines, cache)
