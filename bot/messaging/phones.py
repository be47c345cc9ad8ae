"""Phone numbers: what a parent or a provider writes ("07700 900123", "+44 7700…") to E.164."""
from __future__ import annotations

import re

import phonenumbers

# What a provider may give as a sender besides a phone number (which it sends as E.164): a
# short code (a few digits, no country code) or an alphanumeric sender id (up to 11 letters and
# digits). Read as phone numbers they would become fake ones ("12345" → "+4412345").
SHORT_CODE = re.compile(r"[0-9]{3,8}")
ALPHANUMERIC_ID = re.compile(r"(?=[0-9]*[A-Za-z])[A-Za-z0-9]{1,11}")


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


def sender_identity(raw: str, region: str = "GB") -> str:
    """A sender as what it is: a short code or an alphanumeric id kept as written, a number as E.164."""
    raw = (raw or "").strip()
    if SHORT_CODE.fullmatch(raw) or ALPHANUMERIC_ID.fullmatch(raw):
        return raw
    return normalise_phone(raw, region)


def can_receive_replies(identity: str) -> bool:
    """Whether messages can be sent to this identity (a phone number, not a short code or a name)."""
    return identity.startswith("+")
