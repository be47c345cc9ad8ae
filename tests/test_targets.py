"""Targets shared with families, and check-ins between reviews, through the real product: staff
pages, the signed webhook, the sweep and a real RQ worker on PostgreSQL and Redis."""
from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import select

from bot.conversation.checkin_answers import HARDER_TWICE
from bot.reviews.schedule import schedule_review
from bot.sweep import run_sweep
from bot.targets.rhythm import next_checkin_at
from storage.db import session_scope
from storage.models import (AuditEvent, CheckIn, CheckInAnswer, CheckInRhythm, ConversationFlag, Message, School,
                            SchoolHoliday, Target, TargetRevision, TargetShare, utcnow)
from tests.support.inbox import (  # noqa: F401  (fixtures)
    client, conversation_of, login, staff_client, text_of, world,
)
from tests.support.services import post_signed, run_jobs
from tests.support.targets import MOTHER, TARGETS, add_targets, approval_for, make_family, previewed_text

SCHOOL_NUMBER = "+447700900700"


def parent_says(app, sender: str, body: str) -> None:
    """A carer texts the school through the signed webhook; the worker acts on it."""
    params = {"MessageSid": f"SM{abs(hash((sender, body, utcnow()))):032x}"[:34], "From": sender,
              "To": SCHOOL_NUMBER, "Body": body}
    assert post_signed(app, "/twilio/messages", params).status_code == 200
    run_jobs(app)


def outbound_keys(db, guardian_id: int) -> list[str]:
    db.expire_all()
    return [m.template_key for m in db.exec(select(Message).where(
        Message.guardian_id == guardian_id, Message.direction == "outbound").order_by(Message.id)).all()]


def share_with_both(app, db, staff_client, family) -> str:
    page = staff_client.get(f"/children/{family.child.id}/share").get_data(as_text=True)
    for carer in (family.mother, family.father):
        code = approval_for(page, family.child.id, carer.id)
        assert staff_client.post(f"/children/{family.child.id}/share/{carer.id}",
                                 data={"approved": code}).status_code == 302
    run_jobs(app)
    return page


