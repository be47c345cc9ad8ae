"""The parent simulator: simulated texts take the signed webhook path, replies reach the phone view."""
from __future__ import annotations

import re

from sqlmodel import select

from storage.models import Guardian, SchoolNumber
from tests.support.services import ACCOUNT_SID, run_jobs
from tests.support.factories import make_guardian
from tests.support.inbox import (  # noqa: F401  (fixtures)
    add_message, audit_actions, client, login, messages_of, previewed_form, staff_client, text_of, thread_url, world,
)

SPANISH = "Hola, mi hijo tuvo un día difícil en la escuela."


def simulate(client, guardian, body: str = SPANISH, channel: str = "sms"):
    """Submit the simulator's form as the parent."""
    return client.post("/simulator/send", data={"guardian": str(guardian), "body": body, "channel": channel})


def test_a_simulated_spanish_text_goes_through_the_signed_webhook(staff_client, world, db):
    response = simulate(staff_client, world.parent.id)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/simulator/?guardian={world.parent.id}&channel=sms"
    [message] = messages_of(db, world.parent)
    assert (message.direction, message.channel, message.body) == ("inbound", "sms", SPANISH)
    assert re.fullmatch(r"SM[0-9a-f]{32}", message.provider_sid)
    assert message.status == "received" and message.translation_status == "pending"  # stored; the worker acts
    run_jobs(staff_client.application)
    [message] = messages_of(db, world.parent)
    assert message.language == "es" and message.simulated is True  # never mistaken for a real parent's
    assert message.translation_status == "done" and "difficult day" in message.translation
    assert ("simulate_message", f"guardian:{world.parent.id}") in audit_actions(db, world.school)
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'class="bubble mine" dir="auto" data-id="{message.id}">{SPANISH}' in page
    thread = text_of(staff_client.get(thread_url(db, world.parent)).get_data(as_text=True))
    assert "Simulator mode: nothing reaches a real phone" in thread and "Simulated" in thread


def test_whatsapp_is_simulated_with_whatsapp_addresses(staff_client, world, db):
    assert simulate(staff_client, world.parent.id, "¿A qué hora es la reunión?", "whatsapp").status_code == 302
    [message] = messages_of(db, world.parent)
    assert message.channel == "whatsapp"
    run_jobs(staff_client.application)
    db.refresh(world.parent)
    assert world.parent.last_inbound_at == message.created_at  # opens the WhatsApp 24-hour window


def test_the_form_defaults_to_the_guardians_preferred_channel(staff_client, world, db):
    whatsapp_parent = make_guardian(db, world.school, "+447700900730", name="Anna Kowalska",
                                    language="pl", channel="whatsapp")
    db.commit()
    html = staff_client.get(f"/simulator/?guardian={whatsapp_parent.id}").get_data(as_text=True)
    assert 'value="whatsapp" checked' in html and 'value="sms" checked' not in html


def test_a_new_unknown_number_lands_in_the_inbox_as_an_unknown_contact(staff_client, world, db):
    known = {g.id for g in db.exec(select(Guardian)).all()}
    response = simulate(staff_client, "new", "Hello, I am Zain's dad. Who do I talk to?")
    assert response.status_code == 302
    [stranger] = [g for g in db.exec(select(Guardian)).all() if g.id not in known]
    assert stranger.known is False and stranger.school_id == world.school.id
    assert re.fullmatch(r"\+447700900\d{3}", stranger.phone)
    assert stranger.phone not in {n.phone for n in db.exec(select(SchoolNumber)).all()}
    assert response.headers["Location"].startswith(f"/simulator/?guardian={stranger.id}")
    listing = text_of(staff_client.get("/").get_data(as_text=True))
    assert f"Unknown contact number ending {stranger.phone[-4:]}" in listing


def test_the_phone_shows_the_reply_once_the_worker_has_sent_it(staff_client, world, db):
    simulate(staff_client, world.parent.id)
    run_jobs(staff_client.application)
    form = previewed_form(staff_client, thread_url(db, world.parent), "Thank you for your message")
    assert staff_client.post(thread_url(db, world.parent) + "/send", data=form).status_code == 302
    source = f"/simulator/guardians/{world.parent.id}/messages"
    before = staff_client.get(source).get_json()["messages"]
    assert [bubble["mine"] for bubble in before] == [True]  # still in the outbox: not on the phone yet
    run_jobs(staff_client.application)
    after = staff_client.get(source).get_json()["messages"]
    assert [bubble["mine"] for bubble in after] == [True, False]
    [reply] = messages_of(db, world.parent, "outbound")
    assert after[1]["text"] == reply.translation and "Gracias" in after[1]["text"]
    assert after[1]["channel"] == "SMS" and re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", after[1]["time"])


def test_the_phone_never_shows_a_message_that_did_not_go_out(staff_client, world, db):
    add_message(db, world.parent, "Blocked reply", direction="outbound", kind="staff_reply", status="blocked")
    add_message(db, world.parent, "Failed reply", direction="outbound", kind="staff_reply", status="failed")
    assert staff_client.get(f"/simulator/guardians/{world.parent.id}/messages").get_json() == {"messages": []}


def test_a_webhook_refusal_is_shown_to_staff(staff_client, world, db):
    broken = make_guardian(db, world.school, "12", name="Typo Number")  # not a phone number at all
    db.commit()
    response = simulate(staff_client, broken.id, "Hello")
    page = text_of(staff_client.get(response.headers["Location"]).get_data(as_text=True))
    assert "The webhook refused the message (400): Bad request: From:" in page
    assert messages_of(db, broken) == []


def test_an_empty_message_is_not_sent(staff_client, world, db):
    response = simulate(staff_client, world.parent.id, "   ")
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Write a message of 1 to 1600 characters" in page
    assert messages_of(db, world.parent) == []


def test_another_schools_family_cannot_be_played(staff_client, world, db):
    other = world.other_parent.id
    assert staff_client.get(f"/simulator/?guardian={other}").status_code == 404
    assert simulate(staff_client, other).status_code == 404
    assert staff_client.get(f"/simulator/guardians/{other}/messages").status_code == 404
    assert messages_of(db, world.other_parent) == []
    assert "Olena" not in staff_client.get("/simulator/").get_data(as_text=True)


def test_the_simulator_is_not_registered_with_the_twilio_channel(make_app, app, world):
    twilio = make_app(CHANNEL="twilio", TWILIO_ACCOUNT_SID=ACCOUNT_SID)
    assert "simulator" not in twilio.blueprints
    client = twilio.test_client()
    assert login(client, world.staff.email).status_code == 302
    assert client.get("/simulator/").status_code == 404
    assert "Parent simulator" not in client.get("/").get_data(as_text=True)


def test_the_inbox_header_links_to_the_simulator(staff_client, world):
    assert 'href="/simulator/">Parent simulator</a>' in staff_client.get("/").get_data(as_text=True)
