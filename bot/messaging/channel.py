"""The channel interface: what the domain hands a provider, and what a provider hands the domain.

A provider package (bot/channels/twilio/, bot/channels/simulator.py) turns its own webhooks,
field names and error codes into these neutral shapes; nothing in the domain knows a
provider's vocabulary.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from flask import current_app

# Why a delivery failed, in terms the routing rules act on.
OPTED_OUT = "opted_out"          # the family said STOP to the provider: never go around it
BLOCKED = "blocked"              # the family blocked the school on this channel
INVALID_NUMBER = "invalid_number"  # no channel can reach this number
BUSY = "busy"                    # the provider was busy: same route, later
UNREACHABLE = "unreachable"      # the text reached no handset: a call might
OTHER = "other"


@dataclass(frozen=True)
class InboundMessage:
    """A parent's message as a provider received it, checked but not yet normalised."""

    provider_id: str
    sender: str  # the number as the provider gave it, without any channel prefix
    recipient: str
    channel: str  # "sms" | "whatsapp"
    body: str
    media: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class DeliveryError:
    """A provider's error: its code, what it means for routing, and a sentence for staff."""

    code: int | None
    category: str
    explanation: str


@dataclass(frozen=True)
class StatusUpdate:
    """A provider reporting where one of our messages is (its callbacks come in any order)."""

    provider_id: str
    status: str  # accepted | queued | sending | sent | delivered | read | undelivered | failed
    error: DeliveryError | None = None
    message_id: int | None = None  # our id, when the provider echoes it back


@dataclass(frozen=True)
class OutboundText:
    """A text to deliver: E.164 numbers; `channel` is "sms" or "whatsapp"."""

    to: str
    sender: str
    body: str
    channel: str
    status_callback: str | None = None


@dataclass(frozen=True)
class OutboundTemplate:
    """An approved WhatsApp template: content SID plus its numbered variables ("1", "2", ...)."""

    to: str
    sender: str
    content_sid: str
    variables: dict[str, str]
    status_callback: str | None = None


@dataclass(frozen=True)
class OutboundCall:
    """A phone call to place: the provider fetches `answer_url` for what to say when it is answered."""

    to: str
    sender: str
    answer_url: str
    status_callback: str | None = None
    machine_detection: bool = True  # so a voicemail gets its short message, not the whole menu
    ring_seconds: int = 30


@dataclass(frozen=True)
class SendResult:
    """What the provider said when it accepted a message."""

    provider_sid: str
    status: str


class ChannelError(Exception):
    """The provider refused or failed. `permanent` errors are recorded, others retried."""

    def __init__(self, message: str, error: DeliveryError | None = None, permanent: bool = False):
        super().__init__(message)
        self.error = error or DeliveryError(None, OTHER, message)
        self.permanent = permanent

    @property
    def code(self) -> int | None:
        """The provider's error code, if it gave one."""
        return self.error.code


class Channel(Protocol):
    """Sends messages to guardians."""

    name: str
    # True for a stand-in that reaches no phone: every message through it is marked simulated.
    simulated: bool
    # True when the provider itself answers the standard STOP/START/HELP keywords on SMS
    # (and would reject our own reply to them).
    handles_sms_keywords: bool

    def send_text(self, message: OutboundText) -> SendResult:
        """Hand one text to the provider; raise ChannelError on failure."""
        ...

    def send_template(self, message: OutboundTemplate) -> SendResult:
        """Send an approved WhatsApp template (outside the 24-hour window)."""
        ...

    def find_sent(self, message: OutboundText, since: datetime) -> str | None:
        """The provider's id for this very text if it accepted it since `since` (an interrupted send), else None."""
        ...

    def place_call(self, call: OutboundCall) -> SendResult:
        """Ask the provider to ring a guardian; raise ChannelError on refusal."""
        ...

    def speaks(self, language: str | None) -> bool:
        """Whether the provider has a voice that can read this language aloud."""
        ...

    def hears(self, language: str | None) -> bool:
        """Whether the provider can turn speech in this language into text."""
        ...

    def fetch_recording(self, url: str) -> tuple[bytes, str]:
        """A recording's audio and content type, fetched with the account's credentials."""
        ...


def get_channel() -> Channel:
    """The current app's channel (chosen by bot.channels.init_app)."""
    return current_app.extensions["channel"]
