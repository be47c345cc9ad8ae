"""Plain words for staff: delivery statuses, provider errors, translation labels, keyword events.

Staff should never have to look up what "30006" or "undelivered" means; everything the
inbox says about a message comes from the tables here, so the wording stays consistent.
"""
from __future__ import annotations

from storage.models import Message

# Message.status -> what staff see. Twilio's statuses are mapped to three stages a person
# cares about: still with us, handed to the network, arrived (or read).
STATUS_WORDS = {
    "outbox": "Waiting to send",
    "dispatching": "Waiting to send",
    "accepted": "Sent",
    "scheduled": "Sent",
    "queued": "Sent",
    "sending": "Sent",
    "sent": "Sent",
    "delivered": "Delivered",
    "read": "Read",
    "calling": "Phoning the parent",
    "in_call": "Spoken on the phone",
    "spoken": "Spoken on the phone",
}
FAILED_STATUSES = {"failed", "undelivered"}

CHANNEL_NAMES = {"sms": "SMS", "whatsapp": "WhatsApp", "voice": "Voice call"}

KEYWORD_EVENTS = {
    "stop": "Texted {word}: opted out",
    "start": "Texted {word}: opted back in",
    "help": "Texted {word}: asked for help",
}


def explain_error(code: int | None, message: str | None = None) -> str:
    """A delivery error in words ('the parent's phone was switched off…'), from the stored explanation.

    The provider's edge explains its codes when the failure is recorded (bot/channels/twilio/
    errors.py); here the sentence follows "Not delivered: ", so it starts in lower case and
    loses its full stop.
    """
    if message:
        return (message[0].lower() + message[1:]).rstrip(".")
    return f"error {code}" if code else "no reason was given"


def delivery_status(message: Message) -> str:
    """Where an outbound message is, in words ('Delivered', 'Not delivered: …')."""
    if message.status == "blocked":
        return "Not sent: the parent has opted out"
    if message.status in FAILED_STATUSES:
        return f"Not delivered: {explain_error(message.error_code, message.error_message)}"
    return STATUS_WORDS.get(message.status, message.status.capitalize())


def status_tone(message: Message) -> str:
    """A CSS modifier for the status: 'ok', 'wait' or 'bad'."""
    if message.status in FAILED_STATUSES or message.status == "blocked":
        return "bad"
    if message.status in ("outbox", "dispatching", "calling"):
        return "wait"
    return "ok"


def channel_name(channel: str | None) -> str:
    """'SMS', 'WhatsApp' or 'Voice call'."""
    return CHANNEL_NAMES.get(channel or "", channel or "Unknown")


def outbound_label(message: Message) -> str:
    """How the parent's version of an outbound message was made."""
    if message.translation_engine == "human":
        return "school's own translation"
    if message.translation_status == "done":
        return f"machine translated ({message.translation_engine})"
    return "sent as written"


def keyword_event(action: str | None, body: str) -> str:
    """'Texted STOP: opted out' for a keyword message (the parent's own word is kept)."""
    word = body.strip() or "a keyword"
    template = KEYWORD_EVENTS.get(action or "", "Texted {word}")
    return template.format(word=word)


def mask_phone(phone: str | None) -> str:
    """'number ending 0123': enough to tell contacts apart, not enough to copy the number.

    A short code or a named sender ("12345", "SCHOOLNEWS") is a service, not a person: shown whole.
    """
    if phone and not phone.startswith("+"):
        return f"sender {phone}"
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    return f"number ending {digits[-4:]}" if len(digits) >= 4 else "number withheld"
