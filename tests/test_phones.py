"""Phone normalisation: national and international formats, WhatsApp prefixes, rubbish."""
import pytest

from bot.channels.twilio.forms import split_address
from bot.messaging.phones import InvalidPhoneNumber, normalise_phone


@pytest.mark.parametrize("raw, region, expected", [
    ("07700 900123", "GB", "+447700900123"),
    ("+44 7700 900123", "GB", "+447700900123"),
    ("0044 7700 900123", "GB", "+447700900123"),
    ("600 123 456", "ES", "+34600123456"),
    ("+48 512 345 678", "GB", "+48512345678"),
])
def test_numbers_are_normalised_to_e164(raw, region, expected):
    assert normalise_phone(raw, region) == expected


def test_whatsapp_prefix_is_split_off():
    assert split_address("whatsapp:+447700900123") == ("+447700900123", "whatsapp")
    assert split_address("+447700900123") == ("+447700900123", "sms")


@pytest.mark.parametrize("raw", ["", "hello", "123", "+44", "whatsapp:"])
def test_rubbish_is_refused(raw):
    with pytest.raises(InvalidPhoneNumber):
        normalise_phone(split_address(raw)[0])