def test_a_sendco_shares_three_targets_and_three_weeks_later_hears_back_in_polish(app, db, world, staff_client):
    family = make_family(db, world.school)
    add_targets(staff_client, family.child.id)
    page = staff_client.get(f"/children/{family.child.id}/share").get_data(as_text=True)

    # Each carer's preview: the catalogue's framing in their language, the targets translated
    # (Spanish, by machine, labelled and checked back) or plainly left in English (no Polish engine here).
    anna, pablo = previewed_text(page, family.mother.id), previewed_text(page, family.father.id)
    assert anna.startswith("Wiadomość od szkoły Riverside Test Primary: oto obecne cele")
    assert "1. Kuba will ask an adult for help using his now/next card" in anna
    assert "Jak możesz pomóc w domu: Use the now/next card at home too" in anna
    assert "(Nie udało się przetłumaczyć tej wiadomości na Twój język.)" in anna
    assert pablo.startswith("De Riverside Test Primary: estos son los objetivos actuales de Kuba")
    assert pablo.split("\n")[1] == "[Traducción automática]"  # labelled once, before the targets
    assert pablo.split("\n")[2].startswith("1. Kuba ")  # the child's name kept as written in the translation
    assert "Back from Spanish" in page and "3. " in pablo

    # A stale approval is refused and sends nothing; the approved one sends exactly what was shown.
    refused = staff_client.post(f"/children/{family.child.id}/share/{family.mother.id}", data={"approved": "0" * 32})
    assert refused.status_code == 409 and db.exec(select(TargetShare)).all() == []
    for carer, shown in ((family.mother, anna), (family.father, pablo)):
        code = approval_for(page, family.child.id, carer.id)
        assert staff_client.post(f"/children/{family.child.id}/share/{carer.id}",
                                 data={"approved": code}).status_code == 302
        db.expire_all()
        sent = db.exec(select(Message).where(Message.guardian_id == carer.id, Message.direction == "outbound")).one()
        assert sent.translation == shown and sent.staff_author_id == world.staff.id
    run_jobs(app)
    db.expire_all()
    assert {m.status for m in db.exec(select(Message).where(Message.direction == "outbound")).all()} == {"delivered"}
    shares = db.exec(select(TargetShare).where(TargetShare.guardian_id == family.mother.id)).all()
    assert [s.number for s in shares] == [1, 2, 3] and shares[0].language == "pl"

    # The sweep plans a check-in for each carer three weeks on, on a school day at 16:00...
    with app.app_context():
        run_sweep()
    db.expire_all()
    planned = db.exec(select(CheckIn).where(CheckIn.guardian_id == family.mother.id)).one()
    expected = next_checkin_at(shares[0].created_at, 3, 16, [], "Europe/London", utcnow())
    assert planned.status == "planned" and planned.due_at == expected
    assert planned.due_at - shares[0].created_at >= timedelta(days=20)

    # ... and three weeks later (the clock reaches it) the mother is asked about each target, in Polish.
    db.execute(update(CheckIn).values(due_at=utcnow() - timedelta(minutes=1)))
    db.commit()
    with app.app_context():
        run_sweep()
    run_jobs(app)
    assert outbound_keys(db, family.mother.id)[-2:] == ["checkin.intro", "checkin.target.ask"]
    question = db.exec(select(Message).where(Message.guardian_id == family.mother.id)
                       .order_by(Message.id.desc())).first()
    assert question.translation.startswith("Jak idzie w domu z tym celem: Kuba will ask an adult for help")
    asked_pablo = db.exec(select(Message).where(Message.guardian_id == family.father.id)
                          .order_by(Message.id.desc())).first()
    assert asked_pablo.translation.startswith("¿Cómo va en casa este objetivo: [Traducción automática] Kuba ")
    parent_says(app, MOTHER, "Lepiej, sam pokazuje kartę")
    parent_says(app, MOTHER, "3")
    parent_says(app, MOTHER, "Zakłada sam, ale zamek jeszcze sprawia kłopot")
    parent_says(app, MOTHER, "Nie")
    assert outbound_keys(db, family.mother.id)[-1] == "checkin.thanks"

    answers = db.exec(select(CheckInAnswer).where(CheckInAnswer.guardian_id == family.mother.id)
                      .order_by(CheckInAnswer.id)).all()
    targets = db.exec(select(Target).order_by(Target.id)).all()
    assert [(a.target_id, a.trend) for a in answers] == [(targets[0].id, 1), (targets[1].id, 3),
                                                          (targets[2].id, None), (None, None)]
    words = db.get(Message, answers[2].message_id)
    assert words.body == "Zakłada sam, ale zamek jeszcze sprawia kłopot" and words.kind == "flow_answer"
    assert db.exec(select(ConversationFlag)).all() == []  # "Nie" to "anything else?" needs no reply

    # The child's page shows her view of each target; the next review's printed pack too.
    child_page = staff_client.get(f"/children/{family.child.id}").get_data(as_text=True)
    assert child_page.count("<circle") == 2 and "Harder" in text_of(child_page)
    assert "Lepiej, sam pokazuje kartę" in child_page and "Zakłada sam, ale zamek" in child_page
    with app.app_context(), session_scope() as session:
        review = schedule_review(session, session.get(School, world.school.id), family.child,
                                 utcnow() + timedelta(days=30), "sen_support", None, world.staff.id)
        review_id = review.id
    pack = text_of(staff_client.get(f"/reviews/{review_id}/contribution/print").get_data(as_text=True))
    assert "What the family told us since the last review" in pack
    assert "Zakłada sam, ale zamek jeszcze sprawia kłopot" in pack and "Better" in pack and "Harder" in pack
    review_page = text_of(staff_client.get(f"/reviews/{review_id}").get_data(as_text=True))
    assert "Lepiej, sam pokazuje kartę" in review_page


