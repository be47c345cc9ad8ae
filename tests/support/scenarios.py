"""The golden scenarios (tests/scenarios/*.yaml) and a player that runs them against the real product.

A scenario is a conversation: what the parent sends (or staff or the clock do) and what must
follow. Steps that need the host (STOP/HELP keywords, staff take-over and hand-back) are only
ever played by the real host code (`ScenarioPlayer`); the pure engine runs the rest directly.
The format is described in flows/README.md.
"""
from __future__ import annotations

import re
import uuid
from datetime import timedelta
from pathlib import Path

import yaml
from sqlmodel import select

from bot.conversation import flow_runs
from bot.conversation.takeover import queue_staff_reply
from bot.language.i18n import catalogue_language
from bot.sweep import run_sweep
from storage.db import session_scope
from storage.models import Conversation, FlowAnswer, FlowRun, Guardian, Message, School, utcnow
from tests.support.factories import make_guardian, make_school
from tests.support.services import post_signed, run_jobs

SCENARIO_DIR = Path(__file__).resolve().parents[1] / "scenarios"
SCENARIOS = sorted(SCENARIO_DIR.glob("*.yaml"))
DEFAULT_VALUES = {"child": "Amina", "school": "Oakfield Primary School", "date": "Tuesday, 3 December, 15:30"}
HOST_STEP_KEYS = ("stop", "help", "takeover", "staff_reply", "resume")
SCHOOL_NUMBER, PARENT = "+447700900800", "+447700900801"


def load_scenario(path: Path) -> dict:
    """One scenario file."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def uses_host(scenario: dict) -> bool:
    """Whether a scenario has steps only the host can play (keywords, staff)."""
    return any(key in step for step in scenario["steps"] for key in HOST_STEP_KEYS)


def uses_keypad(scenario: dict) -> bool:
    """Whether a scenario answers with keypad digits (voice calls, which have no webhook yet)."""
    return any("digits" in step for step in scenario["steps"])


def keys_match(expected: list[str], actual: list[str]) -> bool:
    """Template keys sent, against the expected ones; "key*" stands for zero or more of that key."""
    pattern = "".join(f"(?:{re.escape(key[:-1])}\n)*" if key.endswith("*") else f"{re.escape(key)}\n"
                      for key in expected)
    return re.fullmatch(pattern, "".join(f"{key}\n" for key in actual)) is not None


def expected_answers(spec: dict) -> dict[str, dict]:
    """A step's expected answers, each as {"value"/"status"/"source": ...}."""
    return {step: (want if isinstance(want, dict) else {"value": want, "status": "answered"})
            for step, want in spec.get("answers", {}).items()}


class ScenarioPlayer:
    """Plays a scenario's parent, staff and clock against the real product: the signed webhook,
    the real host code, a real RQ worker and the database."""

    def __init__(self, app, db, language: str, values: dict):
        self.app, self.db, self.values = app, db, values
        self.school = make_school(db, name=values["school"], phone=SCHOOL_NUMBER)
        self.guardian = make_guardian(db, self.school, PARENT, language=language)
        db.commit()

    def send(self, body: str) -> str:
        """The parent texts `body` through the signed webhook; its MessageSid."""
        params = {"MessageSid": "SM" + uuid.uuid4().hex, "From": PARENT, "To": SCHOOL_NUMBER, "Body": body}
        assert post_signed(self.app, "/twilio/messages", params).status_code == 200
        return params["MessageSid"]

    def start(self, flow_id: str) -> None:
        """The school starts a flow (as a reminder or the review page does)."""
        with self.app.app_context(), session_scope() as session:
            flow_runs.start_flow(session, session.get(Guardian, self.guardian.id),
                                 session.get(School, self.school.id), flow_id, self.values)

    def time_passes(self) -> None:
        """Long enough for the chaser (or, once chased, the expiry); then the sweep runs."""
        config = self.app.config
        with self.app.app_context():
            with session_scope() as session:
                run = flow_runs.live_run(session, self.guardian.id)
                hours = config["FLOW_EXPIRY_HOURS"] if run.chaser_sent_at else config["FLOW_CHASER_HOURS"]
                run.last_activity_at = utcnow() - timedelta(hours=hours + 1)
            run_sweep()

    def staff(self, spec: dict) -> None:
        """Staff take over, hand back, or reply, as the inbox does."""
        with self.app.app_context(), session_scope() as session:
            guardian = session.get(Guardian, self.guardian.id)
            school = session.get(School, self.school.id)
            if spec.get("takeover"):
                flow_runs.pause_for_staff(session, guardian.id)
            elif spec.get("resume"):
                flow_runs.resume_flow(session, guardian, school)
            else:
                conversation = session.exec(select(Conversation).where(Conversation.guardian_id == guardian.id)).one()
                queue_staff_reply(session, guardian, conversation, school, None, spec["staff_reply"])

    def last_id(self, model) -> int:
        """The newest row id of a table (0 when empty)."""
        self.db.expire_all()
        return max([row.id for row in self.db.exec(select(model)).all()] or [0])

    def play(self, path: Path) -> None:
        """Run every step of a scenario file and check what the product did after each."""
        scenario = load_scenario(path)
        for number, spec in enumerate(scenario["steps"], start=1):
            self._play_step(scenario, spec, f"{path.name} step {number}")

    def _play_step(self, scenario: dict, spec: dict, where: str) -> None:
        messages_before, answers_before = self.last_id(Message), self.last_id(FlowAnswer)
        sid = None
        if spec.get("event") == "start":
            self.start(scenario["flow"])
        elif spec.get("event") == "timeout":
            self.time_passes()
        elif "send" in spec:
            sid = self.send(str(spec["send"]))
        else:
            self.staff(spec)
        run_jobs(self.app)
        db = self.db
        db.expire_all()
        new = db.exec(select(Message).where(Message.id > messages_before).order_by(Message.id)).all()
        sent = [m for m in new if m.direction == "outbound" and m.kind == "system"]
        keys = [m.template_key for m in sent]
        assert keys_match(spec.get("expect", []), keys), f"{where}: sent {keys}, expected {spec.get('expect')}"
        assert all(m.status == "delivered" and m.translation for m in sent), f"{where}: not all delivered"
        learned = db.exec(select(FlowAnswer).where(FlowAnswer.id > answers_before)).all()
        expected = expected_answers(spec)
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
        if "sent_in" in spec:  # the catalogue (language and script) the parent's copies came from
            assert {m.language for m in sent} == {spec["sent_in"]}, f"{where}: sent in {[m.language for m in sent]}"
        if "written_in" in spec:  # how the inbox reads the parent's message
            inbound = db.exec(select(Message).where(Message.provider_sid == sid)).one()
            assert catalogue_language(inbound.language, inbound.script) == spec["written_in"], (
                f"{where}: read as {inbound.language}/{inbound.script} at {inbound.language_confidence}")
            assert inbound.language_confidence >= 0.5, f"{where}: uncertain"
            assert inbound.translation_status == "unavailable" and inbound.translation_gap == "romanised" \
                if spec["written_in"].endswith("-Latn") else True, f"{where}: translated from a wrong language"
