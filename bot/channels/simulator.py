"""The simulator channel: nothing leaves the machine; the message row is the record.

The parent simulator page shows outbound messages straight from the database, so this
channel only has to hand out a Twilio-shaped sid and say the message was delivered.
"""
from __future__ import annotations

import uuid

from bot.messaging.channel import OutboundTemplate, OutboundText, SendResult


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