def test_harder_twice_in_a_row_asks_staff_for_a_reply_until_they_reply(app, db, world, staff_client):
    family = make_family(db, world.school)
    add_targets(staff_client, family.child.id, TARGETS[:1])
    share_with_both(app, db, staff_client, family)
    for _ in range(2):
        with app.app_context():
            run_sweep()
        db.execute(update(CheckIn).where(CheckIn.guardian_id == family.mother.id, CheckIn.status == "planned")
                   .values(due_at=utcnow() - timedelta(minutes=1)))
        db.execute(update(CheckIn).where(CheckIn.guardian_id == family.father.id).values(status="cancelled"))
        db.commit()
        with app.app_context():
            run_sweep()
        run_jobs(app)
        parent_says(app, MOTHER, "Trudniej")
        parent_says(app, MOTHER, "POMIŃ")
    db.expire_all()
    [flag] = db.exec(select(ConversationFlag)).all()
    assert flag.reason == HARDER_TWICE and flag.cleared_at is None
    inbox = staff_client.get("/").get_data(as_text=True)
    assert "Needs a reply" in inbox
    conversation = conversation_of(db, family.mother)
    assert "Needs a reply:" in staff_client.get(f"/conversations/{conversation.id}").get_data(as_text=True)
    preview = staff_client.post(f"/conversations/{conversation.id}/preview", data={"body": "Shall we talk?"})
    html = preview.get_data(as_text=True)
    form = {name: re.search(rf'name="{name}" value="([^"]*)"', html)[1] for name in ("approved", "send_key")}
    staff_client.post(f"/conversations/{conversation.id}/send",
                      data={"body": "Shall we talk?", "previewed": "Shall we talk?", **form})
    db.expire_all()
    assert db.exec(select(ConversationFlag)).one().cleared_at is not None
    assert "Needs a reply" not in staff_client.get("/").get_data(as_text=True)


def test_a_question_in_the_middle_of_a_check_in_goes_to_staff_as_needing_a_reply(app, db, world, staff_client):
    family = make_family(db, world.school)
    add_targets(staff_client, family.child.id, TARGETS[:2])
    share_with_both(app, db, staff_client, family)
    with app.app_context():
        run_sweep()
    db.execute(update(CheckIn).values(due_at=utcnow() - timedelta(minutes=1)))
    db.commit()
    with app.app_context():
        run_sweep()
    run_jobs(app)
    parent_says(app, MOTHER, "Czy mogę przyjść porozmawiać z nauczycielką?")
    db.expire_all()
    [flag] = db.exec(select(ConversationFlag)).all()
    asked = db.get(Message, flag.message_id)
    assert asked.kind == "text" and "nauczycielką" in asked.body  # an ordinary inbox message, not an answer
    assert outbound_keys(db, family.mother.id)[-2:] == ["flow.not_an_answer", "checkin.target.ask"]
    assert db.exec(select(CheckInAnswer)).all() == []
    thread = text_of(staff_client.get(f"/conversations/{asked.conversation_id}").get_data(as_text=True))
    assert "check-in about targets (question 1 of 3)" in thread  # two targets, then "anything else?"
    parent_says(app, MOTHER, "On pyta siostrę zamiast nas")  # her own words: an answer
    thread = text_of(staff_client.get(f"/conversations/{asked.conversation_id}").get_data(as_text=True))
    assert "check-in about targets (question 2 of 3)" in thread
    assert thread.count("On pyta siostrę zamiast nas") == 1  # shown once, as her message


def test_editing_a_target_keeps_its_history_and_audits_every_change(app, db, world, staff_client):
    family = make_family(db, world.school)
    add_targets(staff_client, family.child.id, TARGETS[:1])
    target = db.exec(select(Target)).one()
    response = staff_client.post(f"/children/{family.child.id}/targets/{target.id}", data={
        "text": "Kuba will ask for help with his now/next card without a prompt", "help_at_home": "",
        "starts_on": "02/11/2026", "status": "active", "school_notes": "Uses it in maths most days"})
    assert response.status_code == 302
    staff_client.post(f"/children/{family.child.id}/targets/{target.id}", data={
        "text": "Kuba will ask for help with his now/next card without a prompt", "help_at_home": "",
        "starts_on": "02/11/2026", "status": "achieved", "school_notes": "Uses it in maths most days"})
    db.expire_all()
    history = db.exec(select(TargetRevision).order_by(TargetRevision.revision)).all()
    assert [(r.revision, r.status) for r in history] == [(1, "active"), (2, "active"), (3, "achieved")]
    assert history[0].text == TARGETS[0][0]
    actions = [e.action for e in db.exec(select(AuditEvent).where(AuditEvent.target == f"target:{target.id}"))]
    assert actions == ["target.add", "target.edit", "target.edit"]
    page = text_of(staff_client.get(f"/children/{family.child.id}").get_data(as_text=True))
    assert "History (3 versions)" in page and "Uses it in maths most days" in page


