"""Channel choice, failover after a failed delivery, error wording, WhatsApp template config."""
import json
from datetime import datetime, timedelta, timezone

import pytest

from bot.channels.twilio.errors import ERROR_EXPLANATIONS, delivery_error, explain_error
from bot.messaging.routing import (
    SESSION_SAFETY_MARGIN, SESSION_WINDOW, Route, choose_route, deliverable_route, failover_after,
    in_session_window, is_transient, parse_whatsapp_templates, template_for, templates_from_env,
)

NOW = datetime(2026, 5, 6, 10, 0, tzinfo=timezone.utc)
SID_EN = "HX" + "0123456789abcdef" * 2
SID_PL = "HX" + "fedcba9876543210" * 2
SID_PT = "HX" + "a" * 32
WHATSAPP = Route("whatsapp", False, "test")
WHATSAPP_TEMPLATE = Route("whatsapp", True, "test")
SMS = Route("sms", False, "test")
VOICE = Route("voice", False, "test")


def err(code):
    """A Twilio code as the Twilio edge hands it to routing."""
    return delivery_error(code) if code is not None else None


# --- choosing a route ---------------------------------------------------------------------------

def test_whatsapp_free_text_inside_the_session_window():
    route = choose_route("whatsapp", NOW - timedelta(hours=3), NOW, template_available=True,
                         whatsapp_capable_sender=True)
    assert (route.channel, route.use_template) == ("whatsapp", False)
    assert "24 hours" in route.reason


def test_whatsapp_template_outside_the_window_when_one_is_approved():
    for last_inbound in (None, NOW - timedelta(days=3)):
        route = choose_route("whatsapp", last_inbound, NOW, template_available=True, whatsapp_capable_sender=True)
        assert (route.channel, route.use_template) == ("whatsapp", True)


def test_sms_outside_the_window_without_a_template():
    route = choose_route("whatsapp", NOW - timedelta(days=2), NOW, template_available=False,
                         whatsapp_capable_sender=True)
    assert (route.channel, route.use_template) == ("sms", False)
    assert "no approved template" in route.reason


def test_sms_when_the_school_has_no_whatsapp_number():
    route = choose_route("whatsapp", NOW - timedelta(minutes=5), NOW, template_available=True,
                         whatsapp_capable_sender=False)
    assert (route.channel, route.use_template) == ("sms", False)
    assert "no WhatsApp number" in route.reason


def test_sms_preference_is_sms_whatever_whatsapp_could_do():
    route = choose_route("sms", NOW - timedelta(minutes=5), NOW, template_available=True,
                         whatsapp_capable_sender=True)
    assert route == Route("sms", False, "The family prefers SMS.")


def test_unknown_preference_still_reaches_the_family_by_sms():
    route = choose_route("pigeon", None, NOW, template_available=False, whatsapp_capable_sender=True)
    assert route.channel == "sms" and "pigeon" in route.reason


def test_voice_preference_is_a_voice_route_now_that_calls_exist():
    route = choose_route("voice", None, NOW, template_available=False, whatsapp_capable_sender=False)
    assert route.channel == "voice" and "phone calls" in route.reason
    assert deliverable_route(route) == route
    assert deliverable_route(route, voice_available=False).channel == "sms"
    assert deliverable_route(SMS) == SMS and deliverable_route(WHATSAPP) == WHATSAPP


