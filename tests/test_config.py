"""Start-up refuses a configuration that would fail open: half a Twilio set-up never becomes a simulator."""
from __future__ import annotations

import pytest

from config import SettingsError, check_settings, load_settings


def _environment(tmp_path, **values) -> dict:
    return {"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": "postgresql://db.school.example/send", **values}


def test_with_no_channel_named_the_product_is_twilio_and_names_what_is_missing(tmp_path):
    settings = load_settings(_environment(tmp_path))
    assert settings["CHANNEL"] == "twilio"
    with pytest.raises(SettingsError) as refused:
        check_settings(settings)
    assert "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, PUBLIC_BASE_URL are not set" in str(refused.value)
    assert "CHANNEL=simulator" in str(refused.value)


def test_a_token_and_a_public_url_without_an_account_sid_do_not_quietly_become_a_simulator(tmp_path):
    settings = load_settings(_environment(tmp_path, TWILIO_AUTH_TOKEN="a-real-looking-token",
                                          PUBLIC_BASE_URL="https://bot.school.example"))
    with pytest.raises(SettingsError, match="TWILIO_ACCOUNT_SID is not set"):
        check_settings(settings)


def test_twilio_without_a_public_url_is_refused_because_no_status_would_come_back(tmp_path):
    settings = load_settings(_environment(tmp_path, TWILIO_ACCOUNT_SID="AC" + "a" * 32, TWILIO_AUTH_TOKEN="t"))
    with pytest.raises(SettingsError, match="PUBLIC_BASE_URL is not set"):
        check_settings(settings)


def test_the_simulator_runs_only_when_named(tmp_path):
    settings = load_settings(_environment(tmp_path, CHANNEL="simulator"))
    check_settings(settings)  # its webhook token is made for it in the instance folder
    assert settings["CHANNEL"] == "simulator" and settings["TWILIO_AUTH_TOKEN"]


def test_an_unknown_channel_is_refused(tmp_path):
    with pytest.raises(SettingsError, match="CHANNEL must be 'twilio' or 'simulator'"):
        check_settings(load_settings(_environment(tmp_path, CHANNEL="carrier-pigeon")))


def test_create_app_refuses_to_start_half_configured(tmp_path, monkeypatch):
    from app import create_app

    for name in ("CHANNEL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "PUBLIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path))
    with pytest.raises(SettingsError, match="CHANNEL is 'twilio'"):
        create_app({"TESTING": True})
