"""The simulator channel: nothing leaves the machine; the message row is the record.

The parent simulator page shows outbound messages straight from the database, so this
channel only has to hand out a Twilio-shaped sid and say the message was delivered. A call
"rings" on the simulator page; staff answer it there, and the page posts Twilio's signed voice
webhooks. It speaks and hears what Twilio would (the same voice table), so voice is tried honestly.
"""
from __future__ import annotations

import uuid

from bot.channels.twilio.voices import voice_row
from bot.messaging.channel import ChannelError, OutboundCall, OutboundTemplate, OutboundText, SendResult


class SimulatorChannel:
    """A channel for trying the product with no Twilio account."""

    name = "simulator"
    simulated = True
    handles_sms_keywords = False

    def send_text(self, message: OutboundText) -> SendResult:
        """Accept the message at once, as a phone on the same desk would."""
        return SendResult(provider_sid="SM" + uuid.uuid4().hex, status="delivered")

    def find_sent(self, message: OutboundText, since) -> str | None:
        """Nothing is ever half-sent to a phone on the same desk."""
        return None

    def send_template(self, message: OutboundTemplate) -> SendResult:
        """Accept a template message at once (the message row holds the rendered text)."""
        return SendResult(provider_sid="SM" + uuid.uuid4().hex, status="delivered")

    def place_call(self, call: OutboundCall) -> SendResult:
        """The call rings on the simulator page (the Call row is the record)."""
        return SendResult(provider_sid="CA" + uuid.uuid4().hex, status="ringing")

    def speaks(self, language: str | None) -> bool:
        """As Twilio would: the same voice table."""
        return voice_row(language).voice is not None

    def hears(self, language: str | None) -> bool:
        """As Twilio would: the same speech-recognition table."""
        return voice_row(language).speech_language is not None

    def fetch_recording(self, url: str) -> tuple[bytes, str]:
        """Simulated recordings keep their audio in the database; there is nothing to fetch."""
        raise ChannelError("a simulated recording has no provider copy", permanent=True)
