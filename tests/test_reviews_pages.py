"""Review pages, reminders and parent contributions in the staff inbox (Flask test client, PostgreSQL,
Redis, a real RQ worker, the simulator channel and real Apertium for Spanish)."""
from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.reviews.plan import format_uk_datetime
from storage.models import Child, FlowAnswer, FlowRun, Guardian, GuardianChild, Reminder, Review, utcnow
from tests.support.services import run_jobs
from tests.support.factories import make_guardian
from tests.support.inbox import (  # noqa: F401  (fixtures)
    add_message, audit_actions, client, messages_of, parent_texts, previewed_form, staff_client,
    text_of, thread_url, world,
)

LONDON = ZoneInfo("Europe/London")
SECOND_CARER = "+447700900702"
HOME_ANSWER = "Está contento en casa, pero duerme muy poco por la noche."


def typed_in(days: int, clock: str = "15:30") -> str:
    """A date `days` ahead, typed day first the way staff would, with a time."""
    day = (utcnow() + timedelta(days=days)).astimezone(LONDON).date()
    return f"{day:%d/%m/%Y} {clock}"


@pytest.fixture
def lucas(db, world) -> Child:
    """Lucas, with two carers at the first school: María (Spanish) and Jorge."""
    child = db.exec(select(Child).where(Child.name == "Lucas García")).one()
    jorge = make_guardian(db, world.school, SECOND_CARER, name="Jorge García", language="es", child=None)
    db.add(GuardianChild(guardian_id=jorge.id, child_id=child.id))
    db.commit()
    return child


def second_carer(db) -> Guardian:
    """Jorge, Lucas's second carer."""
    db.expire_all()
    return db.exec(select(Guardian).where(Guardian.phone == SECOND_CARER)).one()


def schedule(client, child_id: int, typed: str, kind: str = "sen_support", location: str = "Room 4"):
    """POST the schedule form."""
    return client.post("/reviews", data={"child": str(child_id), "starts_at": typed, "kind": kind,
                                         "location": location})


def only_review(db) -> Review:
    db.expire_all()
    [review] = db.exec(select(Review)).all()
    return review


def reminders_of(db, review: Review) -> list[Reminder]:
    db.expire_all()
    return list(db.exec(select(Reminder).where(Reminder.review_id == review.id).order_by(Reminder.id)))


