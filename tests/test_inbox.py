"""The staff inbox through Flask's test client, on PostgreSQL + Redis with real Apertium."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.channels.twilio.errors import explain_error
from bot.inbox import wording
from storage.models import AuditEvent, utcnow
from tests.support.services import run_jobs
from tests.support.factories import STAFF_PASSWORD, make_guardian
from tests.support.inbox import (  # noqa: F401  (fixtures)
    add_message, audit_actions, client, conversation_of, login, messages_of, parent_texts, previewed_form, reply_form,
    staff_client, text_of, thread_url, world,
)

SPANISH = "Hola, mi hijo tuvo un día difícil en la escuela."
REPLY = "Thank you for your message"


# Signing in and out

def test_login_with_the_right_password_opens_the_inbox(client, world, db):
    assert client.get("/").status_code == 302
    response = login(client, world.staff.email)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Riverside Test Primary" in page and "Test SENDCo" in page and "María García" in page
    assert ("login", None) in audit_actions(db, world.school)
    shouting = client.application.test_client()
    assert login(shouting, world.staff.email.upper()).status_code == 302  # any case of the email


def test_a_wrong_password_is_refused_and_audited(client, world, db):
    response = login(client, world.staff.email, "not the password")
    assert response.status_code == 401
    assert "do not match an account" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still signed out
    assert audit_actions(db, world.school) == [("login_failed", None)]


def test_an_unknown_email_is_refused_without_storing_it(client, world, db):
    response = login(client, "nobody@riverside.example")
    assert response.status_code == 401
    assert db.exec(select(AuditEvent)).all() == []  # no school to file it under, and no email kept


def test_repeated_failures_slow_the_account_down_then_the_right_password_works(client, world, db):
    import time_machine

    with time_machine.travel(datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc), tick=False) as clock:
        for _ in range(5):
            assert login(client, world.staff.email, "guess").status_code == 401
            clock.shift(timedelta(seconds=30))  # slower than the delays so far: every guess is checked
        response = login(client, world.staff.email, "guess")
        assert response.status_code == 401  # 30 s apart, five guesses are still checked...
        response = login(client, world.staff.email)  # ... but straight after the sixth, even the right password waits
        assert response.status_code == 429
        assert re.search(r"Wait \d+ seconds?, then try again", response.get_data(as_text=True))
        assert ("login_locked", None) in audit_actions(db, world.school)
        assert login(client, world.other_staff.email).status_code == 302  # a colleague behind the same address
        clock.shift(timedelta(seconds=10))
        assert login(client, world.staff.email).status_code == 302  # no lock-out: after the wait it works


def test_a_flood_of_failures_writes_a_bounded_number_of_audit_rows(client, world, db):
    for _ in range(60):
        login(client, world.staff.email, "guess")
    actions = [action for action, _ in audit_actions(db, world.school)]
    assert actions.count("login_failed") <= 5 and actions.count("login_locked") <= 1


def test_x_forwarded_for_is_believed_only_behind_the_configured_proxies(make_app, world, db):
    exposed = make_app().test_client()  # no trusted proxy: a forged header changes nothing
    for n in range(8):
        exposed.post("/login", data={"email": world.staff.email, "password": "guess"},
                     headers={"X-Forwarded-For": f"203.0.113.{n}"})
    assert exposed.post("/login", data={"email": world.staff.email, "password": "guess"},
                        headers={"X-Forwarded-For": "203.0.113.99"}).status_code == 429
    behind_proxy = make_app(TRUSTED_PROXY_HOPS=1).test_client()
    response = behind_proxy.post("/login", data={"email": world.staff.email, "password": STAFF_PASSWORD},
                                 headers={"X-Forwarded-For": "198.51.100.7"})
    assert response.status_code == 302  # another real client behind the proxy is not slowed by the first


def test_login_returns_to_the_page_asked_for_but_never_to_another_site(client, world, db):
    target = thread_url(db, world.parent)
    redirect = client.get(target)
    assert redirect.status_code == 302 and "/login?next=" in redirect.headers["Location"]
    assert login(client, world.staff.email, next=target).headers["Location"] == target
    for elsewhere in ("https://evil.example/phish", "//evil.example/phish"):
        assert login(client, world.staff.email, next=elsewhere).headers["Location"] == "/"


def test_logout_ends_the_session(staff_client, world, db):
    response = staff_client.post("/logout")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert staff_client.get("/").status_code == 302
    assert ("logout", None) in audit_actions(db, world.school)


@pytest.mark.parametrize("method, path", [
    ("get", "/"), ("get", "/conversations/1"), ("post", "/conversations/1/preview"),
    ("post", "/conversations/1/send"), ("get", "/simulator/"), ("post", "/simulator/send"),
])
def test_pages_require_login(client, world, method, path):
    response = getattr(client, method)(path, data={"body": "hello", "previewed": "hello"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_forged_send_without_login_stores_nothing(client, world, db):
    client.post(thread_url(db, world.parent) + "/send", data=reply_form(REPLY))
    assert messages_of(db, world.parent) == []


def test_a_post_without_the_csrf_token_is_refused(make_app, app, world, db):
    protected = make_app(WTF_CSRF_ENABLED=True).test_client()
    response = login(protected, world.staff.email)
    assert response.status_code == 400
    assert "could not be accepted" in response.get_data(as_text=True)
    assert audit_actions(db, world.school) == []  # refused before the password was even checked


# Scoping: one school never sees another's families

def test_another_schools_conversation_is_not_found(staff_client, world, db):
    parent_texts(staff_client.application, "Добрий день", sender="+447700900801", to="+447700900800")
    response = staff_client.get(thread_url(db, world.other_parent))
    assert response.status_code == 404
    assert "Olena" not in response.get_data(as_text=True)
    assert "Olena" not in staff_client.get("/").get_data(as_text=True)
    forged = staff_client.post(thread_url(db, world.other_parent) + "/send", data=reply_form(REPLY))
    assert forged.status_code == 404
    assert messages_of(db, world.other_parent, "outbound") == []


# The conversation list

def test_unread_conversations_come_first_then_the_most_recent(staff_client, world, db):
    now = utcnow()
    read_recent = make_guardian(db, world.school, "+447700900711", name="Read Recently", language="pl")
    unread_old = make_guardian(db, world.school, "+447700900712", name="Unread Older", language="ar")
    silent = make_guardian(db, world.school, "+447700900713", name="Never Wrote", child=None)
    db.commit()
    add_message(db, unread_old, "مرحبا", when=now - timedelta(hours=3))
    add_message(db, world.parent, SPANISH, when=now - timedelta(hours=1))
    add_message(db, read_recent, "Dzień dobry", when=now - timedelta(minutes=5))
    conversation_of(db, read_recent).staff_read_at = now
    db.commit()
    page = text_of(staff_client.get("/").get_data(as_text=True))
    order = [page.index(name) for name in ("María García", "Unread Older", "Read Recently", "Never Wrote")]
    assert order == sorted(order), page
    assert "1 new" in page and "No messages yet" in page


def test_a_row_shows_children_language_channel_and_opt_out(staff_client, world, db):
    make_guardian(db, world.school, "+447700900714", name="Anna Kowalska", language="pl",
                  channel="whatsapp", child="Kuba Kowalski", opted_out=True, opted_out_at=utcnow())
    db.commit()
    page = text_of(staff_client.get("/").get_data(as_text=True))
    row = page[page.index("Anna Kowalska"):]
    assert row.startswith("Anna Kowalska Opted out")
    assert "Kuba Kowalski Polish WhatsApp" in row
    assert "Lucas García Spanish SMS" in page


def test_an_unknown_number_is_listed_masked(staff_client, world, db):
    parent_texts(staff_client.application, "Hello, who do I speak to about my son?", sender="+447700900799")
    html = staff_client.get("/").get_data(as_text=True)
    assert "Unknown contact" in html and "number ending 0799" in html
    assert "7700900799" not in html


def test_times_show_in_the_schools_timezone_day_first(staff_client, world, db):
    add_message(db, world.parent, SPANISH, when=datetime(2025, 7, 1, 13, 5, tzinfo=timezone.utc))
    assert "01/07/2025 14:05" in staff_client.get("/").get_data(as_text=True)  # BST is UTC+1


def test_the_preview_is_the_translation_when_there_is_one(staff_client, world, db):
    add_message(db, world.parent, SPANISH, language="es", translation="My son had a hard day.",
                translation_status="done", translation_engine="apertium")
    page = staff_client.get("/").get_data(as_text=True)
    assert "My son had a hard day." in page and SPANISH not in page


# The thread

def test_a_thread_shows_original_translation_and_language_without_a_percentage(staff_client, world, db):
    parent_texts(staff_client.application, SPANISH)
    run_jobs(staff_client.application)
    [message] = messages_of(db, world.parent)
    assert message.translation_status == "done" and "difficult day" in message.translation
    html = staff_client.get(thread_url(db, world.parent)).get_data(as_text=True)
    assert f'<p class="text" dir="auto" lang="es">{SPANISH}</p>' in html
    assert "Machine translation (apertium)" in html and message.translation in html
    assert message.language_confidence >= 0.5
    assert "Original · Spanish</h3>" in html and "% sure" not in html  # no percentage on a sure reading


def test_a_doubtful_language_says_uncertain_and_a_missing_translator_is_explained_once(staff_client, world, db):
    for text in ("tak", "Dzień dobry, Kuba jest chory", "Kuba wróci w poniedziałek"):
        add_message(db, world.parent, text, language="pl", language_confidence=0.3 if text == "tak" else 0.95,
                    translation_status="unavailable", translation_gap="no_engine",
                    translation_note="argos has no pl->en pack installed; apertium has no pol-eng pair")
    html = staff_client.get(thread_url(db, world.parent)).get_data(as_text=True)
    assert html.count("Polish (language uncertain)") == 1
    assert html.count("No Polish translator is installed on this server") == 1  # once per page
    assert html.count("No machine translation: no Polish translator on this server") == 3
    assert "argos has no" not in html  # the technical reason is for the help page, not every row
    help_page = staff_client.get("/help/translation").get_data(as_text=True)
    assert "flask --app app translation install-argos --pair pl:en" in help_page


def test_opening_a_thread_marks_it_read_and_is_audited(staff_client, world, db):
    add_message(db, world.parent, SPANISH)
    assert "1 new" in staff_client.get("/").get_data(as_text=True)
    url = thread_url(db, world.parent)
    staff_client.get(url)
    assert conversation_of(db, world.parent).staff_read_at is not None
    assert "1 new" not in staff_client.get("/").get_data(as_text=True)
    add_message(db, world.parent, "¿Me pueden llamar?")  # arrives after staff looked
    assert "1 new" in staff_client.get("/").get_data(as_text=True)
    viewed = ("view_conversation", f"conversation:{conversation_of(db, world.parent).id}")
    assert viewed in audit_actions(db, world.school)


def test_a_pending_translation_says_so(staff_client, world, db):
    add_message(db, world.parent, SPANISH, language="es", language_confidence=0.9)
    html = staff_client.get(thread_url(db, world.parent)).get_data(as_text=True)
    assert "Translation pending…" in html and "Machine translation" not in html


def test_an_unavailable_translation_gives_the_reason_not_the_original(staff_client, world, db):
    add_message(db, world.parent, "Waan ka xumahay, wiilkaygu wuu xanuunsan yahay.", language="so",
                language_confidence=0.88, translation_status="unavailable",
                translation_note="no installed engine translates Somali to English", translation_gap="no_engine")
    html = staff_client.get(thread_url(db, world.parent)).get_data(as_text=True)
    assert "No machine translation: no Somali translator on this server" in html
    assert "No Somali translator is installed on this server — your administrator can add it" in html
    assert "Original · Somali</h3>" in html
    assert html.count("wiilkaygu") == 1 and "Machine translation" not in html


def test_an_arabic_message_is_marked_for_right_to_left(staff_client, world, db):
    add_message(db, world.parent, "ابني مريض اليوم", language="ar", language_confidence=0.99)
    html = staff_client.get(thread_url(db, world.parent)).get_data(as_text=True)
    assert '<p class="text" dir="auto" lang="ar">ابني مريض اليوم</p>' in html


def test_html_in_a_parents_message_is_shown_as_text(staff_client, world, db):
    parent_texts(staff_client.application, '<script>alert("x")</script><b>bold</b>')
    for url in ("/", thread_url(db, world.parent)):
        html = staff_client.get(url).get_data(as_text=True)
        assert "<script>alert" not in html and "<b>bold" not in html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in html


def test_stop_is_shown_as_an_event_and_replaces_the_reply_box(staff_client, world, db):
    parent_texts(staff_client.application, "STOP")
    html = staff_client.get(thread_url(db, world.parent)).get_data(as_text=True)
    assert "Texted STOP: opted out" in html
    db.refresh(world.parent)
    day = world.parent.opted_out_at.astimezone(ZoneInfo("Europe/London")).strftime("%d/%m/%Y")
    assert f"This parent texted STOP on {day}; nothing will be sent until they text START." in text_of(html)
    assert 'name="body"' not in html


@pytest.mark.parametrize("status, code, words", [
    ("outbox", None, "Waiting to send"), ("dispatching", None, "Waiting to send"),
    ("queued", None, "Sent"), ("sent", None, "Sent"), ("delivered", None, "Delivered"), ("read", None, "Read"),
    ("undelivered", 30006, "Not delivered: the number is a landline, or its network cannot receive texts"),
    ("failed", 21610, "Not delivered: the parent opted out by replying STOP"),
    ("failed", 63016, "Not delivered: the parent has not written on WhatsApp in the last 24 hours"),
    ("blocked", None, "Not sent: the parent has opted out"),
])
def test_delivery_status_is_in_words(staff_client, world, db, status, code, words):
    add_message(db, world.parent, REPLY, direction="outbound", kind="staff_reply", language="es",
                translation="[Traducción automática] Gracias para vuestro mensaje", translation_status="done",
                translation_engine="apertium", status=status, error_code=code, staff_author_id=world.staff.id,
                error_message=explain_error(code) if code else None)  # as the Twilio edge stores it
    page = text_of(staff_client.get(thread_url(db, world.parent)).get_data(as_text=True))
    assert words in page
    assert "Test SENDCo" in page and "Written in English Thank you for your message" in page
    assert "Sent in Spanish · machine translated (apertium)" in page


def test_every_listed_twilio_error_reads_as_words():
    from bot.channels.twilio.errors import ERROR_EXPLANATIONS

    for code, explanation in ERROR_EXPLANATIONS.items():
        text = wording.explain_error(code, explanation)
        assert str(code) not in text and len(text.split()) >= 4 and text[0].islower()
    assert wording.explain_error(99999, "Something odd.") == "something odd"
    assert wording.explain_error(None) == "no reason was given"


def test_a_human_translated_system_message_is_labelled(staff_client, world, db):
    add_message(db, world.parent, "Ya no recibirás más mensajes.", direction="outbound", kind="system",
                language="es", translation="Ya no recibirás más mensajes.", translation_status="human",
                translation_engine="human", status="delivered", template_key="optout.confirm",
                template_values={"school": "Riverside Test Primary"})
    page = text_of(staff_client.get(thread_url(db, world.parent)).get_data(as_text=True))
    assert "Automatic message" in page and "school's own translation" in page
    assert "You will not get any more messages from Riverside Test Primary" in page  # the English version


# Replying

def test_preview_shows_the_spanish_the_parent_will_receive(staff_client, world, db):
    response = staff_client.post(thread_url(db, world.parent) + "/preview", data={"body": REPLY})
    page = text_of(response.get_data(as_text=True))
    assert response.status_code == 200
    assert "The parent will receive (Spanish, SMS)" in page
    html = response.get_data(as_text=True)
    preview = re.search(r'class="text preview-text" dir="auto" lang="es">([^<]+)<', html)
    assert preview and "Gracias" in preview.group(1)
    assert re.search(r"SMS: 1 part \(\d+ characters, (GSM-7|UCS-2)\)", page)
    assert "Send to parent" in page
    assert messages_of(db, world.parent) == []  # a preview stores nothing


def test_send_stores_the_reply_and_the_worker_delivers_it(staff_client, world, db):
    url = thread_url(db, world.parent)
    response = staff_client.post(url + "/send", data=previewed_form(staff_client, url, REPLY))
    assert response.status_code == 302
    [reply] = messages_of(db, world.parent, "outbound")
    assert (reply.body, reply.status, reply.language) == (REPLY, "outbox", "es")
    assert reply.staff_author_id == world.staff.id
    assert "Gracias" in reply.translation and reply.translation_engine == "apertium"
    assert response.headers["Location"].endswith(f"{url}#m{reply.id}")
    assert "Waiting to send" in staff_client.get(url).get_data(as_text=True)
    run_jobs(staff_client.application)
    [reply] = messages_of(db, world.parent, "outbound")
    assert reply.status == "delivered" and re.fullmatch(r"SM[0-9a-f]{32}", reply.provider_sid)
    assert "Delivered" in staff_client.get(url).get_data(as_text=True)
    assert ("send_reply", f"message:{reply.id}") in audit_actions(db, world.school)


def test_a_reply_changed_after_its_preview_is_previewed_again_not_sent(staff_client, world, db):
    response = staff_client.post(thread_url(db, world.parent) + "/send",
                                 data=reply_form("We will call you tomorrow", previewed=REPLY))
    assert response.status_code == 200
    assert "The reply changed after the preview" in response.get_data(as_text=True)
    assert messages_of(db, world.parent) == []


def test_a_translation_that_changed_after_the_preview_is_shown_again_and_the_approved_one_is_sent(
        staff_client, world, db, monkeypatch):
    url = thread_url(db, world.parent)
    form = previewed_form(staff_client, url, REPLY)
    translator = staff_client.application.extensions["translator"]
    real = translator.translate
    monkeypatch.setattr(translator, "translate",  # the engine now renders the same English differently
                        lambda text, source, target, **kw: replace(real(text, source, target, **kw), text="Muchas gracias."))
    response = staff_client.post(url + "/send", data=form)
    page = text_of(response.get_data(as_text=True))
    assert response.status_code == 200 and "came out differently from the one you previewed" in page
    assert "Muchas gracias." in page and messages_of(db, world.parent) == []  # shown, not sent
    approved = re.search(r'name="approved" value="([0-9a-f]+)"', response.get_data(as_text=True))[1]
    assert approved != form["approved"]
    assert staff_client.post(url + "/send", data={**form, "approved": approved}).status_code == 302
    [reply] = messages_of(db, world.parent, "outbound")
    assert reply.translation.endswith("Muchas gracias.")  # exactly what staff approved the second time


def test_the_same_send_form_posted_twice_sends_once(staff_client, world, db):
    url = thread_url(db, world.parent)
    form = previewed_form(staff_client, url, REPLY)
    first = staff_client.post(url + "/send", data=form)
    again = staff_client.post(url + "/send", data=form)  # Back, then Send again; or a double click
    assert first.status_code == again.status_code == 302
    run_jobs(staff_client.application)
    [reply] = messages_of(db, world.parent, "outbound")
    assert reply.status == "delivered"
    assert again.headers["Location"].endswith(f"#m{reply.id}")
    assert "already sent" in staff_client.get(url).get_data(as_text=True)


def test_the_same_send_form_posted_twice_at_once_stores_one_reply(staff_client, world, db):
    from concurrent.futures import ThreadPoolExecutor

    url = thread_url(db, world.parent)
    form = previewed_form(staff_client, url, REPLY)
    cookie = staff_client.get_cookie("session").value
    app = staff_client.application

    def post(_):
        browser = app.test_client()
        browser.set_cookie("session", cookie)
        return browser.post(url + "/send", data=form).status_code

    with ThreadPoolExecutor(4) as pool:
        assert set(pool.map(post, range(4))) == {302}
    assert len(messages_of(db, world.parent, "outbound")) == 1


def test_a_send_without_the_previews_one_time_key_is_shown_again_not_sent(staff_client, world, db):
    url = thread_url(db, world.parent)
    form = {key: value for key, value in previewed_form(staff_client, url, REPLY).items() if key != "send_key"}
    response = staff_client.post(url + "/send", data=form)
    assert response.status_code == 200 and "Check what the parent will receive" in response.get_data(as_text=True)
    assert messages_of(db, world.parent) == []


def test_an_empty_reply_is_refused(staff_client, world, db):
    response = staff_client.post(thread_url(db, world.parent) + "/send", data=reply_form("   "))
    assert response.status_code == 400 and "Write a reply first." in response.get_data(as_text=True)
    assert messages_of(db, world.parent) == []


def test_no_translation_engine_is_said_plainly_and_sending_still_works(staff_client, world, db):
    somali = make_guardian(db, world.school, "+447700900720", name="Hodan Farah", language="so")
    db.commit()
    url = thread_url(db, somali)
    page = text_of(staff_client.post(url + "/preview", data={"body": REPLY}).get_data(as_text=True))
    assert ("No machine translation into Somali on this server: "
            "the parent will receive English with a short note. How to add a translator") in page
    assert "Send to parent" in page
    assert staff_client.post(url + "/send", data=previewed_form(staff_client, url, REPLY)).status_code == 302
    [reply] = messages_of(db, somali, "outbound")
    assert reply.translation_status == "unavailable" and reply.translation.startswith(REPLY)


def test_an_opted_out_parent_has_no_reply_box_and_a_forged_send_is_refused(staff_client, world, db):
    world.parent.opted_out, world.parent.opted_out_at = True, datetime(2025, 3, 4, 10, 0, tzinfo=timezone.utc)
    db.add(world.parent)
    db.commit()
    url = thread_url(db, world.parent)
    html = staff_client.get(url).get_data(as_text=True)
    assert "This parent texted STOP on 04/03/2025; nothing will be sent until they text START." in text_of(html)
    assert 'name="body"' not in html and "Send to parent" not in html
    response = staff_client.post(url + "/send", data=reply_form(REPLY))
    assert response.status_code == 409
    assert messages_of(db, world.parent) == []
    assert not any(action == "send_reply" for action, _ in audit_actions(db, world.school))


def test_every_page_carries_security_headers_and_family_data_is_never_cached(staff_client, world, db):
    for url in ("/", thread_url(db, world.parent), "/reviews", "/login"):
        response = staff_client.get(url)
        headers = response.headers
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY" and headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin" and headers["Cache-Control"] == "no-store"
        assert "<script>" not in response.get_data(as_text=True)  # the policy allows no inline script
    static = staff_client.get("/static/style.css")
    static.close()
    assert "no-store" not in static.headers.get("Cache-Control", "")


def test_bidi_overrides_in_a_message_or_a_name_are_shown_not_obeyed(staff_client, world, db):
    world.parent.name = "Maria \u202eairaM"
    db.commit()
    add_message(db, world.parent, "Hola \u202egnp.exe")
    html = staff_client.get(thread_url(db, world.parent)).get_data(as_text=True)
    assert "\u202e" not in html
    assert "Hola [U+202E]gnp.exe" in html and "<bdi>Maria [U+202E]airaM</bdi>" in html  # names isolated too


def test_a_link_from_another_site_shows_the_thread_but_leaves_it_unread(staff_client, world, db):
    parent_texts(staff_client.application, "Hola, ¿hay clase mañana?")
    url = thread_url(db, world.parent)
    staff_client.get(url, headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"})
    assert "1 new" in text_of(staff_client.get("/").get_data(as_text=True))
    staff_client.get(url, headers={"Sec-Fetch-Site": "same-origin"})
    assert "1 new" not in text_of(staff_client.get("/").get_data(as_text=True))


def test_signing_out_ends_the_session_and_every_copy_of_its_cookie(client, world, db):
    login(client, world.staff.email)
    stolen = client.get_cookie("session").value
    assert client.get("/").status_code == 200
    client.post("/logout")
    thief = client.application.test_client()
    thief.set_cookie("session", stolen)
    response = thief.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_an_idle_session_ends_and_no_session_outlives_its_maximum(client, world, db):
    import time_machine

    start = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)
    with time_machine.travel(start, tick=False) as clock:
        login(client, world.staff.email)
        clock.shift(timedelta(minutes=59))
        assert client.get("/").status_code == 200  # used within the idle timeout: still signed in
        clock.shift(timedelta(minutes=61))
        assert client.get("/").status_code == 302  # idle longer than SESSION_IDLE_MINUTES
        login(client, world.staff.email)
        for _ in range(14):  # busy all day (nearly 13 hours), never idle for an hour
            clock.shift(timedelta(minutes=55))
            client.get("/")
        assert client.get("/").status_code == 302  # past SESSION_MAX_HOURS (12) whatever the use


def test_the_preview_shows_the_translation_back_in_english_and_marks_what_was_kept(staff_client, world, db):
    url = thread_url(db, world.parent)
    page = staff_client.post(url + "/preview", data={"body": "We will call you tomorrow at 10am."}).get_data(as_text=True)
    assert '<mark class="kept">10am</mark>' in page  # the Spanish keeps it, and the page shows it was kept
    back = re.search(r'class="back-translation">.*?<span class="text" dir="auto">(.*?)</span>', page, re.S)
    assert back and "10am" in back[1] and "call" in back[1].lower()  # staff can check the meaning


def test_staff_and_children_names_pass_through_the_translation_as_written(staff_client, world, db):
    world.staff.name = "Ms Patel (SENDCo)"
    db.commit()
    url = thread_url(db, world.parent)
    page = staff_client.post(url + "/preview", data={"body": "Ms Patel will call you about Lucas."}).get_data(as_text=True)
    preview = text_of(re.search(r'class="text preview-text".*?</p>', page, re.S)[0])
    assert "Ms Patel" in preview  # Apertium alone writes "Señora Patel"
    assert '<mark class="kept">Ms Patel</mark>' in page


def test_a_system_messages_english_copy_writes_the_date_in_english(staff_client, world, db):
    values = {"school": "Riverside", "child": "Kuba", "date": "czwartek, 17 grudnia, 15:30",
              "starts_at": "2026-12-17T15:30:00+00:00", "place": "Room 4"}
    add_message(db, world.parent, "(English copy)", direction="outbound", kind="system", language="pl",
                template_key="pre_review.intro", template_values=values, translation="Polish text",
                translation_engine="human", translation_status="human", status="delivered")
    page = text_of(staff_client.get(thread_url(db, world.parent)).get_data(as_text=True))
    assert "Kuba's review is on Thursday 17 December, 15:30" in page and "grudnia" not in page.split("Polish text")[0]


def test_a_one_tap_answer_shows_what_the_questions_understood_not_a_missing_translation(staff_client, world, db):
    from bot.conversation import flow_runs
    from storage.db import session_scope
    from storage.models import Guardian, School

    app = staff_client.application
    with app.app_context(), session_scope() as session:
        flow_runs.start_flow(session, session.get(Guardian, world.parent.id), session.get(School, world.school.id),
                             "review_reminder", {"school": "Riverside", "child": "Lucas", "place": "Room 4",
                                                 "date": "jueves, 17 de diciembre, 15:30"})
    parent_texts(app, "1")
    run_jobs(app)
    page = text_of(staff_client.get(thread_url(db, world.parent)).get_data(as_text=True))
    assert "Understood by the questions as I will be there" in page
    assert "No translation available" not in page


# Staff correct a message's language

def _correct(client, db, guardian, message, code):
    url = f"{thread_url(db, guardian)}/messages/{message.id}/language"
    return client.post(url, data={"language": code})


def test_staff_correct_a_roman_urdu_message_read_as_english_and_the_parent_is_written_to_in_roman_urdu(
        staff_client, world, db):
    message = add_message(db, world.parent, "ok ji kal aaunga", language="en", language_confidence=0.62,
                          script="Latn", status="processed", translation_status="not_needed")
    assert _correct(staff_client, db, world.parent, message, "ur-Latn").status_code == 302
    run_jobs(staff_client.application)
    db.expire_all()
    fixed, parent = db.get(type(message), message.id), db.get(type(world.parent), world.parent.id)
    assert (fixed.language, fixed.script, fixed.language_confidence) == ("ur", "Latn", 1.0)
    assert (fixed.translation_status, fixed.translation_gap) == ("unavailable", "romanised")
    assert (parent.preferred_language, parent.preferred_script, parent.script_source) == ("ur", "Latn", "staff")
    assert ("correct_language", f"message:{message.id}") in audit_actions(db, world.school)
    html = staff_client.get(thread_url(db, world.parent)).get_data(as_text=True)
    assert "Original · Roman Urdu</h3>" in html and "No machine translation: Roman Urdu" in html
    assert "Roman Urdu is Urdu written in English letters" in html


def test_a_corrected_language_is_translated_again(staff_client, world, db):
    message = add_message(db, world.parent, SPANISH, language="pt", language_confidence=0.4, status="processed",
                          translation_status="unavailable", translation_gap="no_engine")
    assert _correct(staff_client, db, world.parent, message, "es").status_code == 302
    run_jobs(staff_client.application)
    db.expire_all()
    fixed = db.get(type(message), message.id)
    assert fixed.translation_status == "done" and "difficult day" in fixed.translation


def test_a_language_correction_needs_a_listed_language_and_this_schools_message(staff_client, world, db):
    message = add_message(db, world.parent, SPANISH, language="es", language_confidence=0.9, status="processed")
    assert _correct(staff_client, db, world.parent, message, "xx").status_code == 400
    parent_texts(staff_client.application, "Добрий день", sender="+447700900801", to="+447700900800")
    [theirs] = messages_of(db, world.other_parent)
    assert _correct(staff_client, db, world.other_parent, theirs, "pl").status_code == 404
    forged = staff_client.post(f"{thread_url(db, world.parent)}/messages/{theirs.id}/language", data={"language": "pl"})
    assert forged.status_code == 404  # another school's message through our own conversation
    db.expire_all()
    assert db.get(type(message), message.id).language == "es" and db.get(type(theirs), theirs.id).language != "pl"


def test_a_reply_to_a_roman_urdu_reader_says_no_translator_writes_it_and_sends_english_with_a_roman_note(
        staff_client, world, db):
    reader = make_guardian(db, world.school, "+447700900721", name="Ayesha Khan", language="ur",
                           preferred_script="Latn", script_source="learned")
    db.commit()
    url = thread_url(db, reader)
    promise = text_of(staff_client.get(url).get_data(as_text=True))
    assert "no translator writes Roman Urdu here: the parent receives it as you write it" in promise
    page = text_of(staff_client.post(url + "/preview", data={"body": REPLY}).get_data(as_text=True))
    assert "The parent will receive (Roman Urdu, SMS)" in page
    assert "No translator writes Roman Urdu (the parent reads it in English letters)" in page
    assert staff_client.post(url + "/send", data=previewed_form(staff_client, url, REPLY)).status_code == 302
    [reply] = messages_of(db, reader, "outbound")
    assert (reply.language, reply.translation_status, reply.translation_gap) == ("ur-Latn", "unavailable", "romanised")
    from bot.language.i18n import render_template
    assert reply.translation == f"{REPLY}\n{render_template('translation.unavailable_notice', 'ur-Latn')}"
    assert reply.translation.isascii()  # nothing in Urdu script for a parent who reads English letters


def test_a_voice_first_parent_who_writes_roman_urdu_is_spoken_to_in_urdu_not_its_roman_spelling(world, db):
    from bot.messaging.outbound import parent_language
    caller = make_guardian(db, world.school, "+447700900722", language="bn", channel="voice", preferred_script="Latn")
    reader = make_guardian(db, world.school, "+447700900723", language="bn", channel="sms", preferred_script="Latn")
    assert parent_language(caller, world.school) == "bn" and parent_language(reader, world.school) == "bn-Latn"
