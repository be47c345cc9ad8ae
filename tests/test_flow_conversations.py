"""Question flows end to end: the golden scenarios through the signed webhook, the real host code,
a real RQ worker and the database (PostgreSQL), plus what only a real database can show (row locks)."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import select

from bot.conversation import flow_runs
from bot.conversation.turn import process_guardian
from storage.db import session_scope
from storage.models import FlowAnswer, FlowRun, Guardian, Message, School
from tests.support.scenarios import DEFAULT_VALUES, SCENARIOS, ScenarioPlayer, load_scenario, uses_keypad
from tests.support.services import run_jobs

# Keypad digits belong to voice calls, which have no webhook yet.
WEBHOOK_SCENARIOS = [path for path in SCENARIOS if not uses_keypad(load_scenario(path))]


@pytest.mark.parametrize("path", WEBHOOK_SCENARIOS, ids=[path.stem for path in WEBHOOK_SCENARIOS])
def test_scenario_through_the_webhook_and_the_worker(app, db, path):
    scenario = load_scenario(path)
    language = scenario.get("guardian_language", scenario["language"])
    ScenarioPlayer(app, db, language, {**DEFAULT_VALUES, **scenario.get("values", {})}).play(path)


def test_answers_keep_the_parents_words_and_get_an_english_translation(app, db):
    talk = ScenarioPlayer(app, db, "es", dict(DEFAULT_VALUES))
    talk.start("pre_review")
    run_jobs(app)
    talk.send("Está contento en casa, pero duerme mal.")
    run_jobs(app)
    db.expire_all()
    [answer] = db.exec(select(FlowAnswer)).all()
    message = db.get(Message, answer.message_id)
    assert answer.step_id == "home" and message.body == "Está contento en casa, pero duerme mal."
    assert message.kind == "flow_answer" and message.translation_status == "done"
    assert "happy" in message.translation.lower()


def test_two_answers_arriving_together_answer_two_questions_not_one(app, db):
    talk = ScenarioPlayer(app, db, "en", dict(DEFAULT_VALUES))
    talk.start("pre_review")
    run_jobs(app)
    talk.send("Fine at home, tired after school")
    talk.send("Reading is going well")

    def step(_):  # the per-guardian step, run twice at once (two workers, or a worker and a call)
        with app.app_context():
            return process_guardian(talk.guardian.id)

    with ThreadPoolExecutor(2) as pool:
        processed = sorted(pool.map(step, range(2)))
    assert processed == [0, 2]  # one took both, in order; the other waited for the lock and found none
    db.expire_all()
    steps = sorted(a.step_id for a in db.exec(select(FlowAnswer)).all())
    assert steps == ["going_well", "home"]  # the guardian's row lock put them in order
    run = db.exec(select(FlowRun)).one()
    assert run.state["current"] == "hard"


def test_starting_an_unknown_flow_is_refused_and_changes_nothing(app, db):
    talk = ScenarioPlayer(app, db, "en", dict(DEFAULT_VALUES))
    with app.app_context(), pytest.raises(KeyError, match="unknown flow 'no_such_flow'"):
        with session_scope() as session:
            flow_runs.start_flow(session, session.get(Guardian, talk.guardian.id),
                                 session.get(School, talk.school.id), "no_such_flow", {})
    assert db.exec(select(FlowRun)).all() == []


def test_a_reminder_does_not_interrupt_a_parent_answering_the_pre_review_questions(app, db):
    talk = ScenarioPlayer(app, db, "en", dict(DEFAULT_VALUES))
    talk.start("pre_review")
    with app.app_context():
        with session_scope() as session:
            run, ids = flow_runs.start_flow(session, session.get(Guardian, talk.guardian.id),
                                            session.get(School, talk.school.id), "review_reminder",
                                            {**DEFAULT_VALUES, "place": "Room 4"})
    assert run is None and ids == []
    assert [r.flow_id for r in db.exec(select(FlowRun)).all()] == ["pre_review"]
