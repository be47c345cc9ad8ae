"""The inbox and the simulator in headless Chromium, against a live server on 127.0.0.1.

Debian's Chromium is driven by Playwright (never `playwright install`). The app runs with
CSRF protection on, and with PUBLIC_BASE_URL set to the live server's own address so the
simulator's signed webhook posts verify exactly as Twilio's would.
Screenshots go to $INBOX_SCREENSHOT_DIR when set (to look at them), else to a tmp dir.
"""
from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect, sync_playwright
from sqlmodel import select

from bot.channels.twilio.errors import explain_error
from bot.language.detection import preload
from storage.models import Child, GuardianChild, utcnow
from tests.support.services import run_jobs
from tests.support.factories import STAFF_PASSWORD, make_guardian
from tests.support.inbox import (  # noqa: F401  (fixtures)
    LiveServer, add_message, messages_of, reply_form, thread_url, world,
)

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SPANISH = "Hola, mi hijo tuvo un día difícil en la escuela."
REPLY = "Thank you for telling us. We will call you tomorrow."
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def live(make_app):
    """The app with CSRF on, served on a free port, knowing its own URL."""
    preload()  # the detector's models take seconds to load: not inside a browser wait
    server = LiveServer()
    try:
        server.start(make_app(WTF_CSRF_ENABLED=True, PUBLIC_BASE_URL=server.url))
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (install Debian's chromium package: apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    """Where screenshots go."""
    folder = Path(os.environ.get("INBOX_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def open_page(browser, live, app, world):
    """A factory of fresh browser pages (own cookies), failing the test on any page error."""
    contexts, errors = [], []

    def factory(viewport: dict | None = None):
        context = browser.new_context(base_url=live.url, viewport=viewport or {"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        return page

    yield factory
    for context in contexts:
        context.close()
    assert errors == []


def sign_in(page, email: str) -> None:
    """Log in through the real form (which carries the CSRF token)."""
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=/"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Parent messages")).to_be_visible()


def test_a_spanish_parent_and_the_sendco_talk_end_to_end(open_page, live, world, db, shots):
    page = open_page()
    sign_in(page, world.staff.email)

    # The parent writes, from the simulator.
    page.get_by_role("link", name="Parent simulator").click()
    page.get_by_role("link", name=re.compile("María García")).click()
    page.get_by_label("Message from the parent").fill(SPANISH)
    expect(page.get_by_label("SMS")).to_be_checked()
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator(".bubble.mine", has_text=SPANISH)).to_be_visible()
    run_jobs(live.app)

    # The SENDCo reads it, original and English side by side.
    page.get_by_role("link", name="Inbox").click()
    row = page.locator(".conversation", has_text="María García")
    expect(row).to_contain_text("1 new")
    expect(row).to_contain_text("difficult day")
    expect(row).to_contain_text("Machine translation from Spanish:")  # labelled as such in the list too
    row.get_by_role("link").click()
    original = page.locator('.message.inbound p[lang="es"]')
    expect(original).to_have_text(SPANISH)
    expect(page.locator(".message.inbound .translation")).to_contain_text("difficult day")
    expect(page.locator(".message.inbound")).to_contain_text("Machine translation (apertium)")

    # ... replies in English, previews the Spanish, sends.
    page.get_by_label(re.compile("Reply in English")).fill(REPLY)
    page.get_by_role("button", name="Preview translation").click()
    preview = page.locator(".preview-text")
    expect(preview).to_contain_text("Gracias")
    expect(page.locator(".segments")).to_contain_text(re.compile(r"SMS: \d+ parts?"))
    expect(page.locator(".back-translation")).to_contain_text("Translated back into English")
    spanish_reply = preview.inner_text()
    page.screenshot(path=str(shots / "inbox-preview.png"), full_page=True)
    page.get_by_role("button", name="Send to parent").click()
    expect(page.locator(".message.outbound .status")).to_have_text("Waiting to send")

    # The parent's phone, already open, shows the reply once the worker has sent it.
    phone = open_page(PHONE)
    sign_in(phone, world.staff.email)
    phone.goto(f"/simulator/?guardian={world.parent.id}")
    expect(phone.locator(".bubble.theirs")).to_have_count(0)
    run_jobs(live.app)
    expect(phone.locator(".bubble.theirs")).to_have_text(re.compile(re.escape(spanish_reply)), timeout=10_000)
    phone.screenshot(path=str(shots / "simulator-phone.png"), full_page=True)

    page.reload()
    expect(page.locator(".message.outbound .status")).to_have_text("Delivered")
    page.screenshot(path=str(shots / "inbox-thread.png"), full_page=True)
    page.goto(f"/simulator/?guardian={world.parent.id}")
    page.screenshot(path=str(shots / "simulator-desktop.png"), full_page=True)
    [reply] = messages_of(db, world.parent, "outbound")
    assert reply.status == "delivered" and reply.translation == spanish_reply


def test_a_post_without_the_csrf_token_is_refused(open_page, live, world, db):
    page = open_page()
    sign_in(page, world.staff.email)
    url = f"{live.url}{thread_url(db, world.parent)}/send"
    forged = page.request.post(url, form=reply_form(REPLY))  # signed-in cookies, no token
    assert forged.status == 400 and "could not be accepted" in forged.text()
    assert messages_of(db, world.parent) == []
    anonymous = open_page().request.post(f"{live.url}/login",
                                         form={"email": world.staff.email, "password": STAFF_PASSWORD})
    assert anonymous.status == 400


def test_the_inbox_reads_well_on_a_phone_and_arabic_runs_right_to_left(open_page, world, db, shots):
    add_message(db, world.parent, "ابني مريض اليوم ولن يأتي إلى المدرسة", language="ar", language_confidence=0.97,
                translation="My son is ill today and will not come to school", translation_status="done",
                translation_engine="argos")
    add_message(db, world.parent, "Gracias", direction="outbound", kind="staff_reply", language="es",
                translation="[Traducción automática] Gracias", translation_status="done",
                translation_engine="apertium", status="undelivered", error_code=30003,
                error_message=explain_error(30003),  # as the Twilio edge stores it
                staff_author_id=world.staff.id)
    page = open_page(PHONE)
    sign_in(page, world.staff.email)
    page.screenshot(path=str(shots / "inbox-list-phone.png"), full_page=True)
    page.locator(".conversation", has_text="María García").get_by_role("link").click()
    arabic = page.locator('p[lang="ar"]')
    assert arabic.evaluate("el => getComputedStyle(el).direction") == "rtl"
    expect(page.locator(".message.outbound .status")).to_have_text(
        "Not delivered: the parent's phone was switched off or out of signal")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scrolling
    page.screenshot(path=str(shots / "inbox-thread-phone.png"), full_page=True)


POLISH = "Zosia jest w domu spokojna, ale bardzo źle śpi i nie chce jeść śniadania."


def test_a_review_for_a_child_with_polish_and_urdu_carers(open_page, live, world, db, shots):
    agnieszka = make_guardian(db, world.school, "+447700900731", name="Agnieszka Malik", language="pl",
                              child="Zofia Malik")
    tariq = make_guardian(db, world.school, "+447700900732", name="Tariq Malik", language="ur",
                          channel="whatsapp", child=None)
    zofia = db.exec(select(Child).where(Child.name == "Zofia Malik")).one()
    db.add(GuardianChild(guardian_id=tariq.id, child_id=zofia.id, relationship="father"))
    db.commit()
    day = (utcnow() + timedelta(days=21)).astimezone(ZoneInfo("Europe/London"))
    page = open_page()
    sign_in(page, world.staff.email)

    # The SENDCo schedules the review, typing the date day first.
    page.get_by_role("link", name="Reviews").click()
    page.get_by_label("Child").select_option(label="Zofia Malik")
    page.get_by_label("Date and time").fill(f"{day:%d/%m/%Y} 15:30")
    page.get_by_label("Kind of review").select_option("ehcp_annual")
    page.get_by_label(re.compile("Place or call link")).fill("Room 4 (Hillside building)")
    page.get_by_role("button", name="Schedule review").click()
    expect(page.get_by_role("heading", name=re.compile("Zofia Malik · EHCP annual review"))).to_be_visible()
    expect(page.locator(".flash")).to_contain_text("Reminders are planned for 2 carers")
    expect(page.locator("dd time")).to_have_text(re.compile(rf"\w{{3}} {day.day} {day:%b %Y}, 15:30"))
    carers = page.locator(".carer")
    expect(carers).to_have_count(2)
    expect(carers.nth(0)).to_contain_text("Agnieszka Malik")
    expect(carers.nth(0)).to_contain_text("Polish")
    expect(carers.nth(1)).to_contain_text("Tariq Malik")
    expect(carers.nth(1)).to_contain_text("Urdu")
    expect(carers.nth(0).locator(".reminders tbody tr")).to_have_count(3)

    # ... asks both carers for their views now.
    for name in ("Agnieszka Malik", "Tariq Malik"):
        page.locator(".carer", has_text=name).get_by_role("button", name="Ask for their views now").click()
        expect(page.locator(".flash")).to_contain_text(f"The questions are on their way to {name}")
    run_jobs(live.app)

    # Agnieszka answers the first question in Polish, from the parent simulator.
    page.goto(f"/simulator/?guardian={agnieszka.id}")
    page.get_by_label("Message from the parent").fill(POLISH)
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator(".bubble.mine", has_text=POLISH)).to_be_visible()
    run_jobs(live.app)

    page.get_by_role("link", name="Reviews").click()
    page.get_by_role("link", name=re.compile(r"15:30")).click()
    expect(page.locator(".carer")).to_have_count(2)
    for name in ("Agnieszka Malik", "Tariq Malik"):
        carer = page.locator(".carer", has_text=name)
        expect(carer).to_contain_text("Answering the questions for this review now")
        expect(carer.locator(".reminders tbody tr").first).to_contain_text("Request for your views")
        expect(carer.locator(".reminders tbody tr").first).to_contain_text("Delivered")
    expect(page.locator(".contribution")).to_have_count(2)
    original = page.locator('.contribution p[lang="pl"]')
    expect(original).to_have_text(POLISH)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(shots / "review-page.png"), full_page=True)

    # The printable page: no navigation, the parent's words kept.
    page.get_by_role("link", name="Print").click()
    expect(page.get_by_role("heading", name="The family's views: Zofia Malik")).to_be_visible()
    expect(page.locator(".topbar")).to_have_count(0)
    expect(page.locator('p[lang="pl"]')).to_have_text(POLISH)
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    expect(page.locator(".print-tools")).to_be_hidden()
    page.screenshot(path=str(shots / "review-print.png"), full_page=True)