def test_bad_target_input_is_refused_plainly_and_changes_nothing(app, db, world, staff_client):
    family = make_family(db, world.school)
    for data, words in (({"text": "", "starts_on": "02/11/2026"}, "Write the target"),
                        ({"text": "Kuba will read", "starts_on": "11/31/2026"}, "not a date"),
                        ({"text": "x" * 400, "starts_on": "02/11/2026"}, "keep it under 300"),
                        ({"text": "Kuba will read", "starts_on": "02/11/2026", "status": "done"}, "Choose the target's status")):
        response = staff_client.post(f"/children/{family.child.id}/targets", data=data)
        assert response.status_code == 400 and words in text_of(response.get_data(as_text=True))
    assert db.exec(select(Target)).all() == []


def test_another_schools_child_and_targets_are_not_found(app, db, world, client):
    family = make_family(db, world.school)
    login(client, world.staff.email)
    add_targets(client, family.child.id, TARGETS[:1])
    target = db.exec(select(Target)).one()
    client.post("/logout")
    assert login(client, world.other_staff.email).status_code == 302
    for method, url in (("get", f"/children/{family.child.id}"), ("get", f"/children/{family.child.id}/share"),
                        ("post", f"/children/{family.child.id}/targets"),
                        ("post", f"/children/{family.child.id}/targets/{target.id}"),
                        ("post", f"/children/{family.child.id}/share/{family.mother.id}"),
                        ("post", f"/children/{family.child.id}/checkins")):
        assert getattr(client, method)(url, data={"text": "x", "starts_on": "01/01/2027"}).status_code == 404, url
    db.expire_all()
    assert db.get(Target, target.id).text == TARGETS[0][0]


def test_the_child_list_shows_the_partnership_measures(app, db, world, staff_client):
    family = make_family(db, world.school)
    add_targets(staff_client, family.child.id, TARGETS[:2])
    page = text_of(staff_client.get("/children").get_data(as_text=True))
    assert "Active targets with no family view yet 2" in page
    assert "Families with a two-way exchange in the last 6 weeks 0 of 3" in page
    share_with_both(app, db, staff_client, family)
    with app.app_context():
        run_sweep()
    db.execute(update(CheckIn).values(due_at=utcnow() - timedelta(minutes=1)))
    db.commit()
    with app.app_context():
        run_sweep()
    run_jobs(app)
    parent_says(app, MOTHER, "1")
    page = staff_client.get("/children").get_data(as_text=True)
    text = text_of(page)
    assert "Families with a two-way exchange in the last 6 weeks 1 of 3" in text
    assert "Active targets with no family view yet 1" in text
    assert "Polish SMS 1 1 100%" in text and "Spanish SMS 1 0 0%" in text


def test_the_school_sets_its_rhythm_and_holidays_and_check_ins_are_planned_again(app, db, world, staff_client):
    family = make_family(db, world.school)
    add_targets(staff_client, family.child.id, TARGETS[:1])
    share_with_both(app, db, staff_client, family)
    with app.app_context():
        run_sweep()
    db.expire_all()
    before = {c.guardian_id: c.due_at for c in db.exec(select(CheckIn)).all()}
    assert staff_client.post("/checkins/settings", data={"every_weeks": "1", "hour": "10", "enabled": "yes"}
                             ).status_code == 302
    db.expire_all()
    after = {c.guardian_id: c.due_at for c in db.exec(select(CheckIn).where(CheckIn.status == "planned")).all()}
    assert set(after) == set(before) and all(after[g] < before[g] for g in after)
    assert all(c.status_note == "The school's check-in rhythm changed."
               for c in db.exec(select(CheckIn).where(CheckIn.status == "cancelled")).all())
    first_due = min(after.values()).astimezone(ZoneInfo("Europe/London")).date()
    response = staff_client.post("/checkins/holidays", data={
        "name": "Christmas holidays", "first_day": first_due.strftime("%d/%m/%Y"),
        "last_day": (first_due + timedelta(days=3)).strftime("%d/%m/%Y")})
    assert response.status_code == 302
    db.expire_all()
    moved = [c.due_at.astimezone(ZoneInfo("Europe/London")).date()
             for c in db.exec(select(CheckIn).where(CheckIn.status == "planned")).all()]
    assert moved and all(day > first_due + timedelta(days=3) for day in moved)
    assert "Christmas holidays" in text_of(staff_client.get("/checkins/settings").get_data(as_text=True))


