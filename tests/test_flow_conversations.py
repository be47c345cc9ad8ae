"""Question flows end to end: the golden scenarios through the signed webhook, a real RQ worker
and the database (PostgreSQL), plus what only a real database can show (row locks)."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import yaml
from sqlmodel import select

from bot import flow_runs
from bot.outbound import enqueue_delivery, queue_staff_reply
from storage.db import session_scope
from storage.models import Conversation, FlowAnswer, FlowRun, Guardian, Message, School, utcnow
from tests.conftest import post_signed, run_jobs
from tests.factories import make_guardian, make_school
from tests.test_flow_scenarios import DEFAULT_VALUES, SCENARIOS, _keys_match

SCHOOL_NUMBER, PARENT = "+447700900800", "+447700900801"
# Keypad digits belong to voice calls, which have no webhook yet.
WEBHOOK_SCENARIOS = [path for path in SCENARIOS if "digits:" not in path.read_text(encoding="utf-8")]


def _send(app, body: str, sender: str = PARENT):
    params = {"MessageSid": "SM" + uuid.uuid4().hex, "From": sender, "To": SCHOOL_NUMBER, "Body": body}
    assert post_signed(app, "/twilio/messages", params).status_code == 200
    return params["MessageSid"]


class Conversation_:
    """Plays a scenario's parent, staff and clock against the real product."""

    def __init__(self, app, db, language: str, values: dict):
        self.app, self.db, self.values = app, db, values
        self.school = make_school(db, name=values["school"], phone=SCHOOL_NUMBER)
        self.guardian = make_guardian(db, self.school, PARENT, language=language)
        db.commit()

    def start(self, flow_id: str):
        with self.app.app_context():
            with session_scope() as session:
                _, ids = flow_runs.start_flow(session, session.get(Guardian, self.guardian.id),
                                              session.get(School, self.school.id), flow_id, self.values)
            for message_id in ids:
                enqueue_delivery(message_id)

    def time_passes(self):
        config = self.app.config
        with self.app.app_context():
            with session_scope() as session:
                run = flow_runs.live_run(session, self.guardian.id)
                hours = config["FLOW_EXPIRY_HOURS"] if run.chaser_sent_at else config["FLOW_CHASER_HOURS"]
                run.last_activity_at = utcnow() - timedelta(hours=hours + 1)
            from bot.jobs import sweep_pending

            sweep_pending()

    def staff(self, spec: dict):
        with self.app.app_context():
            with session_scope() as session:
                guardian = session.get(Guardian, self.guardian.id)
                school = session.get(School, self.school.id)
                if spec.get("takeover"):
                    flow_runs.pause_for_staff(session, guardian.id)
                    ids = []
                elif spec.get("resume"):
                    ids = flow_runs.resume_flow(session, guardian, school)
                else:
                    conversation = session.exec(select(Conversation).where(
                        Conversation.guardian_id == guardian.id)).one()
                    ids = [queue_staff_reply(session, guardian, conversation, school, None, spec["staff_reply"]).id]
            for message_id in ids:
                enqueue_delivery(message_id)

    def last_id(self, model) -> int:
        self.db.expire_all()
        return max([row.id for row in self.db.exec(select(model)).all()] or [0])


