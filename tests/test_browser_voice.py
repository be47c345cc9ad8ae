"""The simulator's phone-call mode in headless Chromium: a SENDCo phones a Bengali voice-first parent,
hears the reminder in the preview voice, presses 2, "records" a message, and plays it in the inbox."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support.factories import make_guardian
from tests.support.inbox import thread_url, world  # noqa: F401  (fixture)
from tests.support.services import run_jobs
from tests.test_browser import browser, live, open_page, shots, sign_in  # noqa: F401  (fixtures)
from tests.test_voice import send_catalogue

pytestmark = pytest.mark.browser


def test_a_sendco_phones_a_bengali_parent_who_leaves_a_message_staff_play(open_page, live, world, db, shots):
    rahima = make_guardian(db, world.school, "+447700900761", name="Rahima Begum", language="bn", channel="voice",
                           child="Ayaan Begum")
    db.commit()
    send_catalogue(live.app, world.school, rahima, key="review.reminder", child="Ayaan")
    run_jobs(live.app)

    page = open_page()
    sign_in(page, world.staff.email)
    page.goto(f"/simulator/calls/?guardian={rahima.id}")
    expect(page.get_by_role("heading", name="The school is calling…")).to_be_visible()
    page.get_by_role("button", name="Answer", exact=True).click()
    line = page.locator(".call-line").first
    expect(line).to_contain_text("Twilio says, in Bengali (bn-IN, voice Google.bn-IN-Chirp3-HD-Aoede)")
    expect(line).to_contain_text("preview voice, not Twilio's")
    preview = line.locator("audio").get_attribute("src")
    status = page.evaluate("src => fetch(src).then(r => r.status + ' ' + r.headers.get('content-type'))", preview)
    assert status == "200 audio/wav"
    page.screenshot(path=str(shots / "simulator-call.png"), full_page=True)

    page.get_by_role("form", name="Keypad").get_by_role("button", name="2", exact=True).click()
    page.get_by_label("After the beep, the parent says…").fill("আমি মিটিংয়ে আসতে পারব না")
    page.get_by_role("button", name="Record", exact=True).click()
    expect(page.get_by_role("heading", name="The call has ended")).to_be_visible()

    page.goto(thread_url(db, rahima))
    player = page.locator(".message.inbound audio")
    expect(player).to_have_count(1)
    expect(page.locator(".message.inbound")).to_contain_text("Recorded on a phone call")
    played = page.evaluate("src => fetch(src).then(r => r.status + ' ' + r.headers.get('content-type'))",
                           player.get_attribute("src"))
    assert re.fullmatch(r"200 audio/wav", played)
