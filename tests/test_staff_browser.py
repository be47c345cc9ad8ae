"""The SENDCo's tools in headless Chromium against a live server: importing a CSV with a bad row,
correcting a carer's language, an update to three families in three languages, a message arriving
in an open inbox without a reload, and axe-core on every staff page (no serious or critical
violations) with a visible focus on every control.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from storage.models import Child, Guardian, GuardianChild, Message, School
from tests.support.factories import make_guardian
from tests.support.inbox import (  # noqa: F401  (fixtures)
    LiveServer, conversation_of, messages_of, parent_texts, thread_url, twilio_form, world,
)
from bot.channels.twilio.signature import sign
from tests.support.services import AUTH_TOKEN, act_on_received, run_jobs
from tests.test_browser import browser, live, open_page, shots, sign_in  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
SMALL_EXPORT = (
    "Child name,Year group,SEN status,Carer name,Relationship,Phone,Language\n"
    "Amelia Nowak,Year 3,K,Ewa Nowak,Mother,07700 900100,Polish\n"
    "Zara Singh,Year 3,E,Gurpreet Singh,Father,07700 900102,Panjabi\n"
    "Adam Bad,Year 3,K,Brian Bad,Father,07700 12,English\n"
    "Lena Nowak,Year 1,K,Ewa Nowak,Mother,07700 900100,Polish\n"
)


def axe_problems(page) -> list[str]:
    """Serious and critical axe-core violations on the page, as 'rule: target' lines."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci --prefix tests/axe` (scripts/test does)")
    page.add_script_tag(content=AXE.read_text())
    result = page.evaluate("async () => JSON.stringify((await axe.run(document)).violations)")
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
            for v in json.loads(result) if v["impact"] in ("serious", "critical")]


def unfocused_controls(page, limit: int = 40) -> list[str]:
    """Controls that show no outline (or other visible change) when reached with the keyboard."""
    page.locator("body").click(position={"x": 1, "y": 1})
    missing = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        described = page.evaluate("""() => {
            const el = document.activeElement;
            if (!el || el === document.body) return null;
            const style = getComputedStyle(el);
            const visible = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none';
            return visible ? '' : `${el.tagName.toLowerCase()} ${el.name || el.id || el.textContent.trim().slice(0, 30)}`;
        }""")
        if described is None:
            break
        if described:
            missing.append(described)
    return missing


def test_import_a_csv_with_a_bad_row_then_see_the_families(open_page, world, db, shots, tmp_path):
    export = tmp_path / "sims-export.csv"
    export.write_text(SMALL_EXPORT)
    page = open_page()
    sign_in(page, world.staff.email)
    page.get_by_role("link", name="Families", exact=True).click()
    page.get_by_role("link", name="Import from your MIS (CSV)").click()
    page.get_by_label("CSV file", exact=True).set_input_files(str(export))
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator("#import-summary")).to_contain_text("3 rows will be imported")
    expect(page.locator("#import-summary")).to_contain_text("1 row will be left out")
    expect(page.locator("#row-4")).to_contain_text("“07700 12” is not a valid phone number")
    expect(page.locator("#row-5")).to_contain_text("also the carer of Amelia Nowak")
    expect(page.locator("#row-5")).to_contain_text("New child, with the carer of row 2")
    page.screenshot(path=str(shots / "import-preview.png"), full_page=True)
    page.get_by_role("button", name="Import 3 rows").click()
    expect(page.locator("#import-result")).to_contain_text("3 new children")
    expect(page.locator("#import-result")).to_contain_text("2 new carers")
    page.get_by_role("link", name="See the families").click()
    family = page.locator(".family", has_text="Zara Singh")
    expect(family).to_contain_text("Gurpreet Singh")
    expect(family).to_contain_text("Punjabi")
    expect(page.locator("body")).not_to_contain_text("Adam Bad")