def test_bad_settings_are_refused_plainly_and_change_nothing(app, db, world, staff_client):
    for data, words in (({"every_weeks": "0", "hour": "16"}, "Choose every 1 to 12 weeks"),
                        ({"every_weeks": "3", "hour": "25"}, "whole hour"),
                        ({"every_weeks": "abc", "hour": "16"}, "Choose every 1 to 12 weeks")):
        response = staff_client.post("/checkins/settings", data=data)
        assert response.status_code == 400 and words in text_of(response.get_data(as_text=True))
    for data, words in (({"name": "Half term", "first_day": "30/02/2027", "last_day": "01/03/2027"}, "not a date"),
                        ({"name": "Half term", "first_day": "19/02/2027", "last_day": "15/02/2027"}, "on or after"),
                        ({"name": "", "first_day": "15/02/2027", "last_day": "19/02/2027"}, "Name the holiday")):
        response = staff_client.post("/checkins/holidays", data=data)
        assert response.status_code == 400 and words in text_of(response.get_data(as_text=True))
    assert db.exec(select(CheckInRhythm)).all() == [] and db.exec(select(SchoolHoliday)).all() == []
    other = SchoolHoliday(school_id=world.other_school.id, name="Theirs", first_day=utcnow().date(),
                          last_day=utcnow().date())
    db.add(other)
    db.commit()
    assert staff_client.post(f"/checkins/holidays/{other.id}/delete").status_code == 404
    assert db.get(SchoolHoliday, other.id) is not None


def test_a_reply_naming_a_targets_number_shows_under_that_target(app, db, world, staff_client):
    family = make_family(db, world.school)
    add_targets(staff_client, family.child.id)
    assert text_of(staff_client.get(f"/children/{family.child.id}/share").get_data(as_text=True)).count(
        "Not shared with this carer yet.") == 2
    share_with_both(app, db, staff_client, family)
    assert text_of(staff_client.get(f"/children/{family.child.id}/share").get_data(as_text=True)).count(
        "This carer has every target as it reads now.") == 2
    target = db.exec(select(Target).order_by(Target.id.desc())).first()
    staff_client.post(f"/children/{family.child.id}/targets/{target.id}", data={
        "text": target.text + " and hang it up", "starts_on": "09/11/2026", "status": "active"})
    assert text_of(staff_client.get(f"/children/{family.child.id}/share").get_data(as_text=True)).count(
        "New or changed since this carer was last sent them: target 3.") == 2
    parent_says(app, MOTHER, "2 czytamy codziennie przed snem")
    parent_says(app, MOTHER, "Dziękuję bardzo")  # names no target: stays in the inbox only
    db.expire_all()
    reply = db.exec(select(Message).where(Message.body == "2 czytamy codziennie przed snem")).one()
    assert reply.kind == "text"  # an ordinary inbox message
    html = staff_client.get(f"/children/{family.child.id}").get_data(as_text=True)
    second = html[html.index(f'id="target{db.exec(select(Target).order_by(Target.id)).all()[1].id}"'):]
    second = second[:second.index('class="target ')] if 'class="target ' in second else second
    assert "2 czytamy codziennie przed snem" in second and "replied to the shared targets" in second
    assert "Dziękuję bardzo" not in html
    assert "Active targets with no family view yet 2" in text_of(staff_client.get("/children").get_data(as_text=True))


def test_pausing_a_childs_check_ins_on_their_page_cancels_what_is_planned(app, db, world, staff_client):
    family = make_family(db, world.school)
    add_targets(staff_client, family.child.id, TARGETS[:1])
    share_with_both(app, db, staff_client, family)
    with app.app_context():
        run_sweep()
    db.expire_all()
    assert len(db.exec(select(CheckIn).where(CheckIn.status == "planned")).all()) == 2
    assert staff_client.post(f"/children/{family.child.id}/checkins", data={"paused": "yes"}).status_code == 302
    with app.app_context():
        run_sweep()
    db.expire_all()
    assert db.exec(select(CheckIn).where(CheckIn.status == "planned")).all() == []
    bad = staff_client.post(f"/children/{family.child.id}/checkins", data={"every_weeks": "52"})
    assert bad.status_code == 400 and "every 1 to 12 weeks" in text_of(bad.get_data(as_text=True))
    assert staff_client.post(f"/children/{family.child.id}/checkins", data={"every_weeks": "1"}).status_code == 302
    db.expire_all()
    due = [c.due_at for c in db.exec(select(CheckIn).where(CheckIn.status == "planned")).all()]
    assert len(due) == 2 and all(d - utcnow() <= timedelta(days=10) for d in due)
    assert "child:" in db.exec(select(AuditEvent).where(AuditEvent.action == "child.checkins")).first().target
