"""The SENDCo's own tools through Flask's test client, on PostgreSQL + Redis: the first school from the
command line, colleagues and roles, families, the CSV import, updates to many families, "not reached",
the live inbox check, and every route scoped to the signed-in school."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from sqlmodel import select

from storage.models import AuditEvent, Child, Guardian, GuardianChild, Message, School, SchoolNumber, StaffUser
from tests.support.factories import STAFF_PASSWORD, make_guardian, make_staff
from tests.support.inbox import (  # noqa: F401  (fixtures)
    audit_actions, client, login, messages_of, parent_texts, staff_client, text_of, thread_url, world,
)
from tests.support.services import run_jobs

MIS_EXPORT = Path(__file__).parent / "data" / "mis_export.csv"


def link_token(text: str) -> str:
    """The token of a set-password link in a page or command output."""
    found = re.search(r"/set-password/([A-Za-z0-9_-]{20,})", text)
    assert found, text
    return found[1]


def set_password(client, token: str, password: str = STAFF_PASSWORD):
    """Post the set-password form."""
    return client.post(f"/set-password/{token}", data={"password": password, "confirm": password})


# The first school, from one command

def test_the_cli_creates_a_school_its_number_and_a_sendco_who_sets_a_password_once(app, db, client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["school", "create", "--name", "Oak Tree Primary", "--number", "+447700900555",
                                          "--whatsapp", "+447700900555", "--sendco-email", "head@oak.example",
                                          "--sendco-name", "Mrs Obi"])
    assert result.exit_code == 0, result.output
    school = db.exec(select(School).where(School.name == "Oak Tree Primary")).one()
    number = db.exec(select(SchoolNumber).where(SchoolNumber.school_id == school.id)).one()
    assert (number.phone, number.whatsapp) == ("+447700900555", True)
    sendco = db.exec(select(StaffUser).where(StaffUser.email == "head@oak.example")).one()
    assert sendco.role == "sendco" and sendco.school_id == school.id
    token = link_token(result.output)
    assert login(client, "head@oak.example").status_code == 401  # no password until the link is used
    assert "at least 10" in set_password(client, token, "short").get_data(as_text=True)
    assert set_password(client, token).status_code == 302
    assert set_password(client, token).status_code == 404  # used up
    assert login(client, "head@oak.example").status_code == 302
    assert "Oak Tree Primary" in client.get("/").get_data(as_text=True)
    again = runner.invoke(args=["school", "create", "--name", "Copy", "--number", "+447700900555",
                                         "--sendco-email", "x@oak.example", "--sendco-name", "X"])
    assert again.exit_code != 0 and "already belong" in again.output
    db.expire_all()
    assert db.exec(select(School).where(School.name == "Copy")).first() is None  # nothing half-made


# Colleagues and roles

def test_a_sendco_adds_a_colleague_who_signs_in_with_the_link_and_is_deactivated(staff_client, world, db, app):
    page = staff_client.post("/colleagues", data={"email": "ta@riverside.example", "name": "Mr Lee", "role": "staff"})
    assert page.status_code == 200
    token = link_token(page.get_data(as_text=True))
    colleague = app.test_client()
    assert set_password(colleague, token).status_code == 302
    assert login(colleague, "ta@riverside.example").status_code == 302
    assert colleague.get("/").status_code == 200
    assert colleague.get("/families").status_code == 200  # staff work with families
    for sendco_only in ("/colleagues", "/families/import"):
        refused = colleague.get(sendco_only)
        assert refused.status_code == 403 and "Only the SENDCo" in refused.get_data(as_text=True)
    staff = db.exec(select(StaffUser).where(StaffUser.email == "ta@riverside.example")).one()
    duplicate = staff_client.post("/colleagues", data={"email": "TA@riverside.example", "name": "Copy", "role": "staff"})
    assert duplicate.status_code == 400 and "already has an account" in duplicate.get_data(as_text=True)
    assert staff_client.post(f"/colleagues/{staff.id}", data={"action": "deactivate"}).status_code == 302
    assert colleague.get("/").status_code == 302  # signed out at once
    assert login(colleague, "ta@riverside.example").status_code == 401
    actions = [action for action, _ in audit_actions(db, world.school)]
    assert "add_staff" in actions and "staff_deactivate" in actions and "set_password" in actions


def test_a_sendco_cannot_touch_another_schools_staff(staff_client, world):
    assert staff_client.post(f"/colleagues/{world.other_staff.id}", data={"action": "deactivate"}).status_code == 404


# Families

def carer_form(**fields) -> dict:
    """The carer form as a browser posts it."""
    return {"name": "Agnieszka Nowak", "phone": "07700 900321", "language": "pl", "script": "", "channel": "whatsapp",
            "relationship": "Mother", "consent": "yes", **fields}


def test_adding_a_child_and_a_carer_with_checked_phone_numbers(staff_client, world, db):
    response = staff_client.post("/families/children/new", data={"name": "Kuba Nowak", "year_group": "Year 3",
                                                                 "send_status": "EHCP"})
    child = db.exec(select(Child).where(Child.name == "Kuba Nowak")).one()
    assert response.headers["Location"].endswith(f"/families/carers/new?child={child.id}")
    bad = staff_client.post("/families/carers/new", data=carer_form(child=child.id, phone="07700 12"))
    assert bad.status_code == 400 and "not a valid phone number" in text_of(bad.get_data(as_text=True))
    taken = staff_client.post("/families/carers/new", data=carer_form(child=child.id, phone="07700 900701"))
    assert taken.status_code == 400 and "María García already has this number" in text_of(taken.get_data(as_text=True))
    assert staff_client.post("/families/carers/new", data=carer_form(child=child.id)).status_code == 302
    carer = db.exec(select(Guardian).where(Guardian.name == "Agnieszka Nowak")).one()
    assert (carer.phone, carer.preferred_language, carer.preferred_channel) == ("+447700900321", "pl", "whatsapp")
    assert db.get(GuardianChild, (carer.id, child.id)).relationship == "Mother"
    page = text_of(staff_client.get("/families?q=nowak").get_data(as_text=True))
    assert "Kuba Nowak" in page and "Polish" in page and "WhatsApp" in page and "María" not in page
    assert "Lucas García" in text_of(staff_client.get("/families?q=maría").get_data(as_text=True))  # by carer name
    assert {("add_child", f"child:{child.id}"), ("add_carer", f"guardian:{carer.id}")} <= set(audit_actions(db, world.school))


def test_editing_a_carers_language_script_and_quiet_hours(staff_client, world, db):
    url = f"/families/carers/{world.parent.id}"
    form = carer_form(name="María García", phone="+447700900701", language="ur", script="Latn",
                      quiet_start_hour="21", quiet_end_hour="7", do_not_contact="yes")
    assert staff_client.post(url, data=form).status_code == 302
    db.expire_all()
    parent = db.get(Guardian, world.parent.id)
    assert (parent.preferred_language, parent.preferred_script, parent.script_source) == ("ur", "Latn", "staff")
    assert (parent.quiet_start_hour, parent.quiet_end_hour, parent.do_not_contact) == (21, 7, True)
    half = staff_client.post(url, data={**form, "quiet_end_hour": ""})
    assert half.status_code == 400 and "both ends" in half.get_data(as_text=True)
    page = staff_client.get(url).get_data(as_text=True)
    assert '<option value="ur" selected>Urdu</option>' in page  # by name, never the code alone
    assert ("edit_carer", f"guardian:{parent.id}") in audit_actions(db, world.school)


def test_archiving_a_carer_takes_them_off_the_families_page(staff_client, world, db):
    assert staff_client.post(f"/families/carers/{world.parent.id}/archive").status_code == 302
    assert "María García is archived" in staff_client.get("/families").get_data(as_text=True)
    assert "María García" not in staff_client.get("/families").get_data(as_text=True)
    assert messages_of(db, world.parent) == []  # nothing else changed


def test_an_unknown_sender_becomes_the_carer_staff_add_with_that_number(app, staff_client, world, db):
    parent_texts(app, "Hello, this is Tom's dad", sender="+447700900999")
    unknown = db.exec(select(Guardian).where(Guardian.phone == "+447700900999")).one()
    assert not unknown.known
    response = staff_client.post("/families/carers/new", data=carer_form(name="Tom's Dad", phone="07700 900999",
                                                                          language="en"))
    assert response.status_code == 302
    db.expire_all()
    assert db.get(Guardian, unknown.id).known and db.get(Guardian, unknown.id).name == "Tom's Dad"
    assert len(messages_of(db, unknown, "inbound")) == 1  # the message stays with them


# Import

def upload(client, content: bytes, name: str = "export.csv"):
    """Upload a CSV file to the import's preview."""
    return client.post("/families/import", data={"file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def confirm(client, preview_html: str):
    """Post the preview's own import form."""
    digest = re.search(r'name="digest" value="([0-9a-f]+)"', preview_html)[1]
    text = re.search(r'<textarea name="text"[^>]*>(.*?)</textarea>', preview_html, re.S)[1]
    from html import unescape
    return client.post("/families/import/confirm", data={"digest": digest, "text": unescape(text)})


def family_counts(db, school) -> tuple[int, int, int]:
    """(children, known carers, links) of a school."""
    db.expire_all()
    children = db.exec(select(Child).where(Child.school_id == school.id)).all()
    carers = db.exec(select(Guardian).where(Guardian.school_id == school.id, Guardian.known)).all()
    links = db.exec(select(GuardianChild).join(Child).where(Child.school_id == school.id)).all()
    return len(children), len(carers), len(links)


def test_importing_the_mis_export_reports_bad_rows_and_imports_the_rest_once(staff_client, world, db):
    before = family_counts(db, world.school)
    preview = upload(staff_client, MIS_EXPORT.read_bytes())
    html = preview.get_data(as_text=True)
    page = text_of(html)
    assert preview.status_code == 200
    assert "41 rows will be imported (9 languages" in page and "3 rows will be left out" in page
    assert "“07700 12” is not a valid phone number" in page
    assert "“Elvish” is not a language we recognise" in page
    assert "Row 3 gives this number to Imran Khan" in page
    assert "“Panjabi” read as Punjabi (Gurmukhi)" in page and "“Bangla” read as Bangla" not in page
    assert "is also the carer of Amelia Nowak (row 2)" in page
    assert family_counts(db, world.school) == before  # the preview saved nothing
    done = text_of(confirm(staff_client, html).get_data(as_text=True))
    assert "41 new children" in done and "40 new carers" in done and "3 rows left out" in done
    children, carers, links = family_counts(db, world.school)
    assert (children, carers, links) == (before[0] + 41, before[1] + 40, before[2] + 41)
    farsi = db.exec(select(Guardian).where(Guardian.name == "Roya Ahmadi")).one()
    assert farsi.preferred_language == "fa"
    assert db.exec(select(Child).where(Child.name == "Adam Bad")).first() is None  # bad rows: nothing of them
    assert db.exec(select(Guardian).where(Guardian.name == "Someone Else")).first() is None
    shared = db.exec(select(Guardian).where(Guardian.phone == "+447700900100")).one()
    assert len(db.exec(select(GuardianChild).where(GuardianChild.guardian_id == shared.id)).all()) == 2

    again = upload(staff_client, MIS_EXPORT.read_bytes()).get_data(as_text=True)
    assert "Already here" in again
    result = text_of(confirm(staff_client, again).get_data(as_text=True))
    assert "0 new children" in result and "0 new carers" in result and "41 rows already here" in result
    assert family_counts(db, world.school) == (children, carers, links)


def test_an_unreadable_or_tampered_import_changes_nothing(staff_client, world, db):
    before = family_counts(db, world.school)
    missing = upload(staff_client, b"Name,Colour\nA,red\n")
    assert missing.status_code == 400 and "Missing: phone or mobile, carer or contact name" in text_of(
        missing.get_data(as_text=True))
    html = upload(staff_client, MIS_EXPORT.read_bytes()).get_data(as_text=True)
    digest = re.search(r'name="digest" value="([0-9a-f]+)"', html)[1]
    tampered = staff_client.post("/families/import/confirm", data={"digest": digest, "text": "Child name,Carer name,"
                                                                   "Phone\nX,Y,07700900111\n"})
    assert tampered.status_code == 400 and "changed after the preview" in tampered.get_data(as_text=True)
    assert family_counts(db, world.school) == before


def test_a_large_export_is_accepted_beyond_the_webhook_size_limit(staff_client, world, db):
    lines = ["Child name,Carer name,Phone,Language"] + [
        f"Child {n} With A Long Name,Carer {n} With A Long Name,{phone},Polish"
        for n, phone in enumerate([f"07700 900{n:03d}" for n in range(1000)] + [f"020 7946 0{n:03d}" for n in range(500)])]
    content = ("\n".join(lines) + "\n").encode()
    assert len(content) > 64 * 1024
    response = upload(staff_client, content)
    page = text_of(response.get_data(as_text=True))
    assert response.status_code == 200 and "1499 rows will be imported (1 language: Polish)" in page
    assert "1 row will be left out" in page and "This number already belongs to María García" in page


# Updates to many families

def three_families(db, world):
    """Three Year 3 carers in Spanish, Polish and Urdu, and one who opted out."""
    year3 = Child(school_id=world.school.id, name="Lucas García", year_group="Year 3")
    lucas = db.exec(select(Child).where(Child.name == "Lucas García")).one()
    lucas.year_group = "Year 3"
    polish = make_guardian(db, world.school, "+447700900601", name="Anna Kowalska", language="pl", child="Kuba K")
    urdu = make_guardian(db, world.school, "+447700900602", name="Ayesha Khan", language="ur", child="Zain K")
    out = make_guardian(db, world.school, "+447700900603", name="Olu Stop", language="en", child="Ade S",
                        opted_out=True)
    for guardian in (polish, urdu, out):
        child = db.exec(select(Child).join(GuardianChild).where(GuardianChild.guardian_id == guardian.id)).one()
        child.year_group = "Year 3"
    del year3
    db.commit()
    return [world.parent, polish, urdu], out


def test_an_update_to_year_3_previews_each_language_then_gives_each_carer_their_own_message(app, staff_client,
                                                                                             world, db):
    carers, out = three_families(db, world)
    chooser = text_of(staff_client.get("/updates?year_group=Year+3").get_data(as_text=True))
    assert "3 can" in chooser and "Opted out (texted STOP)" in chooser
    english = "School closes at 1pm on Friday for staff training."
    ids = [str(c.id) for c in carers]
    preview = staff_client.post("/updates/preview", data={"body": english, "guardian": ids, "cannot": [str(out.id)]})
    html = preview.get_data(as_text=True)
    page = text_of(html)
    assert preview.status_code == 200
    assert "Goes to 3 carers in 3 languages" in page
    for name in ("Spanish: 1 carer", "Polish: 1 carer", "Urdu: 1 carer"):
        assert name in page
    assert "Olu Stop: Opted out" in page
    assert len(re.findall(r"SMS: \d+ parts?", page)) == 3
    form = {"body": english, "previewed": english, "guardian": ids,
            "send_key": re.search(r'name="send_key" value="([0-9a-f]+)"', html)[1],
            **{f"approved_{lang}": value for lang, value in re.findall(r'name="approved_(\w+)" value="([0-9a-f]+)"', html)}}
    assert staff_client.post("/updates/send", data={**form, "body": english + "!"}).status_code == 409  # changed
    assert staff_client.post("/updates/send", data=form).status_code == 302
    assert staff_client.post("/updates/send", data=form).status_code == 302  # twice: nothing more
    sent = {c.name: messages_of(db, c, "outbound") for c in carers + [out]}
    assert {name: len(rows) for name, rows in sent.items()} == {"María García": 1, "Anna Kowalska": 1,
                                                                "Ayesha Khan": 1, "Olu Stop": 0}
    assert {rows[0].language for rows in sent.values() if rows} == {"es", "pl", "ur"}
    assert sent["María García"][0].translation in page  # exactly what the preview showed
    assert sent["María García"][0].translation.startswith("[Traducción automática]")
    run_jobs(app)
    assert all(messages_of(db, c, "outbound")[0].status == "delivered" for c in carers)  # simulator delivers
    assert any(action == "send_update" for action, _ in audit_actions(db, world.school))


def test_an_update_cannot_name_another_schools_carer(staff_client, world, db):
    response = staff_client.post("/updates/preview", data={"body": "Hello", "guardian": [str(world.other_parent.id)]})
    assert response.status_code == 400 and "Tick at least one carer" in response.get_data(as_text=True)
    assert messages_of(db, world.other_parent) == []


# Not reached

def test_not_reached_lists_each_carer_with_a_reason_and_a_next_step(app, staff_client, world, db):
    make_guardian(db, world.school, "+447700900611", name="Piotr Stop", opted_out=True)
    failing = make_guardian(db, world.school, "+447700900612", name="Failing Phone")
    db.commit()
    from tests.support.inbox import add_message
    add_message(db, failing, "Hello", direction="outbound", kind="staff_reply", status="undelivered",
                error_code=30003, error_message="The parent's phone was switched off or out of signal.")
    page = text_of(staff_client.get("/not-reached").get_data(as_text=True))
    assert "Piotr Stop" in page and "Opted out: texted STOP" in page
    assert "The last message did not arrive: the parent's phone was switched off or out of signal" in page
    assert "Check the number with them" in page
    assert "María García" in page and "Never sent anything" in page
    assert "Olena" not in page  # another school's carer


# The live inbox

def test_the_live_check_changes_when_a_message_arrives_and_is_scoped(app, staff_client, world, db):
    url = thread_url(db, world.parent)
    conversation_id = int(url.rsplit("/", 1)[1])
    before = staff_client.get(f"/live/state?conversation={conversation_id}").get_json()["version"]
    whole = staff_client.get("/live/state").get_json()["version"]
    assert staff_client.get(f"/live/state?conversation={conversation_id}").get_json()["version"] == before
    parent_texts(app, "Hola, una pregunta")
    assert staff_client.get(f"/live/state?conversation={conversation_id}").get_json()["version"] != before
    assert staff_client.get("/live/state").get_json()["version"] != whole
    fragment = staff_client.get(f"/live/conversations/{conversation_id}/messages").get_data(as_text=True)
    assert "Hola, una pregunta" in fragment
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "view_conversation")).all() == []  # polling is no view


