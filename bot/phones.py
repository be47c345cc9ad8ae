"""Phone numbers: Twilio addresses ("whatsapp:+44…", "07700 900123") to E.164 and back."""
from __future__ import annotations

from dataclasses import dataclass

import phonenumbers


class InvalidPhoneNumber(ValueError):
    """The text is not a phone number we can send to."""


@dataclass(frozen=True)
class Address:
    """A normalised sender or recipient: E.164 number plus the channel it came on."""

    phone: str
    channel: str  # sms | whatsapp


def normalise_phone(raw: str, region: str = "GB") -> str:
    """Return `raw` as E.164, reading national formats in `region`; raise InvalidPhoneNumber."""
    try:
        parsed = phonenumbers.parse(raw.strip(), region)
    except phonenumbers.NumberParseException:
        raise InvalidPhoneNumber("not a phone number") from None
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidPhoneNumber("not a possible phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def parse_address(raw: str, region: str = "GB") -> Address:
    """Split Twilio's `whatsapp:` prefix off an address and normalise the number."""
    raw = (raw or "").strip()
    if raw.lower().startswith("whatsapp:"):
        return Address(normalise_phone(raw[len("whatsapp:"):], region), "whatsapp")
    return Address(normalise_phone(raw, region), "sms")