def test_session_window_closes_ten_minutes_early():
    closes = SESSION_WINDOW - SESSION_SAFETY_MARGIN
    assert in_session_window(NOW - closes + timedelta(seconds=1), NOW)
    assert not in_session_window(NOW - closes, NOW)
    assert not in_session_window(NOW - timedelta(hours=24), NOW)
    assert in_session_window(NOW + timedelta(seconds=30), NOW)  # clocks a little apart
    assert not in_session_window(None, NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        in_session_window(datetime(2026, 5, 6, 9, 0), NOW)


# --- failover ---------------------------------------------------------------------------------

@pytest.mark.parametrize("code", [63016, 63024, 63003, None, 30008])
@pytest.mark.parametrize("status", ["failed", "undelivered"])
@pytest.mark.parametrize("route", [WHATSAPP, WHATSAPP_TEMPLATE])
def test_whatsapp_failures_fall_over_to_sms(route, status, code):
    after = failover_after(route, err(code), status)
    assert after is not None and (after.channel, after.use_template) == ("sms", False)
    assert "WhatsApp" in after.reason
    if code is not None:
        assert explain_error(code).rstrip(".") in after.reason


@pytest.mark.parametrize("route", [WHATSAPP, WHATSAPP_TEMPLATE, SMS, VOICE])
@pytest.mark.parametrize("status", ["failed", "undelivered"])
@pytest.mark.parametrize("voice_available", [False, True])
def test_never_fail_over_around_an_opt_out(route, status, voice_available):
    assert failover_after(route, err(21610), status, voice_available=voice_available) is None


@pytest.mark.parametrize("code", [63014, 21211, 21608, 30004])
def test_blocks_and_invalid_numbers_stop_without_failover(code):
    assert failover_after(WHATSAPP, err(code), "failed") is None
    assert failover_after(SMS, err(code), "failed", voice_available=True) is None


@pytest.mark.parametrize("code", [30003, 30005, 30006, 30007, 30008, 21614, None])
def test_sms_that_reaches_no_handset_goes_to_a_call_only_where_calls_exist(code):
    assert failover_after(SMS, err(code), "undelivered", voice_available=False) is None  # no calls: staff are told
    after = failover_after(SMS, err(code), "undelivered", voice_available=True)
    assert after is not None and after.channel == "voice"


@pytest.mark.parametrize("code", [21611, 30001, 20429, 429])
def test_a_busy_provider_means_retry_the_same_route(code):
    assert is_transient(err(code))
    assert failover_after(WHATSAPP, err(code), "failed") is None
    assert failover_after(SMS, err(code), "failed", voice_available=True) is None


@pytest.mark.parametrize("status", ["queued", "sent", "delivered", "read", "sending"])
def test_no_failover_unless_delivery_failed(status):
    assert failover_after(WHATSAPP, err(63016), status) is None
    assert failover_after(SMS, err(30003), status, voice_available=True) is None


def test_a_call_that_fails_has_nowhere_to_go():
    assert failover_after(VOICE, None, "failed", voice_available=True) is None


def test_failover_chains_end_within_two_hops():
    route, hops = WHATSAPP, 0
    while route is not None:
        route = failover_after(route, None, "failed", voice_available=True)
        hops += route is not None
    assert hops == 2
    assert not is_transient(err(63016)) and not is_transient(None)


# --- error wording ------------------------------------------------------------------------------

TWILIO_MD_CODES = [21211, 21610, 21614, 21608, 30003, 30006, 30007, 30005, 30008, 63016, 63024, 63014,
                   63003, 21611, 30001, 429, 20429]


@pytest.mark.parametrize("code", TWILIO_MD_CODES)
def test_every_code_the_bot_handles_is_explained_in_plain_words(code):
    words = explain_error(code)
    assert code in ERROR_EXPLANATIONS
    assert str(code) not in words  # the words explain; the code stays in the record
    assert words[0].isupper() and words.endswith(".")


def test_unknown_and_missing_codes_still_say_something():
    assert explain_error(None) == "No reason was given."
    assert "12345" in explain_error(12345)
    assert "opted out" in explain_error(21610) and "START" in explain_error(21610)


# --- WhatsApp templates ---------------------------------------------------------------------------

CONFIG_JSON = json.dumps({"review.reminder": {"en": SID_EN, "pl": SID_PL, "pt_br": SID_PT}})


def test_templates_parse_from_json_or_a_mapping_and_normalise_languages():
    config = parse_whatsapp_templates(CONFIG_JSON)
    assert config == {"review.reminder": {"en": SID_EN, "pl": SID_PL, "pt-BR": SID_PT}}
    assert parse_whatsapp_templates(json.loads(CONFIG_JSON)) == config
    assert parse_whatsapp_templates(None) == {} and parse_whatsapp_templates("  ") == {}
    assert templates_from_env({"WHATSAPP_TEMPLATES": CONFIG_JSON}) == config
    assert templates_from_env({}) == {}


def test_template_for_never_falls_back_to_another_language():
    config = parse_whatsapp_templates(CONFIG_JSON)
    assert template_for(config, "review.reminder", "pl") == SID_PL
    assert template_for(config, "review.reminder", "PL") == SID_PL
    assert template_for(config, "review.reminder", "pt-BR") == SID_PT
    assert template_for(config, "review.reminder", "pt_br") == SID_PT
    assert template_for(config, "review.reminder", "en-GB") == SID_EN  # region falls back to its language
    assert template_for(config, "review.reminder", "ur") is None      # no Urdu template: SMS, not English
    assert template_for(config, "review.reminder", None) is None
    assert template_for(config, "review.contribution_request", "en") is None


@pytest.mark.parametrize("raw, message", [
    ("{not json", "not valid JSON"),
    ("[]", "must be an object"),
    (json.dumps({"review.reminder": "HX" + "0" * 32}), "must map languages"),
    (json.dumps({"review.reminder": {"en": "HXnothex"}}), "not a content SID"),
    (json.dumps({"review.reminder": {"en": "MG" + "0" * 32}}), "not a content SID"),
    (json.dumps({"review.reminder": {"en": None}}), "not a content SID"),
])
def test_bad_template_config_is_refused_at_start_up(raw, message):
    with pytest.raises(ValueError, match=message):
        parse_whatsapp_templates(raw)


def test_choose_route_with_a_configured_template():
    config = parse_whatsapp_templates(CONFIG_JSON)
    for language, channel in (("pl", "whatsapp"), ("so", "sms")):
        available = template_for(config, "review.reminder", language) is not None
        route = choose_route("whatsapp", None, NOW, template_available=available, whatsapp_capable_sender=True)
        assert route.channel == channel
