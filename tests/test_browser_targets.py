"""The child's page and the printed review pack in headless Chromium: a SENDCo adds a target,
shares the targets with a Polish-speaking mother, and after two check-ins (three weeks apart,
answered through the signed webhook) sees her view of each target over time.

Screenshots go to $INBOX_SCREENSHOT_DIR when set (docs/screenshots/child_targets.png was made so).
"""
from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import update
from sqlmodel import select

from bot.channels.twilio.signature import sign
from bot.reviews.schedule import schedule_review
from bot.sweep import run_sweep
from storage.db import session_scope
from storage.models import CheckIn, CheckInAnswer, School, utcnow
from tests.support.inbox import world  # noqa: F401  (fixture)
from tests.support.services import AUTH_TOKEN, post_signed, run_jobs
from tests.support.targets import MOTHER, TARGETS, make_family
from tests.test_browser import browser, live, open_page, shots, sign_in  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser
SCHOOL_NUMBER = "+447700900700"
ROUNDS = (["1", "Tak samo", "Trudniej, zamek"], ["Lepiej, sam pokazuje kartę", "1", "3"])


def _parent_says(live, body: str) -> None:
    params = {"MessageSid": "SM" + uuid.uuid4().hex, "From": MOTHER, "To": SCHOOL_NUMBER, "Body": body}
    signature = sign(live.url + "/twilio/messages", params, AUTH_TOKEN)
    assert post_signed(live.app, "/twilio/messages", params, signature=signature).status_code == 200
    run_jobs(live.app)


def _check_in_round(live, db, answers: list[str], weeks_ago: int) -> None:
    """The sweep starts a check-in when it falls due; the mother answers each target and skips the last question."""
    with live.app.app_context():
        run_sweep()
    db.execute(update(CheckIn).where(CheckIn.status == "planned").values(due_at=utcnow() - timedelta(minutes=1)))
    db.commit()
    with live.app.app_context():
        run_sweep()
    run_jobs(live.app)
    for body in answers + ["POMIŃ"]:
        _parent_says(live, body)
    # This round happened `weeks_ago` weeks ago: the clock of its answers moves back with it.
    db.execute(update(CheckInAnswer).where(CheckInAnswer.answered_on == utcnow().date())
               .values(answered_on=utcnow().date() - timedelta(weeks=weeks_ago)))
    db.commit()


def test_the_child_page_and_printed_pack_show_the_familys_view_over_time(open_page, live, world, db, shots):
    family = make_family(db, world.school)
    page = open_page()
    sign_in(page, world.staff.email)

    # The SENDCo adds the first target on the child's page; the other two go in the same way.
    page.get_by_role("link", name="Children").click()
    page.get_by_role("link", name="Kuba Kowalski").click()
    page.get_by_label("Target (one short sentence)").fill(TARGETS[0][0])
    page.get_by_label("How you can help at home (optional)").fill(TARGETS[0][1])
    page.get_by_label("Start date").last.fill(TARGETS[0][2])
    page.get_by_role("button", name="Add target").click()
    expect(page.locator(".flash")).to_contain_text("Target added")
    for text, help_line, starts in TARGETS[1:]:
        page.get_by_label("Target (one short sentence)").fill(text)
        page.get_by_label("How you can help at home (optional)").last.fill(help_line)
        page.get_by_label("Start date").last.fill(starts)
        page.get_by_role("button", name="Add target").click()
    expect(page.locator(".target")).to_have_count(3)

    # She shares them with the mother, seeing exactly what she will get, and sends it.
    page.get_by_role("link", name=re.compile("Share the targets")).click()
    anna = page.locator(".share", has_text="Anna Kowalska")
    expect(anna.locator(".share-text")).to_contain_text("oto obecne cele")
    anna.get_by_role("button", name=re.compile("Send exactly this")).click()
    expect(page.locator(".flash")).to_contain_text("on their way to Anna Kowalska")
    run_jobs(live.app)

    # Two check-ins, three weeks apart, answered in Polish.
    _check_in_round(live, db, ROUNDS[0], weeks_ago=3)
    _check_in_round(live, db, ROUNDS[1], weeks_ago=0)

    page.goto(f"/children/{family.child.id}")
    first = page.locator(".target").first
    expect(first.locator(".trend-chart circle")).to_have_count(2)
    expect(first.locator(".family-entry")).to_have_count(2)
    expect(first.locator('.family-entry p[lang="pl"]')).to_have_text("Lepiej, sam pokazuje kartę")
    expect(page.locator(".target").nth(2)).to_contain_text("Harder")
    expect(page.locator(".target").nth(2).locator('p[lang="pl"]')).to_have_text("Trudniej, zamek")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(shots / "child_targets.png"), full_page=True)

    # The next review's printed pack carries the same view.
    with live.app.app_context(), session_scope() as session:
        review = schedule_review(session, session.get(School, world.school.id), family.child,
                                 utcnow() + timedelta(days=20), "sen_support", "Room 4", world.staff.id)
        review_id = review.id
    page.goto(f"/reviews/{review_id}/contribution/print")
    told = page.locator(".family-told")
    expect(told.get_by_role("heading", name="What the family told us since the last review")).to_be_visible()
    expect(told.locator(".target-told")).to_have_count(3)
    expect(told.locator(".target-told").first.locator(".trend-chart circle")).to_have_count(2)
    expect(told).to_contain_text("Trudniej, zamek")
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 794, "height": 1123})
    page.screenshot(path=str(shots / "child_targets_print.png"), full_page=True)
    db.expire_all()
    assert len(db.exec(select(CheckInAnswer)).all()) == 6
