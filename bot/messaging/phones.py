"""Phone numbers: what a parent or a provider writes ("07700 900123", "+44 7700…") to E.164."""
from __future__ import annotations

import phonenumbers


class InvalidPhoneNumber(ValueError):
    """The text is not a phone number we can send to."""


def normalise_phone(raw: str, region: str = "GB") -> str:
    """Return `raw` as E.164, reading national formats in `region`; raise InvalidPhoneNumber."""
    try:
        parsed = phonenumbers.parse(raw.strip(), region)
    except phonenumbers.NumberParseException:
        raise InvalidPhoneNumber("not a phone number") from None
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidPhoneNumber("not a possible phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