def page_text(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return text_of(response.get_data(as_text=True))


def ask(client, review: Review, guardian_id: int):
    return client.post(f"/reviews/{review.id}/ask/{guardian_id}")


# Scheduling

def test_scheduling_with_a_day_first_date_plans_reminders_for_both_carers(staff_client, world, db, lucas):
    response = schedule(staff_client, lucas.id, typed_in(30), kind="ehcp_annual")
    review = only_review(db)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/reviews/{review.id}")
    local = review.starts_at.astimezone(LONDON)
    assert (local.hour, local.minute) == (15, 30) and f"{local:%d/%m/%Y} 15:30" == typed_in(30)
    assert (review.kind, review.location, review.created_by_id) == ("ehcp_annual", "Room 4", world.staff.id)
    reminders = reminders_of(db, review)
    assert {r.guardian_id for r in reminders} == {world.parent.id, second_carer(db).id}
    assert len(reminders) == 6 and {r.status for r in reminders} == {"planned"}
    listing = page_text(staff_client, "/reviews")
    shown = format_uk_datetime(review.starts_at, "Europe/London")
    assert re.fullmatch(r"\w{3} \d{1,2} \w{3} \d{4}, 15:30", shown)
    coming_up = listing[listing.index("Coming up"):listing.index("Schedule a review")]
    assert f"When Child Review Place {shown} Lucas García EHCP annual review Room 4" in coming_up
    assert ("review.schedule", f"review:{review.id}") in audit_actions(db, world.school)


@pytest.mark.parametrize("typed, says", [
    ("12/25/2026 15:30", "looks month first: in the UK the day comes first, so write 25/12/2026"),
    ("03/12/26 15:30", "write the year in full"),
    ("03/12/2030 3:30", "is 3:30 in the morning or afternoon?"),
    ("01/02/2020 10:00", "has already passed"),
    ("next Tuesday", "is not a date: write it day first"),
])
def test_a_date_that_is_not_day_first_or_is_ambiguous_is_refused(staff_client, world, db, lucas, typed, says):
    response = schedule(staff_client, lucas.id, typed)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert says in text_of(html)
    assert f'value="{typed}"' in html  # what was typed stays in the form to correct
    assert db.exec(select(Review)).all() == [] and db.exec(select(Reminder)).all() == []


def test_a_child_of_another_school_cannot_be_scheduled(staff_client, world, db):
    ivan = db.exec(select(Child).where(Child.name == "Ivan")).one()
    response = schedule(staff_client, ivan.id, typed_in(30))
    assert response.status_code == 400 and "Choose the child the review is for." in response.get_data(as_text=True)
    assert db.exec(select(Review)).all() == []
    assert "Ivan" not in staff_client.get("/reviews").get_data(as_text=True)


def test_another_schools_review_is_not_found(staff_client, world, db):
    ivan = db.exec(select(Child).where(Child.name == "Ivan")).one()
    theirs = Review(school_id=world.other_school.id, child_id=ivan.id, starts_at=utcnow() + timedelta(days=20))
    db.add(theirs)
    db.commit()
    for method, path in [("get", ""), ("get", "/contribution/print"), ("post", "/move"), ("post", "/cancel"),
                         ("post", f"/ask/{world.other_parent.id}")]:
        response = getattr(staff_client, method)(f"/reviews/{theirs.id}{path}",
                                                 data={"starts_at": typed_in(40), "confirm": "yes"})
        assert response.status_code == 404, path
        assert "Ivan" not in response.get_data(as_text=True)
    db.refresh(theirs)
    assert theirs.status == "scheduled" and db.exec(select(FlowRun)).all() == []
    assert "Ivan" not in staff_client.get("/reviews").get_data(as_text=True)


@pytest.mark.parametrize("method, path", [
    ("get", "/reviews"), ("post", "/reviews"), ("get", "/reviews/1"), ("post", "/reviews/1/move"),
    ("post", "/reviews/1/cancel"), ("post", "/reviews/1/ask/1"), ("get", "/reviews/1/contribution/print"),
    ("post", "/conversations/1/take-over"), ("post", "/conversations/1/hand-back"),
])
def test_review_pages_require_login(client, world, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


# Moving and cancelling

def test_moving_asks_for_confirmation_then_replans_and_tells_families_already_reached(staff_client, world, db, lucas):
    schedule(staff_client, lucas.id, typed_in(30))
    review = only_review(db)
    old_ids = {r.id for r in reminders_of(db, review)}
    first = next(r for r in reminders_of(db, review)
                 if r.guardian_id == world.parent.id and r.kind == "contribution_request")
    first.status = "sent"  # María already had the request for her views
    db.commit()
    url = f"/reviews/{review.id}/move"
    asked = staff_client.post(url, data={"starts_at": typed_in(45, "10:00")})
    page = text_of(asked.get_data(as_text=True))
    assert asked.status_code == 200 and "Move Lucas García's review?" in page
    assert "already heard about the review and will get a message with the new time" in page
    assert "María García" in page and "Jorge García" not in page
    assert only_review(db).starts_at == review.starts_at  # nothing moves before the confirmation

    assert staff_client.post(url, data={"starts_at": typed_in(45, "10:00"), "confirm": "yes"}).status_code == 302
    moved = only_review(db)
    assert f"{moved.starts_at.astimezone(LONDON):%d/%m/%Y %H:%M}" == typed_in(45, "10:00")
    reminders = reminders_of(db, moved)
    old = [r for r in reminders if r.id in old_ids and r.id != first.id]
    assert len(old) == 5 and {(r.status, r.status_note) for r in old} == {("cancelled", "The review moved.")}
    new = [r for r in reminders if r.id not in old_ids]
    assert len(new) == 6
    assert [r.status for r in new if r.kind == "reminder"] == ["planned"] * 4
    # María was asked for her views already: the new plan does not ask her again.
    [again] = [r for r in new if r.guardian_id == world.parent.id and r.kind == "contribution_request"]
    assert again.status == "skipped" and "already been asked" in again.status_note
    run_jobs(staff_client.application)
    [told] = messages_of(db, world.parent, "outbound")
    assert told.template_key == "review.moved" and told.status == "delivered"
    assert messages_of(db, second_carer(db), "outbound") == []
    page = page_text(staff_client, f"/reviews/{moved.id}")
    assert "Cancelled (the review moved)" in page and format_uk_datetime(moved.starts_at, "Europe/London") in page


def test_a_bad_new_date_is_refused_and_nothing_moves(staff_client, world, db, lucas):
    schedule(staff_client, lucas.id, typed_in(30))
    review = only_review(db)
    response = staff_client.post(f"/reviews/{review.id}/move", data={"starts_at": "12/31/2030 10:00", "confirm": "yes"})
    assert response.status_code == 400 and "looks month first" in response.get_data(as_text=True)
    assert only_review(db).starts_at == review.starts_at
    assert {r.status for r in reminders_of(db, review)} == {"planned"}


def test_cancelling_asks_for_confirmation_then_cancels_everything(staff_client, world, db, lucas):
    schedule(staff_client, lucas.id, typed_in(30))
    review = only_review(db)
    url = f"/reviews/{review.id}/cancel"
    first = text_of(staff_client.post(url).get_data(as_text=True))
    assert "Cancel Lucas García's review on" in first and "nobody needs to be told" in first
    assert only_review(db).status == "scheduled"
    assert staff_client.post(url, data={"confirm": "yes"}).status_code == 302
    assert only_review(db).status == "cancelled"
    assert {(r.status, r.status_note) for r in reminders_of(db, review)} == {
        ("cancelled", "The review was cancelled.")}
    listing = page_text(staff_client, "/reviews")
    assert "No reviews are scheduled" in listing
    assert "Lucas García SEN support review Room 4 Cancelled" in listing[listing.index("Past and cancelled"):]
    page = staff_client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert "Ask for their views now" not in page and "Move review" not in page
    assert ("review.cancel", f"review:{review.id}") in audit_actions(db, world.school)


# Who has been reached

def test_the_review_page_shows_reminders_delivery_failover_replies_and_opt_outs(staff_client, world, db, lucas):
    schedule(staff_client, lucas.id, typed_in(30))
    review = only_review(db)
    jorge = second_carer(db)
    maria_request = next(r for r in reminders_of(db, review)
                         if r.guardian_id == world.parent.id and r.kind == "contribution_request")
    failed = add_message(db, world.parent, "From Riverside: Lucas's review...", direction="outbound", kind="system",
                         channel="whatsapp", status="failed", error_code=63003, language="es")
    add_message(db, world.parent, "From Riverside: Lucas's review...", direction="outbound", kind="system",
                channel="sms", status="delivered", failover_of_id=failed.id, language="es")
    maria_request = db.get(Reminder, maria_request.id)
    maria_request.status, maria_request.message_id = "sent", failed.id
    run = FlowRun(school_id=world.school.id, guardian_id=world.parent.id, review_id=review.id,
                  flow_id="review_reminder", language="es", status="completed")
    db.add(run)
    db.flush()
    db.add(FlowAnswer(flow_run_id=run.id, review_id=review.id, guardian_id=world.parent.id, step_id="attend",
                      value="another_time"))
    jorge.opted_out, jorge.opted_out_at = True, utcnow()
    db.add(jorge)
    db.commit()
    html = staff_client.get(f"/reviews/{review.id}").get_data(as_text=True)
    page = text_of(html)
    maria = page[page.index("María García"):page.index("Jorge García")]
    assert "Replied to the reminder: Needs another time" in maria
    assert "Request for your views" in maria and "Reminder" in maria and "Planned" in maria
    assert "WhatsApp failed → sent by SMS: Delivered" in maria
    jorge_part = page[page.index("Jorge García"):page.index("The family's views")]
    assert "Opted out" in jorge_part and "nothing about this review is sent to them" in jorge_part
    assert html.count("Ask for their views now") == 1  # María only: Jorge has opted out
    assert ("view_review", f"review:{review.id}") in audit_actions(db, world.school)
    forged = ask(staff_client, review, jorge.id)
    assert forged.status_code == 409 and "has opted out" in forged.get_data(as_text=True)
    assert db.exec(select(FlowRun).where(FlowRun.guardian_id == jorge.id)).all() == []


# Asking for views, and what the parent said

def test_ask_for_their_views_starts_the_questions_and_the_worker_delivers_them(staff_client, world, db, lucas):
    schedule(staff_client, lucas.id, typed_in(30))
    review = only_review(db)
    response = ask(staff_client, review, world.parent.id)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/reviews/{review.id}#contribution")
    db.expire_all()
    [run] = db.exec(select(FlowRun)).all()
    assert (run.flow_id, run.status, run.review_id, run.started_by_id) == ("pre_review", "active", review.id,
                                                                           world.staff.id)
    run_jobs(staff_client.application)
    sent = messages_of(db, world.parent, "outbound")
    assert [m.template_key for m in sent] == ["pre_review.intro", "pre_review.how_to", "pre_review.home.ask"]
    assert {m.status for m in sent} == {"delivered"} and all(m.language == "es" for m in sent)
    [request] = [r for r in reminders_of(db, review) if r.guardian_id == world.parent.id
                 and r.kind == "contribution_request"]
    assert (request.status, request.message_id) == ("sent", sent[0].id)  # the sweep will not ask again
    page = page_text(staff_client, f"/reviews/{review.id}")
    assert "Answering the questions for this review now (question 1 of 11)" in page
    assert "María García In progress" in page and "0 of 11 answered" in page
    assert ("ask_for_views", f"flow_run:{run.id}") in audit_actions(db, world.school)


def test_asking_a_parent_in_the_middle_of_other_questions_says_so_and_sends_nothing(staff_client, world, db, lucas):
    schedule(staff_client, lucas.id, typed_in(30))
    schedule(staff_client, lucas.id, typed_in(60))
    db.expire_all()
    first, second = db.exec(select(Review).order_by(Review.starts_at)).all()
    assert ask(staff_client, first, world.parent.id).status_code == 302
    response = ask(staff_client, second, world.parent.id)
    assert response.status_code == 409
    assert ("María García is in the middle of other questions (views before the review, question 1 of 11), "
            "so nothing was sent.") in text_of(response.get_data(as_text=True))
    db.expire_all()
    assert [run.review_id for run in db.exec(select(FlowRun)).all()] == [first.id]


def test_the_contribution_shows_the_original_beside_the_english_question_by_question(staff_client, world, db, lucas):
    app = staff_client.application
    schedule(staff_client, lucas.id, typed_in(30))
    review = only_review(db)
    ask(staff_client, review, world.parent.id)
    run_jobs(app)
    for answer in (HOME_ANSWER, "saltar", "skip", "skip", "skip", "skip", "1", "2"):
        parent_texts(app, answer)
    run_jobs(app)
    home = next(m for m in messages_of(db, world.parent, "inbound") if m.body == HOME_ANSWER)
    assert home.kind == "flow_answer" and home.language == "es" and home.translation_status == "done"
    html = staff_client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert f'<p class="text" dir="auto" lang="es">{HOME_ANSWER}</p>' in html
    assert f'<p class="text" dir="auto" lang="en">{home.translation}</p>' in html
    page = text_of(html)
    assert f"At home Original · Spanish {HOME_ANSWER} Machine translation (apertium) {home.translation}" in page
    assert "Going well Skipped" in page
    assert "Coming to the meeting Yes" in page and "How you will join By phone" in page
    assert "Interpreter No answer yet" in page and "3 of 11 answered" in page
    thread = text_of(staff_client.get(thread_url(db, world.parent)).get_data(as_text=True))
    assert thread.count("Answer to a question") == 8
    assert "Answering questions: views before the review (question 9 of 11)" in thread


def test_skipped_withdrawn_not_understood_and_unasked_questions_are_said_in_words(staff_client, world, db, lucas):
    schedule(staff_client, lucas.id, typed_in(30))
    review = only_review(db)
    run = FlowRun(school_id=world.school.id, guardian_id=world.parent.id, review_id=review.id, flow_id="pre_review",
                  language="es", status="completed", finished_at=utcnow())
    db.add(run)
    db.commit()
    skip = add_message(db, world.parent, "saltar", kind="flow_answer", language="es")
    muddle = add_message(db, world.parent, "no sé, quizás", kind="flow_answer", language="es",
                         translation="I do not know, maybe", translation_status="done", translation_engine="apertium")
    one = add_message(db, world.parent, "1", kind="flow_answer")
    rows = [("home", None, "skipped", skip.id), ("attending", "no sé, quizás", "not_understood", muddle.id),
            ("attend_how", "in_person", "answered", one.id), ("attend_how", None, "skipped", None),
            ("interpreter", "no", "answered", one.id)]
    for step_id, value, status, message_id in rows:
        db.add(FlowAnswer(flow_run_id=run.id, review_id=review.id, guardian_id=world.parent.id, step_id=step_id,
                          value=value, status=status, message_id=message_id))
    db.commit()
    html = staff_client.get(f"/reviews/{review.id}").get_data(as_text=True)
    page = re.sub(r" \)", ")", text_of(html))  # text_of leaves a space where </span> closed before ")"
    assert "María García Completed" in page and "1 of 11 answered" in page
    assert "At home Skipped" in page and "Going well Not asked" in page
    assert ("Coming to the meeting Not understood (their words: no sé, quizás) "
            "· machine translation (apertium): I do not know, maybe") in page
    assert '<span class="their-words" dir="auto" lang="es">no sé, quizás</span>' in html
    assert "How you will join No longer applies (an earlier answer changed)" in page
    assert "Interpreter No Interpreter language Not asked" in page


def test_a_pending_translation_and_a_missing_one_are_said_plainly(staff_client, world, db, lucas):
    schedule(staff_client, lucas.id, typed_in(30))
    review = only_review(db)
    ask(staff_client, review, world.parent.id)
    parent_texts(staff_client.application, HOME_ANSWER)  # no worker yet: not translated
    page = page_text(staff_client, f"/reviews/{review.id}")
    assert f"At home Original · Spanish {HOME_ANSWER} Translation pending…" in page
    home = next(m for m in messages_of(db, world.parent, "inbound"))
    home.translation_status, home.translation_gap = "unavailable", "no_engine"
    home.translation_note = "argos has no es->en pack installed; apertium has no spa-eng pair"
    db.add(home)
    db.commit()
    for url in (f"/reviews/{review.id}", f"/reviews/{review.id}/contribution/print"):
        page = page_text(staff_client, url)
        assert "No machine translation: no Spanish translator on this server" in page
        assert page.count("No Spanish translator is installed on this server") == 1  # said once, at the top
        assert "argos has no" not in page  # the technical reason is not printed


def test_the_print_page_has_the_contribution_and_no_navigation(staff_client, world, db, lucas):
    schedule(staff_client, lucas.id, typed_in(30))
    review = only_review(db)
    ask(staff_client, review, world.parent.id)
    parent_texts(staff_client.application, HOME_ANSWER)
    run_jobs(staff_client.application)
    review_page = staff_client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert f'href="/reviews/{review.id}/contribution/print"' in review_page and 'class="topbar"' in review_page
    response = staff_client.get(f"/reviews/{review.id}/contribution/print")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'class="topbar"' not in html and "Sign out" not in html and 'class="topnav"' not in html
    assert "The family's views: Lucas García" in text_of(html) and HOME_ANSWER in html
    assert "Confidential" in html and "Printed" in html
    assert ("print_contribution", f"review:{review.id}") in audit_actions(db, world.school)


# The thread: taking over a flow, quiet hours, urgent replies

def test_take_over_and_hand_back_change_the_flow_run(staff_client, world, db, lucas):
    app = staff_client.application
    schedule(staff_client, lucas.id, typed_in(30))
    ask(staff_client, only_review(db), world.parent.id)
    run_jobs(app)
    url = thread_url(db, world.parent)
    page = page_text(staff_client, url)
    assert "Answering questions: views before the review (question 1 of 11) Take over" in page
    assert "Sending a reply pauses the questions" in page
    assert staff_client.post(url + "/take-over").status_code == 302
    db.expire_all()
    [run] = db.exec(select(FlowRun)).all()
    assert run.status == "paused"
    page = page_text(staff_client, url)
    assert "paused: you have taken over Hand back to the questions" in page
    assert "Sending a reply pauses the questions" not in page
    before = len(messages_of(db, world.parent, "outbound"))
    assert staff_client.post(url + "/hand-back").status_code == 302
    db.refresh(run)
    assert run.status == "active"
    run_jobs(app)
    again = messages_of(db, world.parent, "outbound")[before:]
    assert [m.template_key for m in again] == ["pre_review.home.ask"] and again[0].status == "delivered"
    actions = audit_actions(db, world.school)
    assert ("take_over_flow", f"flow_run:{run.id}") in actions and ("hand_back_flow", f"flow_run:{run.id}") in actions
    assert staff_client.post(url + "/hand-back").status_code == 302  # nothing paused now: nothing sent
    assert len(messages_of(db, world.parent, "outbound")) == before + 1


def test_a_staff_reply_pauses_the_flow(staff_client, world, db, lucas):
    schedule(staff_client, lucas.id, typed_in(30))
    ask(staff_client, only_review(db), world.parent.id)
    staff_client.post(thread_url(db, world.parent) + "/send",
                      data=previewed_form(staff_client, thread_url(db, world.parent), "We will call you today."))
    db.expire_all()
    assert db.exec(select(FlowRun)).one().status == "paused"


def test_the_urgent_box_stores_an_urgent_reply(staff_client, world, db):
    url = thread_url(db, world.parent)
    assert "Urgent — send now, even in quiet hours" in staff_client.get(url).get_data(as_text=True)
    staff_client.post(url + "/send", data=previewed_form(staff_client, url, "Please call the office."))
    staff_client.post(url + "/send", data={**previewed_form(staff_client, url, "School is closed today."), "urgent": "yes"})
    replies = messages_of(db, world.parent, "outbound")
    assert [(m.body, m.urgent) for m in replies] == [("Please call the office.", False),
                                                     ("School is closed today.", True)]
    preview = staff_client.post(url + "/preview", data={"body": "Hello", "urgent": "yes"}).get_data(as_text=True)
    assert re.search(r'name="urgent" value="yes"\s+checked', preview)  # ticked stays ticked after preview


def test_a_message_held_for_quiet_hours_says_until_when(staff_client, world, db):
    until = utcnow() + timedelta(hours=3)
    add_message(db, world.parent, "See you tomorrow.", direction="outbound", kind="staff_reply", status="outbox",
                language="es", translation="Hasta mañana.", not_before=until, staff_author_id=world.staff.id)
    add_message(db, world.parent, "Earlier.", direction="outbound", kind="staff_reply", status="outbox",
                language="es", translation="Antes.", not_before=utcnow() - timedelta(minutes=5))
    page = page_text(staff_client, thread_url(db, world.parent))
    assert f"Waiting until {until.astimezone(LONDON):%H:%M} (quiet hours)" in page
    assert page.count("(quiet hours)") == 1
    assert "Waiting to send" in page  # the one whose hold has passed is simply waiting
