"""Phone normalisation: national and international formats, WhatsApp prefixes, rubbish."""
import pytest

from bot.phones import InvalidPhoneNumber, normalise_phone, parse_address


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
    address = parse_address("whatsapp:+447700900123")
    assert (address.phone, address.channel) == ("+447700900123", "whatsapp")
    assert parse_address("+447700900123").channel == "sms"


@pytest.mark.parametrize("raw", ["", "hello", "123", "+44", "whatsapp:"])
def test_rubbish_is_refused(raw):
    with pytest.raises(InvalidPhoneNumber):
        parse_address(raw)