def test_correct_a_carers_language_from_the_families_page(open_page, world, db):
    page = open_page()
    sign_in(page, world.staff.email)
    page.get_by_role("link", name="Families", exact=True).click()
    page.get_by_role("link", name="María García").click()
    page.get_by_label("Language").select_option(label="Portuguese")
    page.get_by_label("How they write").select_option(label="Usual script")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_have_text("Saved.")
    expect(page.get_by_label("Language")).to_have_value("pt")
    page.get_by_role("link", name="Families", exact=True).click()
    expect(page.locator(".family", has_text="Lucas García")).to_contain_text("Portuguese")
    db.expire_all()
    assert db.get(Guardian, world.parent.id).preferred_language == "pt"


def year_three(db, world) -> list[Guardian]:
    """María (Spanish), a Polish and an Urdu carer, all with a child in Year 3."""
    polish = make_guardian(db, world.school, "+447700900601", name="Anna Kowalska", language="pl", child="Kuba K")
    urdu = make_guardian(db, world.school, "+447700900602", name="Ayesha Khan", language="ur", child="Zain K")
    for guardian in (world.parent, polish, urdu):
        for child in db.exec(select(Child).join(GuardianChild).where(GuardianChild.guardian_id == guardian.id)):
            child.year_group = "Year 3"
    db.commit()
    return [world.parent, polish, urdu]


def test_an_update_to_three_families_in_three_languages(open_page, live, world, db, shots):
    carers = year_three(db, world)
    page = open_page()
    sign_in(page, world.staff.email)
    page.get_by_role("link", name="Send an update").click()
    page.get_by_label("Year group").select_option("Year 3")
    page.get_by_role("button", name="Show these families").click()
    expect(page.get_by_role("heading", name=re.compile("Tick who gets it"))).to_contain_text("3 can")
    page.get_by_label("The update").fill("School closes at 1pm on Friday for staff training.")
    page.get_by_role("button", name="Preview in every language").click()
    expect(page.locator("#update-reach")).to_contain_text("Goes to 3 carers in 3 languages")
    for language in ("Spanish", "Polish", "Urdu"):
        expect(page.locator(".language-preview", has_text=f"{language}: 1 carer")).to_contain_text("SMS:")
    expect(page.locator('.language-preview p.preview-text[lang="es"]')).to_contain_text("Traducción automática")
    page.screenshot(path=str(shots / "update-preview.png"), full_page=True)
    page.get_by_role("button", name="Send to 3 carers").click()
    expect(page.locator(".flash")).to_contain_text("Update saved for 3 carers in 3 languages")
    assert sorted(messages_of(db, c, "outbound")[0].language for c in carers) == ["es", "pl", "ur"]
    run_jobs(live.app)
    assert all(messages_of(db, c, "outbound")[0].status == "delivered" for c in carers)

    # The dashboard, drawn on the server, shows they were reached (and a finished question flow as a bar).
    from storage.models import FlowRun
    db.add(FlowRun(school_id=world.school.id, guardian_id=world.parent.id, flow_id="pre_review", language="es",
                   status="completed"))
    db.commit()
    page.get_by_role("link", name="At a glance").click()
    chart = page.locator("svg#chart-flows")
    expect(chart).to_be_visible()
    expect(chart.locator("desc")).to_have_text("Spanish: 1 of 1 (100%). ")
    assert chart.locator("rect.bar").bounding_box()["width"] > 100  # a full bar, drawn
    expect(page.locator("#reached-number")).to_have_text("3 of 3")
    expect(page.locator("#failing-number")).to_have_text("0")
    page.screenshot(path=str(shots / "dashboard.png"), full_page=True)


