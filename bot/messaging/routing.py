"""Which channel a message goes by, and where it goes when that channel fails (pure functions).

WhatsApp only takes free text within 24 hours of the parent's last message; outside that
window it needs a template Meta has approved, and a message a parent cannot receive there
should still reach them by SMS. Nothing here sends: the caller stores the route on the
message and, for a failover, queues a new message with `failover_of_id` pointing at the old.

Approved WhatsApp templates are configured as a JSON object in `WHATSAPP_TEMPLATES` (an
environment variable or app config value), template key → language → content SID:

    WHATSAPP_TEMPLATES='{"review.reminder": {"en": "HX0123…", "pl": "HX4567…"},
                         "review.contribution_request": {"en": "HX89ab…"}}'

Template keys are the catalogue keys of templates_i18n; languages are the codes guardians'
`preferred_language` uses ("pl", "pt-BR"; "pt-BR" falls back to "pt"); SIDs are "HX" and 32
hex digits. A language without an approved template means: send by SMS, never in English.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping

from bot.messaging.channel import BLOCKED, BUSY, INVALID_NUMBER, OPTED_OUT, UNREACHABLE, DeliveryError
from bot.messaging.quiet_hours import require_aware

SESSION_WINDOW = timedelta(hours=24)
# A message queued at 23h55 may leave after the window shuts; treating the last minutes as
# closed avoids a 63016 and the failover round trip it costs.
SESSION_SAFETY_MARGIN = timedelta(minutes=10)
# Voice calls exist (bot/calls/): a "voice" route places a call, and a text that reached no
# handset fails over to one.
VOICE_AVAILABLE = True
FAILED_STATUSES = frozenset({"failed", "undelivered"})
# The family (or their number) said no: failing over would go around their choice.
NEVER_FAIL_OVER = frozenset({OPTED_OUT, BLOCKED, INVALID_NUMBER})
_CONTENT_SID = re.compile(r"HX[0-9a-fA-F]{32}")


@dataclass(frozen=True)
class Route:
    """How to send one message: "whatsapp", "sms" or "voice"; `use_template` = WhatsApp content SID."""

    channel: str
    use_template: bool
    reason: str


def in_session_window(last_inbound_at: datetime | None, now_utc: datetime) -> bool:
    """Whether WhatsApp still accepts free text (the parent wrote within the last 24 hours)."""
    if last_inbound_at is None:
        return False
    elapsed = require_aware(now_utc, "now_utc") - require_aware(last_inbound_at, "last_inbound_at")
    return elapsed < SESSION_WINDOW - SESSION_SAFETY_MARGIN


def choose_route(preferred_channel: str, last_inbound_at: datetime | None, now_utc: datetime,
                 template_available: bool, whatsapp_capable_sender: bool) -> Route:
    """The route for a guardian's next message, from their preference and WhatsApp's rules."""
    if preferred_channel == "voice":
        return Route("voice", False, "The family prefers phone calls.")
    if preferred_channel != "whatsapp":
        reason = "The family prefers SMS." if preferred_channel == "sms" else (
            f"Unknown channel preference {preferred_channel!r}: sent by SMS.")
        return Route("sms", False, reason)
    if not whatsapp_capable_sender:
        return Route("sms", False, "The school has no WhatsApp number: sent by SMS.")
    if in_session_window(last_inbound_at, now_utc):
        return Route("whatsapp", False, "The parent wrote on WhatsApp within 24 hours.")
    if template_available:
        return Route("whatsapp", True, "Outside WhatsApp's 24-hour window: using an approved template.")
    return Route("sms", False, "Outside WhatsApp's 24-hour window and no approved template "
                               "in the family's language: sent by SMS.")


def deliverable_route(route: Route, voice_available: bool = VOICE_AVAILABLE) -> Route:
    """The route a message can actually take today: "voice" becomes SMS until calls exist."""
    if route.channel == "voice" and not voice_available:
        return Route("sms", False, "Phone calls are not available yet: sent by SMS.")
    return route


def is_transient(error: DeliveryError | None) -> bool:
    """Whether the provider was only busy: retry the same route later, no failover."""
    return error is not None and error.category == BUSY


def failover_after(route: Route, error: DeliveryError | None, status: str,
                   voice_available: bool = VOICE_AVAILABLE) -> Route | None:
    """The next route after a failed delivery, or None: stop (and tell staff, unless transient).

    Never around an opt-out, a block or a number that is invalid everywhere. WhatsApp failures
    go to SMS; SMS failures reaching no handset go to a call where calls exist; a call that
    fails has nowhere left to go.
    """
    category = error.category if error else None
    if status not in FAILED_STATUSES or category in NEVER_FAIL_OVER or is_transient(error):
        return None
    what = f" ({error.explanation.rstrip('.')})" if error and error.code else ""
    if route.channel == "whatsapp":
        return Route("sms", False, f"WhatsApp did not deliver it{what}: sent by SMS instead.")
    if route.channel == "sms" and voice_available and (error is None or error.code is None or category == UNREACHABLE):
        return Route("voice", False, f"The text did not arrive{what}: phoning instead.")
    return None


def parse_whatsapp_templates(raw: str | Mapping | None) -> dict[str, dict[str, str]]:
    """Validate the WHATSAPP_TEMPLATES setting (JSON text, or already parsed); empty if unset."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as error:
            raise ValueError(f"WHATSAPP_TEMPLATES is not valid JSON: {error.msg}") from None
    if not isinstance(raw, Mapping):
        raise ValueError("WHATSAPP_TEMPLATES must be an object: template key -> language -> content SID")
    config: dict[str, dict[str, str]] = {}
    for key, languages in raw.items():
        if not isinstance(languages, Mapping):
            raise ValueError(f"WHATSAPP_TEMPLATES[{key!r}] must map languages to content SIDs")
        for language, sid in languages.items():
            if not isinstance(sid, str) or not _CONTENT_SID.fullmatch(sid):
                raise ValueError(f"WHATSAPP_TEMPLATES[{key!r}][{language!r}] is not a content SID "
                                 "(HX followed by 32 hex digits)")
        config[key] = {_normalise_language(language): sid for language, sid in languages.items()}
    return config


def merge_templates(configured: Mapping[str, Mapping[str, str]], school: Mapping | None) -> dict[str, dict[str, str]]:
    """The deployment's templates with a school's own (from its settings page) on top; a school's
    stored value is checked like the setting, and one that does not parse is ignored."""
    merged = {key: dict(languages) for key, languages in configured.items()}
    try:
        own = parse_whatsapp_templates(school) if school else {}
    except ValueError:
        own = {}
    for key, languages in own.items():
        merged.setdefault(key, {}).update(languages)
    return merged


def templates_from_env(environ: Mapping[str, str] = os.environ) -> dict[str, dict[str, str]]:
    """The WhatsApp templates configured in the WHATSAPP_TEMPLATES environment variable."""
    return parse_whatsapp_templates(environ.get("WHATSAPP_TEMPLATES"))


def template_for(config: Mapping[str, Mapping[str, str]], key: str, language: str | None) -> str | None:
    """The approved content SID for a template in a language ("pt-BR" falls back to "pt")."""
    if not language or key not in config:
        return None
    language = _normalise_language(language)
    by_language = config[key]
    return by_language.get(language) or by_language.get(language.split("-")[0])


def _normalise_language(language: str) -> str:
    parts = language.replace("_", "-").split("-")
    return "-".join([parts[0].lower()] + [part.upper() if len(part) == 2 else part for part in parts[1:]])
