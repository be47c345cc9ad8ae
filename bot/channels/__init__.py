"""Providers behind the channel interface (bot/messaging/channel.py): Twilio, or the simulator.

Only bot/channels/twilio/ imports `twilio`; the rest of the product sees the interface.
"""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Choose the channel named by CHANNEL ("twilio" or "simulator")."""
    name = app.config["CHANNEL"]
    if name == "twilio":
        from bot.channels.twilio.client import TwilioChannel

        channel = TwilioChannel(app.config["TWILIO_ACCOUNT_SID"], app.config["TWILIO_AUTH_TOKEN"],
                                api_base_url=app.config.get("TWILIO_API_BASE_URL"))
    elif name == "simulator":
        from bot.channels.simulator import SimulatorChannel

        channel = SimulatorChannel()
    else:
        raise ValueError(f"CHANNEL must be 'twilio' or 'simulator', not {name!r}")
    app.extensions["channel"] = channel