def test_a_new_message_appears_in_an_open_inbox_and_thread_without_a_reload(open_page, live, world, db):
    inbox = open_page()
    sign_in(inbox, world.staff.email)
    thread = open_page()
    sign_in(thread, world.staff.email)
    thread.goto(thread_url(db, world.parent))
    expect(thread.locator(".thread")).to_contain_text("No messages yet")
    form = twilio_form("Hola, ¿mañana hay excursión?", "+447700900701", "+447700900700")
    signature = sign(live.url + "/twilio/messages", form, AUTH_TOKEN)  # as Twilio signs for this server
    response = live.app.test_client().post("/twilio/messages", data=form, base_url=live.url,
                                           headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
    act_on_received(live.app)
    expect(inbox.locator(".conversation", has_text="María García")).to_contain_text("1 new", timeout=10_000)
    expect(thread.locator(".message.inbound")).to_contain_text("mañana hay excursión", timeout=10_000)
    run_jobs(live.app)  # the translation arrives: the open thread shows it too
    expect(thread.locator(".message.inbound .translation")).not_to_contain_text("Translating", timeout=10_000)


STAFF_PAGES = ["/", "/families", "/families/children/new", "/families/carers/new", "/families/import", "/updates", "/settings", "/dashboard", "/audit",
               "/not-reached", "/colleagues", "/reviews"]


def test_every_staff_page_passes_axe_and_shows_focus(browser, live, world, db):
    year_three(db, world)
    # axe is injected as an inline script, which the app's Content-Security-Policy rightly refuses.
    context = browser.new_context(base_url=live.url, bypass_csp=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, world.staff.email)
    child = db.exec(select(Child).where(Child.school_id == world.school.id)).first()
    pages = STAFF_PAGES + [f"/families/children/{child.id}", f"/families/carers/{world.parent.id}",
                           thread_url(db, world.parent)]
    problems = {}
    for url in pages:
        page.goto(url)
        found = axe_problems(page) + [f"no visible focus: {c}" for c in unfocused_controls(page)]
        if found:
            problems[url] = found
    # The pages reached by posting a form: the import preview and the update preview.
    page.goto("/families/import")
    page.get_by_label("CSV file", exact=True).set_input_files(files=[{"name": "x.csv", "mimeType": "text/csv",
                                                          "buffer": SMALL_EXPORT.encode()}])
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator("#import-summary")).to_be_visible()
    problems["import preview"] = axe_problems(page)
    page.goto("/updates?year_group=Year+3")
    page.get_by_label("The update").fill("Sports day is on Monday.")
    page.get_by_role("button", name="Preview in every language").click()
    expect(page.locator("#update-reach")).to_be_visible()
    problems["update preview"] = axe_problems(page) + [f"no visible focus: {c}" for c in unfocused_controls(page)]
    # The checks themselves can fail: an image without words and a button that hides its focus are caught.
    page.evaluate("""() => { document.querySelector('main').insertAdjacentHTML('afterbegin',
        '<img src="/static/favicon.svg"><button style="outline:none;box-shadow:none" id="bare">Bare</button>'); }""")
    caught = axe_problems(page)
    assert any(problem.startswith("image-alt") for problem in caught), caught
    unfocused = unfocused_controls(page)
    assert "button bare" in unfocused, unfocused
    context.close()
    assert {url: found for url, found in problems.items() if found} == {}


def signed_webhook(live, sender: str, to: str, body: str) -> None:
    """A parent's text reaching the live server exactly as Twilio posts it, acted on as the worker does."""
    form = twilio_form(body, sender, to)
    response = live.app.test_client().post("/twilio/messages", data=form, base_url=live.url,
                                           headers={"X-Twilio-Signature": sign(live.url + "/twilio/messages", form,
                                                                              AUTH_TOKEN)})
    assert response.status_code == 200
    act_on_received(live.app)


