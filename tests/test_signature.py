"""Twilio's request signature, checked against the known vector from Twilio's SDK tests."""
from bot.channels.twilio.signature import sign

KNOWN_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
KNOWN_PARAMS = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234",
                "From": "+14158675309", "To": "+18005551212"}


def test_signature_matches_twilios_published_vector():
    assert sign(KNOWN_URL, KNOWN_PARAMS, "12345") == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_signature_changes_with_any_parameter():
    changed = dict(KNOWN_PARAMS, Digits="1235")
    assert sign(KNOWN_URL, changed, "12345") != "RSOYDt4T1cUTdK1PDd93/VVr8B8="