# Every route, scoped

ROW_IDS = {"conversation_id", "guardian_id", "child_id", "staff_id", "review_id", "number_id", "run_id", "message_id",
           "target_id", "recording_id", "prompt_id"}


def routes_with_ids(app) -> list[tuple[str, str]]:
    """(method, rule) of every inbox route that names a row by id."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("inbox.") or not rule.arguments & ROW_IDS:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, rule.rule))
    return found


def test_every_route_with_an_id_answers_404_for_another_schools_rows(app, staff_client, world, db):
    other_conversation = int(thread_url(db, world.other_parent).rsplit("/", 1)[1])
    other_child = db.exec(select(Child).where(Child.school_id == world.other_school.id)).first()
    from datetime import timedelta

    from storage.models import FlowRun, Review, utcnow
    other_review = Review(school_id=world.other_school.id, child_id=other_child.id, starts_at=utcnow() + timedelta(days=9))
    db.add(other_review)
    db.flush()
    other_run = FlowRun(school_id=world.other_school.id, guardian_id=world.other_parent.id, review_id=other_review.id,
                        flow_id="pre_review", language="uk")
    db.add(other_run)
    # Rows of the other school behind the targets, voice and language routes too.
    from storage.models import Call, Message, Target, VoicePrompt, VoiceRecording
    parent_texts(app, "Добрий день", sender="+447700900801", to="+447700900800")
    [other_message] = db.exec(select(Message).where(Message.school_id == world.other_school.id)).all()
    other_target = Target(school_id=world.other_school.id, child_id=other_child.id, text="Reads with an adult",
                          starts_on=utcnow().date())
    other_call = Call(school_id=world.other_school.id, guardian_id=world.other_parent.id, direction="inbound")
    other_prompt = VoicePrompt(school_id=world.other_school.id, key="voice.menu", language="so", audio=b"RIFF",
                               content_type="audio/wav")
    db.add_all([other_target, other_call, other_prompt])
    db.flush()
    other_recording = VoiceRecording(school_id=world.other_school.id, call_id=other_call.id,
                                     message_id=other_message.id, provider_sid="RE" + "0" * 32, audio=b"RIFF")
    db.add(other_recording)
    db.commit()
    ids = {"conversation_id": other_conversation, "guardian_id": world.other_parent.id, "child_id": other_child.id,
           "staff_id": world.other_staff.id, "review_id": other_review.id, "run_id": other_run.id,
           "number_id": db.exec(select(SchoolNumber).where(SchoolNumber.school_id == world.other_school.id)).one().id,
           "message_id": other_message.id, "target_id": other_target.id, "recording_id": other_recording.id,
           "prompt_id": other_prompt.id}
    routes = routes_with_ids(app)
    assert len(routes) >= 30
    for method, rule in routes:
        url = re.sub(r"<int:(\w+)>", lambda m: str(ids[m[1]]), rule)
        response = staff_client.open(url, method=method, data={"action": "deactivate", "name": "X", "phone": "07700900444"})
        assert response.status_code == 404, (method, url, response.status_code)
    db.expire_all()
    assert db.get(StaffUser, world.other_staff.id).active and db.get(Guardian, world.other_parent.id).archived_at is None
    assert db.get(FlowRun, other_run.id).status == "active" and db.get(Review, other_review.id).status == "scheduled"


def test_staff_role_is_refused_every_sendco_only_route(app, world, db):
    colleague = make_staff(db, world.school, email="staff@riverside.example")
    colleague.role = "staff"
    db.commit()
    client = app.test_client()
    assert login(client, colleague.email).status_code == 302
    for method, url in (("GET", "/colleagues"), ("POST", "/colleagues"), ("POST", f"/colleagues/{world.staff.id}"),
                        ("GET", "/families/import"), ("POST", "/families/import"), ("POST", "/families/import/confirm"),
                        ("GET", "/settings"), ("POST", "/settings"), ("POST", "/settings/numbers"), ("GET", "/audit"),
                        ("POST", "/checkins/settings"), ("POST", "/checkins/holidays"),
                        ("GET", f"/families/children/{db.exec(select(Child)).first().id}/export")):
        assert client.open(url, method=method, data={"action": "deactivate"}).status_code == 403, url
    db.expire_all()
    assert db.get(StaffUser, world.staff.id).active


@pytest.mark.parametrize("path", ["/families", "/updates", "/not-reached", "/colleagues", "/families/import",
                                  "/families/children/new", "/families/carers/new", "/live/state"])
def test_signed_out_visitors_are_sent_to_sign_in(client, world, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# In a conversation

def test_who_is_this_an_unknown_number_becomes_a_new_carer_with_a_child(app, staff_client, world, db):
    parent_texts(app, "Dzień dobry, to mama Zosi", sender="+447700900990")
    unknown = db.exec(select(Guardian).where(Guardian.phone == "+447700900990")).one()
    url = thread_url(db, unknown)
    page = text_of(staff_client.get(url).get_data(as_text=True))
    assert "Who is this?" in page
    form_page = staff_client.get(f"/families/carers/new?unknown={unknown.id}").get_data(as_text=True)
    assert 'value="07700 900990"' in form_page or 'value="+447700900990"' in form_page
    response = staff_client.post("/families/carers/new", data=carer_form(
        name="Ewa Malik", phone="+447700900990", unknown=str(unknown.id), new_child_name="Zosia Malik",
        new_child_year="2"))
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    db.expire_all()
    carer = db.get(Guardian, unknown.id)
    assert carer.known and carer.name == "Ewa Malik" and carer.preferred_language == "pl"
    child = db.exec(select(Child).where(Child.name == "Zosia Malik")).one()
    assert child.year_group == "Year 2" and db.get(GuardianChild, (carer.id, child.id)) is not None
    assert "Who is this?" not in staff_client.get(url).get_data(as_text=True)
    other = staff_client.get(f"/families/carers/new?unknown={world.other_parent.id}").get_data(as_text=True)
    assert "+447700900801" not in other and "07700 900801" not in other  # another school's number is never shown


def test_an_unknown_number_linked_to_a_carer_who_changed_phone(app, staff_client, world, db):
    parent_texts(app, "Hola, es María con un teléfono nuevo", sender="+447700900991")
    unknown = db.exec(select(Guardian).where(Guardian.phone == "+447700900991")).one()
    url, unknown_id = thread_url(db, unknown), unknown.id
    assert staff_client.post(f"{url}/link", data={"guardian": str(world.other_parent.id)}).status_code == 404
    response = staff_client.post(f"{url}/link", data={"guardian": str(world.parent.id)})
    assert response.status_code == 302
    db.expire_all()
    maria = db.get(Guardian, world.parent.id)
    assert maria.phone == "+447700900991" and db.get(Guardian, unknown_id) is None
    assert [m.body for m in messages_of(db, maria, "inbound")] == ["Hola, es María con un teléfono nuevo"]
    assert response.headers["Location"].endswith(thread_url(db, maria))


def test_correcting_language_in_the_thread_and_assigning_then_filtering_the_list(app, staff_client, world, db):
    url = thread_url(db, world.parent)
    assert staff_client.post(f"{url}/details", data={"language": "pt", "script": "", "channel": "whatsapp"}).status_code == 302
    db.expire_all()
    parent = db.get(Guardian, world.parent.id)
    assert (parent.preferred_language, parent.preferred_channel) == ("pt", "whatsapp")
    page = text_of(staff_client.get(url).get_data(as_text=True))  # never wrote: WhatsApp's window is shut
    # No Portuguese engine here: the promise says so, and names the channel delivery will use.
    assert "with a short note in Portuguese, by SMS" in page and "Messages go by SMS just now: Outside WhatsApp's" in page
    parent_texts(app, "Olá, obrigada", channel="whatsapp")
    page = text_of(staff_client.get(url).get_data(as_text=True))  # the reply box promises what will happen
    assert "with a short note in Portuguese, by WhatsApp" in page and "just now" not in page
    assert staff_client.post(f"{url}/details", data={"language": "xx", "channel": "sms"}).status_code == 302
    db.expire_all()
    assert db.get(Guardian, world.parent.id).preferred_language == "pt"  # refused, unchanged
    assert staff_client.post(f"{url}/assign", data={"staff": str(world.other_staff.id)}).status_code == 404
    assert staff_client.post(f"{url}/assign", data={"staff": str(world.staff.id)}).status_code == 302
    second = make_guardian(db, world.school, "+447700900606", name="Unassigned Person", language="pl")
    db.commit()
    mine = text_of(staff_client.get("/?mine=yes").get_data(as_text=True))
    assert "María García" in mine and "Unassigned Person" not in mine
    polish = text_of(staff_client.get("/?language=pl").get_data(as_text=True))
    assert "Unassigned Person" in polish and "María García" not in polish
    parent_texts(app, "Olá", sender="+447700900701")
    assert "María García" not in text_of(staff_client.get("/?unanswered=2").get_data(as_text=True))  # just now
    assert "María García" in text_of(staff_client.get("/?unanswered=0").get_data(as_text=True))
    del second


# Settings

def settings_form(**fields) -> dict:
    """The settings form as the page fills it for the test school, with changes."""
    return {"name": "Riverside Test Primary", "timezone": "Europe/London", "staff_language": "en",
            "quiet_start_hour": "20", "quiet_end_hour": "8", "kind_0": "contribution_request", "days_0": "14",
            "hour_0": "10", "kind_1": "reminder", "days_1": "7", "hour_1": "10", "kind_2": "reminder", "days_2": "1",
            "hour_2": "16", **fields}


def test_a_sendco_changes_settings_and_a_bad_plan_is_refused_whole(staff_client, world, db):
    page = text_of(staff_client.get("/settings").get_data(as_text=True))
    assert "Now: Ask for the family's views 14 days before at 10:00; remind them of the meeting 7 days before" in page
    saved = staff_client.post("/settings", data=settings_form(name="Riverside Primary", days_2="2", hour_2="15",
                                                               quiet_start_hour="21"))
    assert saved.status_code == 302
    db.expire_all()
    school = db.get(School, world.school.id)
    assert (school.name, school.quiet_start_hour) == ("Riverside Primary", 21)
    assert school.reminder_plan[-1] == {"kind": "reminder", "days_before": 2, "hour": 15}
    for bad, words in ((settings_form(days_1="14"), "same day"), (settings_form(hour_2="22"), "quiet hours"),
                       (settings_form(timezone="Mars/Olympus"), "not a timezone"),
                       (settings_form(kind_1="contribution_request"), "only once")):
        refused = staff_client.post("/settings", data={**bad, "name": "Changed"})
        assert refused.status_code == 400 and words in refused.get_data(as_text=True)
    db.expire_all()
    assert db.get(School, world.school.id).name == "Riverside Primary"  # nothing of a refused form saved
    assert ("change_settings", f"school:{world.school.id}") in audit_actions(db, world.school)


def test_school_numbers_are_added_checked_and_the_last_kept(staff_client, world, db):
    assert staff_client.post("/settings/numbers", data={"phone": "+447700900555", "whatsapp": "yes"}).status_code == 302
    taken = staff_client.post("/settings/numbers", data={"phone": "+447700900800"})  # the other school's
    assert taken.status_code == 400 and "already set up" in taken.get_data(as_text=True)
    numbers = db.exec(select(SchoolNumber).where(SchoolNumber.school_id == world.school.id)).all()
    other = db.exec(select(SchoolNumber).where(SchoolNumber.school_id == world.other_school.id)).one()
    assert staff_client.post(f"/settings/numbers/{other.id}/remove").status_code == 404
    assert staff_client.post(f"/settings/numbers/{numbers[0].id}/remove").status_code == 302
    last = staff_client.post(f"/settings/numbers/{numbers[1].id}/remove")
    assert last.status_code == 400 and "only number" in last.get_data(as_text=True)


# At a glance

def test_the_dashboard_counts_reach_answers_to_reminders_and_failures(staff_client, world, db):
    from datetime import timedelta

    from storage.models import FlowRun, Reminder, Review, utcnow
    from tests.support.inbox import add_message
    polish = make_guardian(db, world.school, "+447700900621", name="Anna Kowalska", language="pl")
    make_guardian(db, world.school, "+447700900622", name="Never Reached", language="ur")
    lucas = db.exec(select(Child).where(Child.name == "Lucas García")).one()
    review = Review(school_id=world.school.id, child_id=lucas.id, starts_at=utcnow() + timedelta(days=3))
    db.add(review)
    db.commit()
    earlier = utcnow() - timedelta(days=2)
    for guardian, answer in ((world.parent, True), (polish, False)):
        sent = add_message(db, guardian, "Reminder", direction="outbound", kind="system", status="delivered",
                           when=earlier)
        db.add(Reminder(school_id=world.school.id, review_id=review.id, guardian_id=guardian.id, kind="reminder",
                        due_at=earlier, status="sent", message_id=sent.id))
        if answer:
            add_message(db, guardian, "Sí, allí estaré", when=earlier + timedelta(hours=1))
    add_message(db, polish, "Hello", direction="outbound", kind="staff_reply", status="undelivered", error_code=30003)
    db.add(FlowRun(school_id=world.school.id, guardian_id=world.parent.id, review_id=review.id, flow_id="pre_review",
                   language="es", status="completed"))
    db.add(FlowRun(school_id=world.school.id, guardian_id=polish.id, flow_id="pre_review", language="pl"))
    db.commit()
    html = staff_client.get("/dashboard").get_data(as_text=True)
    page = text_of(html)
    assert "2 of 3 families reached in the last 30 days" in page
    assert "1 message did not arrive" in page
    assert "1 of 1 reviews this term have the family's views" in page
    assert "Spanish: 1 of 1 (100%)" in page and "Polish: 0 of 1 (0%)" in page  # answered a reminder
    assert "SMS: 1 of 2 (50%)" in page
    assert re.search(r'<rect class="bar" x="180" y="\d+" width="300"', html)  # a 100% bar is drawn full
    assert "Olena" not in page


# Accountability

def test_the_audit_log_shows_who_did_what_in_words_and_only_this_school(staff_client, world, db):
    staff_client.get(thread_url(db, world.parent))
    db.add(AuditEvent(school_id=world.other_school.id, staff_user_id=world.other_staff.id, action="export_family",
                      target="child:1"))
    db.commit()
    page = text_of(staff_client.get("/audit").get_data(as_text=True))
    assert "Test SENDCo Read a conversation conversation:" in page and "Signed in" in page
    assert "Exported a family's data" not in page  # the other school's event


def test_a_family_export_holds_everything_about_them_and_is_audited(app, staff_client, world, db):
    parent_texts(app, "Hola, pregunta sobre Lucas")
    lucas = db.exec(select(Child).where(Child.name == "Lucas García")).one()
    response = staff_client.get(f"/families/children/{lucas.id}/export")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    document = response.get_json()
    assert document["child"]["name"] == "Lucas García"
    assert [c["name"] for c in document["carers"]] == ["María García"]
    assert document["carers"][0]["phone"] == "+447700900701"
    assert [m["body"] for m in document["messages"]] == ["Hola, pregunta sobre Lucas"]
    assert ("export_family", f"child:{lucas.id}") in audit_actions(db, world.school)
    other_child = db.exec(select(Child).where(Child.school_id == world.other_school.id)).first()
    assert staff_client.get(f"/families/children/{other_child.id}/export").status_code == 404


def test_retention_deletes_old_message_text_but_keeps_the_rows(app, staff_client, world, db):
    from datetime import timedelta

    from bot.sweep import run_sweep
    from storage.models import utcnow
    from tests.support.inbox import add_message
    old = add_message(db, world.parent, "Un mensaje antiguo", when=utcnow() - timedelta(days=400),
                      translation="An old message", translation_status="done")
    recent = add_message(db, world.parent, "Un mensaje nuevo", when=utcnow() - timedelta(days=2))
    with app.app_context():
        assert run_sweep()["purged"] == 0  # no setting: nothing deleted
    too_short = staff_client.post("/settings", data=settings_form(retention_days="3"))
    assert too_short.status_code == 400 and "at least 30 days" in too_short.get_data(as_text=True)
    assert staff_client.post("/settings", data=settings_form(retention_days="365")).status_code == 302
    with app.app_context():
        assert run_sweep()["purged"] == 1
    db.expire_all()
    gone, kept = db.get(Message, old.id), db.get(Message, recent.id)
    assert (gone.body, gone.translation, gone.purged_at is not None) == ("", None, True)
    assert kept.body == "Un mensaje nuevo" and kept.purged_at is None
    assert len(messages_of(db, world.parent)) == 2  # counts kept
    result = app.test_cli_runner().invoke(args=["purge"])
    assert result.exit_code == 0 and "0 message texts deleted" in result.output


# Asking for views again

def test_asking_for_views_again_explains_a_second_round_and_a_running_round_can_be_stopped(staff_client, world, db):
    from datetime import timedelta

    from storage.models import FlowRun, Review, utcnow
    lucas = db.exec(select(Child).where(Child.name == "Lucas García")).one()
    review = Review(school_id=world.school.id, child_id=lucas.id, starts_at=utcnow() + timedelta(days=10))
    db.add(review)
    db.commit()
    check = f"/reviews/{review.id}/ask/{world.parent.id}/check"
    first = staff_client.post(check)
    assert first.status_code == 307 and first.headers["Location"].endswith(f"/reviews/{review.id}/ask/{world.parent.id}")
    db.add(FlowRun(school_id=world.school.id, guardian_id=world.parent.id, review_id=review.id, flow_id="pre_review",
                   language="es", status="completed", finished_at=utcnow()))
    db.commit()
    page = text_of(staff_client.post(check).get_data(as_text=True))
    assert "Ask María García for their views again?" in page and "second round" in page
    assert "answered every question" in page
    running = FlowRun(school_id=world.school.id, guardian_id=world.parent.id, review_id=review.id,
                      flow_id="pre_review", language="es", status="active")
    db.add(running)
    db.commit()
    page = text_of(staff_client.post(check).get_data(as_text=True))
    assert "María García is answering the questions now" in page and "Stop these questions" in page
    other = staff_client.post(f"/reviews/{review.id}/ask/{world.other_parent.id}/check")
    assert other.status_code == 404
    assert staff_client.post(f"/reviews/{review.id}/runs/{running.id}/cancel").status_code == 302
    db.expire_all()
    assert db.get(FlowRun, running.id).status == "cancelled"
    assert ("cancel_views_questions", f"flow_run:{running.id}") in audit_actions(db, world.school)


def test_a_whatsapp_reply_outside_the_window_goes_by_sms_and_the_thread_says_why(app, staff_client, world, db):
    from tests.support.inbox import previewed_form
    parent = db.get(Guardian, world.parent.id)
    parent.preferred_channel = "whatsapp"
    db.commit()
    url = thread_url(db, world.parent)
    assert staff_client.post(f"{url}/send", data=previewed_form(staff_client, url, "See you on Monday")).status_code == 302
    run_jobs(app)
    [sent] = messages_of(db, world.parent, "outbound")
    assert sent.channel == "sms" and "Outside WhatsApp's 24-hour window" in sent.delivery_note
    page = text_of(staff_client.get(url).get_data(as_text=True))
    assert "SMS" in page and "Outside WhatsApp's 24-hour window and no approved template" in page


# A trust

def test_a_trust_admin_sets_up_a_school_and_its_sendco_but_reads_no_conversations(app, db, client, world):
    runner = app.test_cli_runner()
    made = runner.invoke(args=["school", "create", "--name", "Elm Academy", "--number", "+447700900561",
                               "--sendco-email", "sendco@elm.example", "--sendco-name", "Ms Elm", "--trust", "Oak Trust"])
    assert made.exit_code == 0, made.output
    admin = runner.invoke(args=["school", "add-trust-admin", "--trust", "Oak Trust", "--email", "ceo@oaktrust.example",
                                "--name", "Dr Ash"])
    assert admin.exit_code == 0, admin.output
    assert set_password(client, link_token(admin.output)).status_code == 302
    assert login(client, "ceo@oaktrust.example").status_code == 302
    assert client.get("/").headers["Location"].endswith("/trust")
    assert "Elm Academy" in text_of(client.get("/trust").get_data(as_text=True))
    elm = db.exec(select(School).where(School.name == "Elm Academy")).one()
    elm_parent = make_guardian(db, elm, "+447700900562", name="Elm Parent", language="pl")
    db.commit()
    for url in (thread_url(db, elm_parent), "/families", "/updates", "/reviews", "/dashboard", "/audit",
                "/colleagues", f"/families/carers/{elm_parent.id}", "/live/state"):
        assert client.get(url).status_code == 403, url  # no school pages, no message bodies
    page = client.post("/trust/schools", data={"name": "Birch Primary", "number": "+447700900563", "whatsapp": "yes",
                                               "sendco_name": "Mr Birch", "sendco_email": "sendco@birch.example"})
    assert page.status_code == 200
    token = link_token(page.get_data(as_text=True))
    birch = db.exec(select(School).where(School.name == "Birch Primary")).one()
    assert birch.trust_id == elm.trust_id
    taken = client.post("/trust/schools", data={"name": "Copy", "number": "+447700900563", "sendco_name": "X",
                                                "sendco_email": "x@birch.example"})
    assert taken.status_code == 400 and db.exec(select(School).where(School.name == "Copy")).first() is None
    sendco = app.test_client()
    assert set_password(sendco, token).status_code == 302 and login(sendco, "sendco@birch.example").status_code == 302
    assert "Birch Primary" in sendco.get("/").get_data(as_text=True)
    assert sendco.get("/trust").status_code == 404  # school staff have no trust page


def test_do_not_contact_stops_a_reply_and_odd_hours_are_refused_in_words(staff_client, world, db):
    url = f"/families/carers/{world.parent.id}"
    odd = staff_client.post(url, data=carer_form(name="María García", phone="+447700900701", quiet_start_hour="²",
                                                 quiet_end_hour="7"))
    assert odd.status_code == 400 and "an hour from 0 to 23" in odd.get_data(as_text=True)
    assert staff_client.post(url, data=carer_form(name="María García", phone="+447700900701",
                                                  do_not_contact="yes")).status_code == 302
    thread = thread_url(db, world.parent)
    form = {"body": "Hello", "previewed": "Hello", "approved": "0" * 32, "send_key": "a" * 32}
    refused = staff_client.post(f"{thread}/send", data=form)
    assert refused.status_code == 409 and "do not contact" in refused.get_data(as_text=True)
    assert messages_of(db, world.parent) == []


def test_a_due_reminder_to_a_carer_marked_do_not_contact_is_skipped_with_the_reason(app, world, db):
    from datetime import timedelta

    from bot.sweep import run_sweep
    from storage.models import Reminder, Review, utcnow
    quiet = make_guardian(db, world.school, "+447700900631", name="Quiet Carer", language="pl", do_not_contact=True)
    child = db.exec(select(Child).join(GuardianChild).where(GuardianChild.guardian_id == quiet.id)).one()
    review = Review(school_id=world.school.id, child_id=child.id, starts_at=utcnow() + timedelta(days=6))
    db.add(review)
    db.flush()
    reminder = Reminder(school_id=world.school.id, review_id=review.id, guardian_id=quiet.id, kind="reminder",
                        due_at=utcnow() - timedelta(minutes=5))
    db.add(reminder)
    db.commit()
    with app.app_context():
        run_sweep()
    run_jobs(app)
    db.expire_all()
    skipped = db.get(Reminder, reminder.id)
    assert skipped.status == "skipped" and "not to be contacted" in skipped.status_note
    assert messages_of(db, quiet) == []


def test_asking_a_do_not_contact_carer_for_views_is_refused(staff_client, world, db):
    from datetime import timedelta

    from storage.models import FlowRun, Review, utcnow
    parent = db.get(Guardian, world.parent.id)
    parent.do_not_contact = True
    lucas = db.exec(select(Child).where(Child.name == "Lucas García")).one()
    review = Review(school_id=world.school.id, child_id=lucas.id, starts_at=utcnow() + timedelta(days=10))
    db.add(review)
    db.commit()
    refused = staff_client.post(f"/reviews/{review.id}/ask/{world.parent.id}")
    assert refused.status_code == 409 and "marked not to be contacted" in text_of(refused.get_data(as_text=True))
    assert db.exec(select(FlowRun)).all() == [] and messages_of(db, world.parent) == []


def test_a_template_sid_saved_on_settings_is_used_outside_the_whatsapp_window(twilio_app, prism, staff_client,
                                                                               world, db):
    from bot.messaging.outbound import queue_catalogue_message
    from storage.db import session_scope
    from storage.models import Conversation
    sid = "HX" + "c" * 32
    bad = staff_client.post("/settings/templates", data={"key": "help.reply", "language": "es", "sid": "HX123"})
    assert bad.status_code == 400 and "HX followed by 32" in bad.get_data(as_text=True)
    assert staff_client.post("/settings/templates", data={"key": "help.reply", "language": "es",
                                                          "sid": sid}).status_code == 302
    db.expire_all()
    assert db.get(School, world.school.id).whatsapp_templates == {"help.reply": {"es": sid}}
    assert "HX" + "c" * 32 in staff_client.get("/settings").get_data(as_text=True)
    parent = db.get(Guardian, world.parent.id)
    parent.preferred_channel = "whatsapp"  # and never wrote: WhatsApp's window is shut
    db.commit()
    with twilio_app.app_context():
        with session_scope() as session:
            guardian = session.get(Guardian, world.parent.id)
            conversation = session.exec(select(Conversation).where(Conversation.guardian_id == guardian.id)).one()
            queue_catalogue_message(session, guardian, conversation, session.get(School, world.school.id),
                                    "help.reply", {"school": "Riverside Test Primary"})
    run_jobs(twilio_app)
    [request] = prism.requests
    assert request.form["ContentSid"] == [sid] and request.form["To"] == ["whatsapp:+447700900701"]
    assert staff_client.post("/settings/templates", data={"key": "help.reply", "language": "es",
                                                          "action": "remove"}).status_code == 302
    db.expire_all()
    assert db.get(School, world.school.id).whatsapp_templates is None


def test_an_update_says_a_voice_first_somali_family_has_no_voice_and_a_bengali_one_gets_a_call(staff_client, world, db):
    make_guardian(db, world.school, "+447700900604", name="Hodan Abdi", language="so", channel="voice",
                           child="Ayaan A")
    make_guardian(db, world.school, "+447700900605", name="Rahima Begum", language="bn", channel="voice",
                            child="Sami B")
    db.commit()
    chooser = text_of(staff_client.get("/updates").get_data(as_text=True))
    assert "No voice for Somali: they get messages as calls" in chooser
    assert "No voice for Bengali" not in chooser  # Twilio speaks Bengali: the update is phoned to Rahima


def test_the_live_thread_update_shows_what_the_page_shows_including_a_recording(app, staff_client, world, db):
    from storage.models import Call, VoiceRecording
    parent_texts(app, "(voice message)")
    [message] = messages_of(db, world.parent, "inbound")
    call = Call(school_id=world.school.id, guardian_id=world.parent.id, direction="inbound")
    db.add(call)
    db.flush()
    recording = VoiceRecording(school_id=world.school.id, call_id=call.id, message_id=message.id,
                               provider_sid="RE" + "1" * 32, audio=b"RIFF", content_type="audio/wav")
    db.add(recording)
    db.commit()
    url = thread_url(db, world.parent)
    fragment = staff_client.get(url.replace("/conversations/", "/live/conversations/") + "/messages").get_data(as_text=True)
    page = staff_client.get(url).get_data(as_text=True)
    assert f"/recordings/{recording.id}" in page and f"/recordings/{recording.id}" in fragment
