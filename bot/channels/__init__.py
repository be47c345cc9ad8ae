"""The channel interface every outbound path goes through (Twilio, or the simulator).

Only `bot/channels/twilio.py` imports `twilio`; the rest of the product sees `Channel`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from flask import Flask, current_app


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
class SendResult:
    """What the provider said when it accepted a message."""

    provider_sid: str
    status: str


class ChannelError(Exception):
    """The provider refused or failed. `permanent` errors are recorded, others retried."""

    def __init__(self, message: str, code: int | None = None, permanent: bool = False):
        super().__init__(message)
        self.code = code
        self.permanent = permanent


class Channel(Protocol):
    """Sends messages to guardians."""

    name: str
    # True when the provider itself answers Twilio's default STOP/START/HELP keywords on SMS
    # (and would reject our own reply to them with 21610).
    handles_sms_keywords: bool

    def send_text(self, message: OutboundText) -> SendResult:
        """Hand one text to the provider; raise ChannelError on failure."""
        ...

    def send_template(self, message: OutboundTemplate) -> SendResult:
        """Send an approved WhatsApp template (outside the 24-hour window)."""
        ...


def init_app(app: Flask) -> None:
    """Choose the channel named by CHANNEL ("twilio" or "simulator")."""
    name = app.config["CHANNEL"]
    if name == "twilio":
        from bot.channels.twilio import TwilioChannel

        channel: Channel = TwilioChannel(
            app.config["TWILIO_ACCOUNT_SID"],
            app.config["TWILIO_AUTH_TOKEN"],
            api_base_url=app.config.get("TWILIO_API_BASE_URL"),
        )
    elif name == "simulator":
        from bot.channels.simulator import SimulatorChannel

        channel = SimulatorChannel()
    else:
        raise ValueError(f"CHANNEL must be 'twilio' or 'simulator', not {name!r}")
    app.extensions["channel"] = channel


def get_channel() -> Channel:
    """The current app's channel."""
    return current_app.extensions["channel"]
