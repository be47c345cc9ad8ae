"""Redis cache of translations, keyed by engine, pair and a keyed hash of the text.

Parents repeat themselves ("ok", "thank you", "yes"), and staff send the same replies, so a
cache saves engine time. Key names carry only an HMAC-SHA-256 of the text under the app's
secret, never the text: key names show up in monitoring tools and `redis-cli --scan`, and an
unkeyed hash of a short message ("yes", a child's name) could be guessed back. Values are
message text, so they live briefly (TRANSLATION_CACHE_TTL, a day by default) and `forget`
removes one when its message is deleted.
A cache fault never breaks translation: after a Redis error the cache is bypassed for a
short while instead of paying a connection timeout on every message.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import time

import redis as redis_lib

log = logging.getLogger(__name__)

KEY_PREFIX = "translation:v2"  # v2: keyed hash (v1 keys, unkeyed, expire on their own)
RETRY_AFTER_SECONDS = 30.0


def cache_key(engine: str, source: str, target: str, text: str, secret: bytes) -> str:
    """The Redis key for one translation: no message text, only its keyed hash."""
    digest = hmac.new(secret, text.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{KEY_PREFIX}:{engine}:{source}:{target}:{digest}"


class TranslationCache:
    """get/set translated text in Redis with a TTL, tolerating Redis being down."""

    def __init__(self, redis: redis_lib.Redis, ttl_seconds: int, secret: str | bytes):
        self.redis = redis
        self.ttl_seconds = int(ttl_seconds)
        self.secret = secret.encode("utf-8") if isinstance(secret, str) else secret
        self._bypass_until = 0.0
        self.hits = 0
        self.misses = 0

    def get(self, engine: str, source: str, target: str, text: str) -> str | None:
        """The cached translation, or None on a miss or when Redis is unreachable."""
        if self._bypassed():
            return None
        try:
            value = self.redis.get(cache_key(engine, source, target, text, self.secret))
        except redis_lib.RedisError as exc:
            self._trip(exc)
            return None
        if value is None:
            self.misses += 1
            return None
        self.hits += 1
        return value.decode("utf-8") if isinstance(value, bytes) else str(value)

    def set(self, engine: str, source: str, target: str, text: str, translated: str) -> None:
        """Store a translation for ttl_seconds; silently skipped when Redis is unreachable."""
        if self._bypassed():
            return
        try:
            self.redis.set(cache_key(engine, source, target, text, self.secret), translated.encode("utf-8"),
                           ex=self.ttl_seconds)
        except redis_lib.RedisError as exc:
            self._trip(exc)

    def forget(self, engines: list[str], source: str, target: str, text: str) -> None:
        """Remove a text's cached translations (every engine), as its message is deleted."""
        keys = [cache_key(engine, source, target, text, self.secret) for engine in engines]
        try:
            self.redis.delete(*keys)
        except redis_lib.RedisError as exc:
            self._trip(exc)

    def _bypassed(self) -> bool:
        return time.monotonic() < self._bypass_until

    def _trip(self, exc: Exception) -> None:
        self._bypass_until = time.monotonic() + RETRY_AFTER_SECONDS
        log.warning("translation cache unavailable (%s); translating without it for %.0f s",
                    type(exc).__name__, RETRY_AFTER_SECONDS)