@pytest.mark.parametrize("path", WEBHOOK_SCENARIOS, ids=[path.stem for path in WEBHOOK_SCENARIOS])
def test_scenario_through_the_webhook_and_the_worker(app, db, path):
    scenario = yaml.safe_load(path.read_text(encoding="utf-8"))
    talk = Conversation_(app, db, scenario["language"], {**DEFAULT_VALUES, **scenario.get("values", {})})
    for number, spec in enumerate(scenario["steps"], start=1):
        where = f"{path.name} step {number}"
        messages_before, answers_before = talk.last_id(Message), talk.last_id(FlowAnswer)
        sid = None
        if spec.get("event") == "start":
            talk.start(scenario["flow"])
        elif spec.get("event") == "timeout":
            talk.time_passes()
        elif "send" in spec:
            sid = _send(app, str(spec["send"]))
        else:
            talk.staff(spec)
        run_jobs(app)
        db.expire_all()
        new = db.exec(select(Message).where(Message.id > messages_before).order_by(Message.id)).all()
        sent = [m for m in new if m.direction == "outbound" and m.kind == "system"]
        keys = [m.template_key for m in sent]
        assert _keys_match(spec.get("expect", []), keys), f"{where}: sent {keys}, expected {spec.get('expect')}"
        assert all(m.status == "delivered" and m.translation for m in sent), f"{where}: not all delivered"
        learned = db.exec(select(FlowAnswer).where(FlowAnswer.id > answers_before)).all()
        expected = {step: (want if isinstance(want, dict) else {"value": want, "status": "answered"})
                    for step, want in spec.get("answers", {}).items()}
        assert {a.step_id for a in learned} == set(expected), f"{where}: answers"
        for answer in learned:
            want = dict(expected[answer.step_id])
            source = want.pop("source", None)
            assert {k: getattr(answer, k) for k in want} == want, f"{where}: {answer.step_id}"
            assert source is None or (source == "flow") == (answer.message_id is None), f"{where}: source"
        if sid and not (spec.get("stop") or spec.get("help")):
            inbound = db.exec(select(Message).where(Message.provider_sid == sid)).one()
            assert (inbound.kind == "text") is bool(spec.get("inbox", False)), f"{where}: inbox routing"
        run = db.exec(select(FlowRun).order_by(FlowRun.id.desc())).first()
        assert run.status == spec.get("status", "active"), f"{where}: status {run.status}"


def test_answers_keep_the_parents_words_and_get_an_english_translation(app, db):
    talk = Conversation_(app, db, "es", dict(DEFAULT_VALUES))
    talk.start("pre_review")
    run_jobs(app)
    _send(app, "Está contento en casa, pero duerme mal.")
    run_jobs(app)
    db.expire_all()
    [answer] = db.exec(select(FlowAnswer)).all()
    message = db.get(Message, answer.message_id)
    assert answer.step_id == "home" and message.body == "Está contento en casa, pero duerme mal."
    assert message.kind == "flow_answer" and message.translation_status == "done"
    assert "happy" in message.translation.lower()


def test_two_answers_arriving_together_answer_two_questions_not_one(app, db):
    talk = Conversation_(app, db, "en", dict(DEFAULT_VALUES))
    talk.start("pre_review")
    run_jobs(app)
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda text: _send(app, text), ["Fine at home, tired after school", "Reading is going well"]))
    db.expire_all()
    steps = sorted(a.step_id for a in db.exec(select(FlowAnswer)).all())
    assert steps == ["going_well", "home"]  # the guardian's row lock put them in order
    run = db.exec(select(FlowRun)).one()
    assert run.state["current"] == "hard"


def test_starting_an_unknown_flow_is_refused_and_changes_nothing(app, db):
    talk = Conversation_(app, db, "en", dict(DEFAULT_VALUES))
    with app.app_context(), pytest.raises(KeyError, match="unknown flow 'no_such_flow'"):
        with session_scope() as session:
            flow_runs.start_flow(session, session.get(Guardian, talk.guardian.id),
                                 session.get(School, talk.school.id), "no_such_flow", {})
    assert db.exec(select(FlowRun)).all() == []


def test_a_reminder_does_not_interrupt_a_parent_answering_the_pre_review_questions(app, db):
    talk = Conversation_(app, db, "en", dict(DEFAULT_VALUES))
    talk.start("pre_review")
    with app.app_context():
        with session_scope() as session:
            run, ids = flow_runs.start_flow(session, session.get(Guardian, talk.guardian.id),
                                            session.get(School, talk.school.id), "review_reminder",
                                            {**DEFAULT_VALUES, "place": "Room 4"})
    assert run is None and ids == []
    assert [r.flow_id for r in db.exec(select(FlowRun)).all()] == ["pre_review"]