def test_done_when_a_new_school_runs_week_one_from_the_inbox_after_one_command(open_page, live, db, shots):
    """The issue's "Done when": one command, then everything in the browser."""
    number = "+447700900555"
    result = live.app.test_cli_runner().invoke(args=[
        "school", "create", "--name", "Oak Tree Primary", "--number", number, "--whatsapp", number,
        "--sendco-email", "sendco@oaktree.example", "--sendco-name", "Mrs Obi"])
    assert result.exit_code == 0, result.output
    link = re.search(r"/set-password/\S+", result.output)[0]
    # The walk must not depend on the hour the suite runs (after 20:00 replies wait for the morning,
    # as they should: quiet hours have their own tests), so this school has none.
    school = db.exec(select(School).where(School.name == "Oak Tree Primary")).one()
    school.quiet_start_hour = school.quiet_end_hour = 0
    db.commit()

    page = open_page()
    page.goto(link)
    page.get_by_label("New password").fill("a long enough password")
    page.get_by_label("The same password again").fill("a long enough password")
    page.get_by_role("button", name="Set password").click()
    page.get_by_label("Email").fill("sendco@oaktree.example")
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Parent messages")).to_be_visible()

    # 40 families in 9 languages from the MIS export, 3 bad rows reported.
    page.get_by_role("link", name="Families", exact=True).click()
    page.get_by_role("link", name="Import from your MIS (CSV)").click()
    page.get_by_label("CSV file", exact=True).set_input_files(str(Path(__file__).parent / "data" / "mis_export.csv"))
    page.get_by_role("button", name="Check the file").click()
    expect(page.locator("#import-summary")).to_contain_text("41 rows will be imported (9 languages")
    expect(page.locator("#import-summary")).to_contain_text("3 rows will be left out")
    page.get_by_role("button", name="Import 41 rows").click()
    expect(page.locator("#import-result")).to_contain_text("40 new carers")

    # A colleague.
    page.get_by_role("link", name="Colleagues").click()
    page.get_by_label("Name").fill("Mr Lee")
    page.get_by_label("Email").fill("lee@oaktree.example")
    page.get_by_label("Role").select_option("staff")
    page.get_by_role("button", name="Add colleague").click()
    expect(page.get_by_role("textbox", name="Set-password link")).to_have_value(re.compile(r"/set-password/"))

    # A Year 3 parent texts STOP before the update goes out.
    signed_webhook(live, "+447700900103", number, "STOP")

    # A term update to every Year 3 family.
    page.get_by_role("link", name="Send an update").click()
    page.get_by_label("Year group").select_option("Year 3")
    page.get_by_role("button", name="Show these families").click()
    page.get_by_label("The update").fill("Welcome back! Term starts on Monday 5 January at 8:45.")
    page.get_by_role("button", name="Preview in every language").click()
    expect(page.locator("#update-reach")).to_contain_text("Goes to 13 carers in 3 languages")
    expect(page.locator("#left-out")).to_contain_text("Shirin Rahman: Opted out")
    page.screenshot(path=str(shots / "done-when-update.png"), full_page=True)
    page.get_by_role("button", name="Send to 13 carers").click()
    expect(page.locator(".flash")).to_contain_text("Update saved for 13 carers in 3 languages")
    run_jobs(live.app)

    # Who was not reached, and why.
    page.get_by_role("link", name="Not reached").click()
    expect(page.locator("#not-reached tr", has_text="Shirin Rahman")).to_contain_text("Opted out: texted STOP")
    expect(page.locator("#not-reached tr", has_text="Shirin Rahman")).to_contain_text("phone them")

    # A reply arrives while the inbox is open, and the SENDCo answers it.
    page.get_by_role("link", name="Inbox").click()
    signed_webhook(live, "+447700900100", number, "Dziękuję, Amelia będzie w poniedziałek.")
    row = page.locator(".conversation", has_text="Ewa Nowak")
    expect(row).to_contain_text("1 new", timeout=10_000)
    row.get_by_role("link").click()
    page.get_by_label(re.compile("Reply in English")).fill("Thank you, see you on Monday.")
    page.get_by_role("button", name="Preview translation").click()
    page.get_by_role("button", name="Send to parent").click()
    run_jobs(live.app)
    ewa = db.exec(select(Guardian).where(Guardian.phone == "+447700900100")).one()
    replies = [m for m in messages_of(db, ewa, "outbound") if m.kind == "staff_reply"]
    assert [m.body for m in replies] == ["Welcome back! Term starts on Monday 5 January at 8:45.",
                                        "Thank you, see you on Monday."]
    assert all(m.status == "delivered" for m in replies)
