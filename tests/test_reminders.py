"""Review reminders and delivery policy with the clock under test control (time-machine):
planning, moving, cancelling, quiet hours, WhatsApp templates and failover, exactly-once."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

import pytest
import time_machine
from sqlmodel import select

from bot.sweep import run_sweep
from bot.conversation.takeover import queue_staff_reply
from bot.reviews.schedule import cancel_review, move_review, schedule_review
from storage.db import session_scope
from storage.models import Child, Conversation, FlowAnswer, FlowRun, Guardian, Message, Reminder, Review, School
from tests.support.services import post_signed, run_jobs
from tests.support.factories import make_guardian, make_school

SCHOOL_NUMBER = "+447700900900"
POLISH, URDU = "+447700900901", "+447700900902"
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)            # Monday, GMT
REVIEW_AT = datetime(2026, 11, 25, 14, 0, tzinfo=timezone.utc)    # Wednesday 14:00 London
REQUEST_DUE = datetime(2026, 11, 11, 10, 0, tzinfo=timezone.utc)  # 14 days before, 10:00
WEEK_DUE = datetime(2026, 11, 18, 10, 0, tzinfo=timezone.utc)     # 7 days before, 10:00
DAY_DUE = datetime(2026, 11, 24, 16, 0, tzinfo=timezone.utc)      # 1 day before, 16:00


def at(moment: datetime):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def family(db):
    """A child whose two carers write in Polish and Urdu; the school keeps 20:00–08:00 quiet."""
    school = make_school(db, name="Riverside Primary", phone=SCHOOL_NUMBER, quiet_start_hour=20, quiet_end_hour=8)
    anna = make_guardian(db, school, POLISH, name="Anna", language="pl", child=None)
    ayesha = make_guardian(db, school, URDU, name="Ayesha", language="ur", child=None)
    child = Child(school_id=school.id, name="Zofia Khan-Kowalska")
    db.add(child)
    db.flush()
    from storage.models import GuardianChild

    db.add_all([GuardianChild(guardian_id=anna.id, child_id=child.id),
                GuardianChild(guardian_id=ayesha.id, child_id=child.id)])
    db.commit()
    return school, child, anna, ayesha


def schedule(app, school, child, starts_at=REVIEW_AT) -> int:
    with app.app_context(), session_scope() as session:
        review = schedule_review(session, session.get(School, school.id), session.get(Child, child.id),
                                 starts_at, "ehcp_annual", "Room 4", None)
    return review.id


def sweep(app) -> dict:
    with app.app_context():
        counts = run_sweep()
    run_jobs(app)
    return counts


def reminders(db, review_id):
    db.expire_all()
    return db.exec(select(Reminder).where(Reminder.review_id == review_id).order_by(Reminder.id)).all()


def outbound(db):
    db.expire_all()
    return db.exec(select(Message).where(Message.direction == "outbound").order_by(Message.id)).all()


def test_a_review_plans_three_reminders_for_each_carer_at_local_hours(app, db, family):
    school, child, anna, ayesha = family
    with at(NOW):
        review_id = schedule(app, school, child)
    rows = reminders(db, review_id)
    assert {(r.guardian_id, r.kind, r.due_at, r.status) for r in rows} == {
        (g.id, kind, due, "planned") for g in (anna, ayesha)
        for kind, due in [("contribution_request", REQUEST_DUE), ("reminder", WEEK_DUE), ("reminder", DAY_DUE)]}


def test_due_request_starts_the_questions_in_each_carers_language_once(app, db, family):
    school, child, anna, ayesha = family
    with at(NOW):
        review_id = schedule(app, school, child)
    with at(REQUEST_DUE.replace(minute=1)):
        assert sweep(app)["due_reminders"] == 2
        sent_first = outbound(db)
        assert sweep(app)["due_reminders"] == 0  # a second sweep sends nothing more
    assert outbound(db) == sent_first
    runs = db.exec(select(FlowRun)).all()
    assert sorted((r.guardian_id, r.flow_id, r.review_id, r.language) for r in runs) == sorted(
        [(anna.id, "pre_review", review_id, "pl"), (ayesha.id, "pre_review", review_id, "ur")])
    intro = {m.guardian_id: m for m in sent_first if m.template_key == "pre_review.intro"}
    assert intro[anna.id].translation_engine == "human" and "Zofia" in intro[anna.id].translation
    assert "listopada" in intro[anna.id].translation  # the parent reads the date in Polish ...
    assert "Wednesday 25 November, 14:00" in intro[anna.id].body  # ... staff read it in English
    assert intro[ayesha.id].translation_engine == "human" and intro[ayesha.id].language == "ur"
    assert all(m.status == "delivered" for m in sent_first)
    assert {r.status for r in reminders(db, review_id) if r.kind == "contribution_request"} == {"sent"}


def test_moving_a_review_replans_and_the_old_reminder_never_goes(app, db, family):
    school, child, anna, ayesha = family
    with at(NOW):
        review_id = schedule(app, school, child)
    with at(REQUEST_DUE.replace(minute=1)):
        sweep(app)
    moved_to = datetime(2026, 12, 9, 14, 0, tzinfo=timezone.utc)
    with at(datetime(2026, 11, 12, 9, 0, tzinfo=timezone.utc)):
        with app.app_context():
            with session_scope() as session:
                move_review(session, session.get(Review, review_id), moved_to, None)
        run_jobs(app)
    told = [m for m in outbound(db) if m.template_key == "review.moved"]
    assert sorted(m.guardian_id for m in told) == [anna.id, ayesha.id]
    rows = reminders(db, review_id)
    assert {r.status for r in rows if r.due_at == WEEK_DUE} == {"cancelled"}
    new_week = {r.due_at for r in rows if r.status == "planned" and r.kind == "reminder"}
    assert datetime(2026, 12, 2, 10, 0, tzinfo=timezone.utc) in new_week
    with at(WEEK_DUE.replace(minute=5)):
        sweep(app)
    reminded = [m for m in outbound(db) if (m.template_key or "").startswith("review.reminder")]
    assert reminded == []  # the old week-before reminder did not go


def test_cancelling_a_review_cancels_its_reminders_and_questions(app, db, family):
    school, child, *_ = family
    with at(NOW):
        review_id = schedule(app, school, child)
    with at(REQUEST_DUE.replace(minute=1)):
        sweep(app)
        with app.app_context():
            with session_scope() as session:
                cancel_review(session, session.get(Review, review_id), None)
        run_jobs(app)
    assert {r.status for r in reminders(db, review_id) if r.kind == "reminder"} == {"cancelled"}
    assert {r.status for r in db.exec(select(FlowRun)).all()} == {"cancelled"}
    assert len([m for m in outbound(db) if m.template_key == "review.cancelled"]) == 2


def test_a_reminder_to_a_carer_who_opted_out_is_skipped(app, db, family):
    school, child, anna, ayesha = family
    with at(NOW):
        review_id = schedule(app, school, child)
    db.get(Guardian, anna.id).opted_out = True
    db.commit()
    with at(REQUEST_DUE.replace(minute=1)):
        sweep(app)
    request = {r.guardian_id: r for r in reminders(db, review_id) if r.kind == "contribution_request"}
    assert request[anna.id].status == "skipped" and "opted out" in request[anna.id].status_note
    assert request[ayesha.id].status == "sent"
    assert {m.guardian_id for m in outbound(db)} == {ayesha.id}


def test_a_reminder_long_overdue_is_skipped_not_sent_late(app, db, family):
    school, child, *_ = family
    with at(NOW):
        review_id = schedule(app, school, child)
    with at(datetime(2026, 11, 19, 13, 0, tzinfo=timezone.utc)):  # the worker was down for a day
        sweep(app)
    week = [r for r in reminders(db, review_id) if r.due_at == WEEK_DUE]
    assert {r.status for r in week} == {"skipped"} and all(r.status_note for r in week)


def test_quiet_hours_hold_a_staff_reply_until_morning_and_urgent_goes_now(app, db, family):
    school, _, anna, _ = family
    evening = datetime(2026, 11, 10, 21, 0, tzinfo=timezone.utc)  # 21:00 in London
    with at(evening):
        with app.app_context():
            with session_scope() as session:
                conversation = session.exec(select(Conversation).where(Conversation.guardian_id == anna.id)).one()
                normal = queue_staff_reply(session, session.get(Guardian, anna.id), conversation,
                                           session.get(School, school.id), None, "See you soon.")
                urgent = queue_staff_reply(session, session.get(Guardian, anna.id), conversation,
                                           session.get(School, school.id), None, "School is closed tomorrow.",
                                           urgent=True)
        run_jobs(app)
    db.expire_all()
    held = db.get(Message, normal.id)
    assert held.status == "outbox" and held.not_before == datetime(2026, 11, 11, 8, 0, tzinfo=timezone.utc)
    assert db.get(Message, urgent.id).status == "delivered"
    with at(datetime(2026, 11, 11, 7, 59, tzinfo=timezone.utc)):
        sweep(app)
    db.expire_all()
    assert db.get(Message, normal.id).status == "outbox"  # still quiet at 07:59
    with at(datetime(2026, 11, 11, 8, 1, tzinfo=timezone.utc)):
        sweep(app)
    db.expire_all()
    assert db.get(Message, normal.id).status == "delivered"


REMINDERS_ONLY = [{"kind": "reminder", "days_before": 7, "hour": 10}]


def test_one_tap_reply_to_a_reminder_is_understood(app, db, family):
    school, child, anna, _ = family
    db.get(School, school.id).reminder_plan = REMINDERS_ONLY
    db.commit()
    with at(NOW):
        review_id = schedule(app, school, child)
    with at(WEEK_DUE.replace(minute=1)):
        sweep(app)
        params = {"MessageSid": "SM" + uuid.uuid4().hex, "From": POLISH, "To": SCHOOL_NUMBER, "Body": "2"}
        post_signed(app, "/twilio/messages", params)
        run_jobs(app)
    answers = db.exec(select(FlowAnswer).where(FlowAnswer.review_id == review_id,
                                               FlowAnswer.guardian_id == anna.id)).all()
    assert [(a.step_id, a.value) for a in answers] == [("attend", "another_time")]
    assert outbound(db)[-1].template_key == "review.reply.another_time"


def test_redis_flushed_twice_loses_no_reminder_and_sends_none_twice(app, db, family):
    from bot.jobs import send_reminder_batch

    school, child, *_ = family
    with at(NOW):
        review_id = schedule(app, school, child)
    with at(REQUEST_DUE.replace(minute=1)):
        with app.app_context():
            assert run_sweep()["due_reminders"] == 2
        app.extensions["redis"].flushdb()  # Redis restarted: the reminder batch job is gone
    assert outbound(db) == [] and {r.status for r in reminders(db, review_id)} == {"planned"}
    with at(REQUEST_DUE.replace(minute=2)), app.app_context():
        due = run_sweep()["due_reminders"]
        app.extensions["redis"].flushdb()
        send_reminder_batch([r.id for r in reminders(db, review_id) if r.status == "planned"])
        app.extensions["redis"].flushdb()  # ...and again, after the messages were queued for delivery
    assert due == 2 and {m.status for m in outbound(db)} == {"outbox"}
    with at(REQUEST_DUE.replace(minute=6)):
        sweep(app)
    messages = outbound(db)
    assert messages and {m.status for m in messages} == {"delivered"}
    assert len(messages) == len({(m.guardian_id, m.template_key) for m in messages})  # nothing twice


TEMPLATE_SID = "HX" + "b" * 32


@pytest.fixture
def whatsapp_app(make_app, prism):
    from tests.support.services import ACCOUNT_SID, reset_state

    built = make_app(CHANNEL="twilio", TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_API_BASE_URL=prism.url,
                     WHATSAPP_TEMPLATES=json.dumps({"review.reminder": {"pl": TEMPLATE_SID}}))
    reset_state(built)
    prism.requests.clear()
    return built


def test_whatsapp_outside_the_window_uses_the_template_and_fails_over_to_sms(whatsapp_app, db, prism):
    app = whatsapp_app
    school = make_school(db, phone=SCHOOL_NUMBER, reminder_plan=REMINDERS_ONLY)
    anna = make_guardian(db, school, POLISH, language="pl", channel="whatsapp", child="Zofia Kowalska")
    db.commit()
    with at(NOW):
        review_id = schedule(app, school, db.exec(select(Child)).one())
    with at(WEEK_DUE.replace(minute=1)):
        sweep(app)
    [template_request] = prism.requests
    assert template_request.status == 201
    assert template_request.form["ContentSid"] == [TEMPLATE_SID] and "Body" not in template_request.form
    assert template_request.form["To"] == [f"whatsapp:{POLISH}"]
    variables = json.loads(template_request.form["ContentVariables"][0])
    assert variables["2"] == "Zofia" and set(variables) == {"1", "2", "3", "4"}
    [reminder_message] = [m for m in outbound(db) if m.template_key == "review.reminder"]
    assert reminder_message.channel == "whatsapp" and reminder_message.content_sid == TEMPLATE_SID

    # WhatsApp reports it could not deliver (63016): the same reminder goes by SMS.
    response = post_signed(app, f"/twilio/status?m={reminder_message.id}",
                           {"MessageSid": reminder_message.provider_sid, "MessageStatus": "failed",
                            "ErrorCode": "63016"})
    assert response.status_code == 200
    run_jobs(app)
    sms_request = prism.requests[-1]
    assert sms_request.form["To"] == [POLISH] and sms_request.status == 201
    [copy] = [m for m in outbound(db) if m.failover_of_id == reminder_message.id]
    assert copy.channel == "sms" and sms_request.form["Body"] == [copy.translation]
    assert [r.status for r in reminders(db, review_id)] == ["sent"]


def test_after_a_move_only_the_carer_already_asked_is_not_asked_again(app, db, family):
    from bot.reviews.schedule import request_views_now

    school, child, anna, ayesha = family
    with at(NOW):
        review_id = schedule(app, school, child)
        with app.app_context(), session_scope() as session:
            run, _ = request_views_now(session, session.get(Review, review_id), session.get(School, school.id),
                                       session.get(Guardian, anna.id), None)
            old_date = run.state["values"]["date"]
        with app.app_context(), session_scope() as session:
            move_review(session, session.get(Review, review_id), datetime(2026, 12, 9, 14, 0, tzinfo=timezone.utc),
                        None)
    planned_requests = {r.guardian_id for r in reminders(db, review_id)
                        if r.kind == "contribution_request" and r.status == "planned"}
    assert planned_requests == {ayesha.id}
    db.expire_all()
    [live] = db.exec(select(FlowRun).where(FlowRun.guardian_id == anna.id)).all()
    assert live.state["values"]["date"] != old_date and "9" in live.state["values"]["date"]


def test_a_reminder_batch_run_twice_sends_each_reminder_once(app, db, family):
    from bot.jobs import send_reminder_batch

    school, child, *_ = family
    with at(NOW):
        review_id = schedule(app, school, child)
    due = [r.id for r in reminders(db, review_id) if r.kind == "contribution_request"]
    with at(REQUEST_DUE.replace(minute=1)), app.app_context():
        first = send_reminder_batch(due)
        again = send_reminder_batch(due)  # the sweep and a retry both enqueued it
    assert first > 0 and again == 0
    intros = [m for m in outbound(db) if m.template_key == "pre_review.intro"]
    assert len(intros) == 2
