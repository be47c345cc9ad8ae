"""Golden scenarios: every tests/scenarios/*.yaml conversation, run through the flow engine.

Each file is a conversation: what the parent sends (or staff or the clock do) and what must
follow (template keys sent, answers learned, whether the message goes to the staff inbox, the
flow's status). The host's part — STOP/HELP keywords, staff take-over, timeouts — is played
here by `HostSimulation` exactly as the webhook and worker must play it, so the same files can
drive an end-to-end runner. The scenario format is described in flows/README.md.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from bot.i18n import render_template
from bot.keywords import match_keyword
from flows import Answer, Repeat, Start, Timeout, advance, confirmed_answers, load_flows, words_for

SCENARIO_DIR = Path(__file__).parent / "scenarios"
SCENARIOS = sorted(SCENARIO_DIR.glob("*.yaml"))
FLOWS = load_flows()
DEFAULT_VALUES = {"child": "Amina", "school": "Oakfield Primary School", "date": "Tuesday, 3 December, 15:30"}
HOST_KEYWORD_REPLIES = {"stop": "optout.confirm", "help": "help.reply"}

@dataclass
class Turn:
    """What one scenario step produced, in the terms the scenario files use."""

    outputs: list  # engine Outputs, and the host's own replies (optout.confirm, help.reply)
    answers: list
    inbox: bool
    status: str


class HostSimulation:
    """The host's side of a conversation: keywords first, staff take-over, then the engine."""

    def __init__(self, flow_id: str, language: str, values: dict):
        self.flow, self.language, self.values = FLOWS[flow_id], language, values
        self.words = words_for(language)
        self.state: dict | None = None
        self.status = "none"  # none | active | paused | completed | expired | cancelled

    def run(self, spec: dict) -> Turn:
        if "event" in spec:
            return self.clock_or_host(spec["event"])
        if "send" in spec:
            return self.parent_sends(spec)
        if spec.get("takeover") or "staff_reply" in spec:
            self.status = "paused" if self.status == "active" else self.status
            return Turn([], [], False, self.status)
        if spec.get("resume"):
            assert self.status == "paused", "only a paused flow can be resumed"
            self.status = "active"
            return self.engine(Repeat())
        raise AssertionError(f"unknown scenario step {spec}")

    def clock_or_host(self, event: str) -> Turn:
        if event == "start":
            return self.engine(Start(values=self.values))
        assert self.status == "active", f"the host sends {event} only to an active flow"
        return self.engine({"timeout": Timeout(), "repeat": Repeat()}[event])

    def parent_sends(self, spec: dict) -> Turn:
        text, digits = str(spec["send"]), spec.get("digits")
        keyword = None if digits else match_keyword(text)
        action = keyword.action if keyword and keyword.action in HOST_KEYWORD_REPLIES else None
        declared = "stop" if spec.get("stop") else "help" if spec.get("help") else None
        assert action == declared, f"{text!r}: the keyword layer says {action}, the scenario says {declared}"
        reply = _HostReply(HOST_KEYWORD_REPLIES[action], {"school": self.values["school"]}) if action else None
        if action == "stop":
            self.status = "cancelled" if self.status in ("active", "paused") else self.status
            return Turn([reply], [], False, self.status)
        if action == "help":
            follow = self.engine(Repeat()) if self.status == "active" else Turn([], [], True, self.status)
            return Turn([reply, *follow.outputs], [], True, self.status)
        if self.status != "active":
            return Turn([], [], True, self.status)  # paused or finished: an ordinary inbox message
        return self.engine(Answer(text=text, digits=str(digits) if digits is not None else None))

    def engine(self, event) -> Turn:
        outcome = advance(self.flow, self.state, event, self.language, self.words)
        self.state, self.status = outcome.state, outcome.status
        return Turn(outcome.outputs, outcome.answers, outcome.not_an_answer, self.status)


@dataclass(frozen=True)
class _HostReply:
    template_key: str
    values: dict


def _keys_match(expected: list[str], actual: list[str]) -> bool:
    # "key*" stands for zero or more of that key (summary parts vary with the language).
    pattern = "".join(f"(?:{re.escape(key[:-1])}\n)*" if key.endswith("*") else f"{re.escape(key)}\n"
                      for key in expected)
    return re.fullmatch(pattern, "".join(f"{key}\n" for key in actual)) is not None


def _check_answers(expected: dict, learned: list, where: str) -> None:
    got = {answer.step_id: answer for answer in learned}
    assert len(got) == len(learned), f"{where}: a step learned twice in one turn"
    assert set(got) == set(expected), f"{where}: answers {sorted(got)} != expected {sorted(expected)}"
    for step_id, want in expected.items():
        want = want if isinstance(want, dict) else {"value": want, "status": "answered"}
        have = {"value": got[step_id].value, "status": got[step_id].status, "source": got[step_id].source}
        assert {k: have[k] for k in want} == want, f"{where}: answer {step_id!r}"


def _check_rendering(outputs: list, where: str) -> None:
    # Raises for a key English lacks or a placeholder without a value: what the worker would hit.
    for output in outputs:
        assert render_template(output.template_key, "en", **output.values), f"{where}: {output.template_key}"


@pytest.mark.parametrize("path", SCENARIOS, ids=[path.stem for path in SCENARIOS])
def test_scenario(path):
    scenario = yaml.safe_load(path.read_text(encoding="utf-8"))
    host = HostSimulation(scenario["flow"], scenario["language"], {**DEFAULT_VALUES, **scenario.get("values", {})})
    for number, spec in enumerate(scenario["steps"], start=1):
        where = f"{path.name} step {number} ({spec.get('send', spec.get('event', 'staff'))!r})"
        turn = host.run(spec)
        keys = [output.template_key for output in turn.outputs]
        assert _keys_match(spec.get("expect", []), keys), f"{where}: sent {keys}, expected {spec.get('expect', [])}"
        _check_answers(spec.get("answers", {}), turn.answers, where)
        assert turn.inbox is bool(spec.get("inbox", False)), f"{where}: inbox routing"
        assert turn.status == spec.get("status", "active"), f"{where}: status {turn.status}"
        _check_rendering(turn.outputs, where)
        summary = "\n".join(str(output.values.get("summary", "")) for output in turn.outputs)
        for fragment in spec.get("summary_contains", []):
            assert fragment in summary, f"{where}: read-back lacks {fragment!r}:\n{summary}"
    if "final_answers" in scenario:
        final = {step: record["value"] if record["status"] == "answered" else {"status": record["status"]}
                 for step, record in confirmed_answers(host.flow, host.state).items()}
        assert final == scenario["final_answers"]


def test_there_are_scenarios_for_every_flow_and_the_required_cases():
    names = {path.stem for path in SCENARIOS}
    flows_covered = {yaml.safe_load(path.read_text(encoding="utf-8"))["flow"] for path in SCENARIOS}
    assert set(FLOWS) <= flows_covered
    for required in ("en_happy_path", "pl_happy_path", "ur_happy_path", "en_invalid_answers", "en_skip_back",
                     "en_stop_mid_flow", "en_takeover", "en_expiry", "en_not_an_answer", "en_readback_correction"):
        assert required in names
