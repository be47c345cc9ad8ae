"""Twilio's error codes: what each means for routing, and in plain words for the SEND team."""
from __future__ import annotations

from bot.messaging.channel import BLOCKED, BUSY, INVALID_NUMBER, OPTED_OUT, OTHER, UNREACHABLE, DeliveryError

# Codes that mean "try again later" even though the HTTP status is 4xx.
TRANSIENT_CODES = frozenset({20429, 21611, 30001})

CATEGORIES = {
    21610: OPTED_OUT,
    63014: BLOCKED, 30004: BLOCKED,
    21211: INVALID_NUMBER, 21608: INVALID_NUMBER, 21408: INVALID_NUMBER,
    21611: BUSY, 30001: BUSY, 20429: BUSY, 429: BUSY,
    21614: UNREACHABLE, 30003: UNREACHABLE, 30005: UNREACHABLE, 30006: UNREACHABLE, 30007: UNREACHABLE,
    30008: UNREACHABLE,
}

ERROR_EXPLANATIONS = {
    21211: "The phone number is not a valid number. Check it with the family.",
    21408: "The school's account is not allowed to send to this country.",
    21608: "The number is not verified on the school's trial account, so nothing can be sent to it.",
    21610: "The parent opted out by replying STOP. Nothing more will be sent until they reply START.",
    21611: "Too many messages were waiting to go out from the school's number. It will be tried again.",
    21614: "The number is not a mobile phone, so it cannot receive texts.",
    30001: "Too many messages were waiting to go out from the school's number. It will be tried again.",
    30003: "The parent's phone was switched off or out of signal.",
    30004: "The parent's phone or network blocked the message.",
    30005: "The mobile network does not know this number: it may no longer be in use.",
    30006: "The number is a landline, or its network cannot receive texts.",
    30007: "The mobile network filtered the message as unwanted.",
    30008: "The mobile network could not deliver the message and gave no reason.",
    63003: "The number is not on WhatsApp.",
    63014: "The parent has blocked the school on WhatsApp.",
    63016: "The parent has not written on WhatsApp in the last 24 hours, so WhatsApp only "
           "allows an approved template message.",
    63024: "The number cannot receive WhatsApp messages.",
    429: "Too many messages were being sent at once. It will be tried again.",
    20429: "Too many messages were being sent at once. It will be tried again.",
}


def explain_error(code: int | None) -> str:
    """A Twilio error code in plain words for the SEND team."""
    if code is None:
        return "No reason was given."
    return ERROR_EXPLANATIONS.get(code, f"Twilio reported error {code}, which the bot does not know: "
                                        "check the number with the family.")


def delivery_error(code: int | None) -> DeliveryError:
    """Twilio's code as the domain sees it: the code, its routing category, its explanation."""
    return DeliveryError(code, CATEGORIES.get(code, OTHER), explain_error(code))
