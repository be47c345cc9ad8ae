"""The flow engine: (flow, state, event) -> new state, messages to send, answers learned. Pure.

No Flask, SQL, RQ, Twilio or clock here. The host stores `Outcome.state` (FlowRun.state), sends
`Outcome.outputs` in order (template key + values, rendered in the parent's language), stores
`Outcome.answers` (FlowAnswer rows) and routes the parent's message to the staff inbox when
`Outcome.not_an_answer` is set. It decides *when* a Timeout happens; the engine decides what
a timeout means (first a gentle chaser, then expiry).
"""
from __future__ import annotations

import json

from flows.events import (Answer, Event, FlowLoopError, FlowStateError, LearnedAnswer, Outcome, Output, Repeat,
                          Start, Timeout)
from flows.matching import BACK, SKIP, Words, control_word, is_message_to_school, match_number, match_option
from flows.model import CHOICE, END, READBACK, SAY, TEXT, YES_NO_VALUES, Flow, Step
from flows.readback import CONTINUED_KEY, answered_path, render_summary, split_summary, summary_items

MAX_STEPS_PER_TURN = 25
MAX_REASKS = 2  # hints before an answer that is still not understood skips the step
ASK, CONFIRM, WHICH, DONE = "ask", "confirm", "which", "done"  # what the flow waits for
CHASER_KEY, EXPIRED_KEY = "flow.chaser", "flow.expired"
NOT_UNDERSTOOD_KEY, NOT_AN_ANSWER_KEY = "flow.not_understood", "flow.not_an_answer"
WHICH_HINT_KEY = "flow.hint.which"
# Every key the engine sends or reads by itself, and the values it fills in (beyond the flow's).
ENGINE_VALUES: dict[str, set[str]] = {
    CHASER_KEY: set(), EXPIRED_KEY: set(), NOT_UNDERSTOOD_KEY: set(), NOT_AN_ANSWER_KEY: set(),
    "flow.hint.text": set(), "flow.hint.yes_no": set(), "flow.hint.choice": {"count"},
    "flow.hint.scale": set(), WHICH_HINT_KEY: {"count"},
    "flow.readback.line": {"number", "label", "answer"}, CONTINUED_KEY: {"summary"},
    "flow.answer.yes": set(), "flow.answer.no": set(), "flow.answer.skipped": set(),
    "flow.answer.scale": {"value"},
}


def advance(flow: Flow, state: dict | None, event: Event, language: str, words: Words) -> Outcome:
    """Apply one event to a flow's state and say what to send, store and route."""
    if words.language != language:
        raise ValueError(f"answer words are for {words.language!r}, the parent's language is {language!r}")
    turn = _Turn(flow, state, language, words)
    turn.handle(event)
    return Outcome(state=turn.state, outputs=turn.outputs, answers=turn.answers,
                   status=turn.state["status"], not_an_answer=turn.not_an_answer)


def confirmed_answers(flow: Flow, state: dict) -> dict[str, dict]:
    """step id -> {value, status} for the answers on the route the parent took (staff's view)."""
    answers = state.get("answers", {})
    return {step_id: answers[step_id] for step_id in answered_path(flow, answers)}


class _Turn:
    """One call of advance(): a private copy of the state plus what this turn produced."""

    def __init__(self, flow: Flow, state: dict | None, language: str, words: Words):
        self.flow, self.words, self.language = flow, words, language
        self.state = json.loads(json.dumps(state or {}))  # our own copy, and proof it stays JSON
        self.outputs: list[Output] = []
        self.answers: list[LearnedAnswer] = []
        self.not_an_answer = False
        self.steps_taken = 0

    def handle(self, event: Event) -> None:
        if isinstance(event, Start):
            return self.start(event)
        self.check_state()
        self.state["language"] = self.language  # a parent may switch language mid-flow
        if self.state["phase"] == DONE:
            self.not_an_answer = isinstance(event, Answer)  # a finished flow eats nothing
        elif isinstance(event, Timeout):
            self.timeout()
        elif isinstance(event, Repeat):
            self.prompt_again(full=True)
        elif isinstance(event, Answer):
            self.state["chased"] = False  # the parent is here: the next silence earns a new chaser
            answer_for_phase = {ASK: self.answer_question, CONFIRM: self.answer_confirm, WHICH: self.answer_which}
            answer_for_phase[self.state["phase"]](event)
        else:
            raise TypeError(f"unknown flow event {event!r}")

    # -- starting, moving, finishing -------------------------------------------------------

    def start(self, event: Start) -> None:
        missing = sorted(set(self.flow.values) - set(event.values))
        if missing:
            raise ValueError(f"flow {self.flow.id!r} needs values for: {', '.join(missing)}")
        self.state = {"flow": self.flow.id, "version": self.flow.version, "language": self.language,
                      "values": dict(event.values), "status": "active", "phase": ASK, "current": None,
                      "history": [], "answers": {}, "tries": 0, "chased": False, "correcting": False,
                      "numbers": []}
        self.enter(self.flow.start)

    def check_state(self) -> None:
        if not self.state:
            raise FlowStateError(f"flow {self.flow.id!r} has not been started: send Start first")
        if self.state.get("flow") != self.flow.id:
            raise FlowStateError(f"this state belongs to flow {self.state.get('flow')!r}, not {self.flow.id!r}")
        current = self.state.get("current")
        if self.state.get("phase") != DONE and current not in self.flow.steps:
            raise FlowStateError(f"flow {self.flow.id!r} has no step {current!r} any more; "
                                 "end this run and start the flow again")

    def enter(self, step_id: str) -> None:
        """Walk from step_id through say steps (and answered ones, when correcting) to a question."""
        while True:
            self.steps_taken += 1
            if self.steps_taken > MAX_STEPS_PER_TURN:
                raise FlowLoopError(
                    f"flow {self.flow.id!r} went through {MAX_STEPS_PER_TURN} steps in one turn without "
                    f"waiting for an answer (reached {step_id!r}): look for a loop in its next/branch links")
            if step_id == END:
                self.state.update(status="completed", phase=DONE, current=None)
                return
            step = self.flow.steps[step_id]
            if step.item and not str(self.state["values"].get(step.item) or "").strip():
                step_id = step.next  # no such item this time (a child with two targets, not six)
                continue
            if step.type == SAY:
                self.send(step.prompt)
                step_id = step.next
                continue
            if step.type == READBACK:
                return self.read_back(step)
            record = self.state["answers"].get(step_id)
            if self.state["correcting"] and record is not None:
                step_id = step.next_after(record["value"], record["status"])
                continue
            return self.ask(step)

    def ask(self, step: Step) -> None:
        history = self.state["history"]
        if step.id in history:
            del history[history.index(step.id) + 1:]
        else:
            history.append(step.id)
        self.state.update(phase=ASK, current=step.id, tries=0)
        self.send(step.prompt)

    def read_back(self, step: Step) -> None:
        path = answered_path(self.flow, self.state["answers"], until=step.id)
        self.withdraw_off_path(path)
        self.state["history"] = list(path)
        items = summary_items(self.flow, path, self.state["answers"])
        if not items:
            return self.enter(step.next)  # nothing to confirm
        self.state.update(phase=CONFIRM, current=step.id, tries=0, numbers=[item["step"] for item in items])
        self.send_summary(step)
        self.send(step.confirm)

    def withdraw_off_path(self, path: list[str]) -> None:
        # A correction can change a branch ("not coming after all"): answers on the old route
        # no longer apply, and the host is told so it can mark them.
        for step_id in list(self.state["answers"]):
            if self.flow.steps[step_id].type != READBACK and step_id not in path:
                del self.state["answers"][step_id]
                self.answers.append(LearnedAnswer(step_id, None, "skipped", "flow"))

    # -- answers ---------------------------------------------------------------------------

    def answer_question(self, event: Answer) -> None:
        step = self.flow.steps[self.state["current"]]
        control = None if event.digits else control_word(event.text, self.words)
        if control == BACK:
            return self.back()
        if control == SKIP:
            self.record(step.id, None, "skipped", event)
            return self.enter(step.next)
        if step.type == TEXT:
            if is_message_to_school(event.text, free_text_step=True):
                return self.to_school()
            value = (event.text or "").strip() or (event.digits or "").strip() or None
        else:
            value = match_option(event.text, event.digits, step.options, self.words)
            if value is None and not event.digits and is_message_to_school(event.text,
                                                                           free_text_step=step.own_words):
                return self.to_school()
            if value is None and step.own_words and not event.digits and _has_words(event.text):
                value = event.text.strip()  # their own words: kept as written, the host sees no option id
        if value is not None:
            self.record(step.id, value, "answered", event)
            return self.enter(step.next_after(value))
        self.not_understood(step.hint_key, {"count": len(step.options)} if step.type == CHOICE else {},
                            lambda: self.give_up(step, event))

    def give_up(self, step: Step, event: Answer) -> None:
        self.record(step.id, (event.text or event.digits or "").strip() or None, "not_understood", event)
        self.send(NOT_UNDERSTOOD_KEY)
        self.enter(step.next)

    def answer_confirm(self, event: Answer) -> None:
        step = self.flow.steps[self.state["current"]]
        control = None if event.digits else control_word(event.text, self.words)
        if control == BACK:
            return self.back()
        if control == SKIP:
            self.record(step.id, None, "skipped", event)
            return self.finish_read_back(step)
        value = match_option(event.text, event.digits, YES_NO_VALUES, self.words)
        if value == "yes":
            self.record(step.id, "yes", "answered", event)
            return self.finish_read_back(step)
        if value == "no":
            self.state.update(phase=WHICH, tries=0)
            return self.send(step.change, count=len(self.state["numbers"]))
        if not event.digits and is_message_to_school(event.text, free_text_step=False):
            return self.to_school()
        self.not_understood(step.hint_key, {}, lambda: self.give_up_confirm(step, event))

    def give_up_confirm(self, step: Step, event: Answer) -> None:
        self.record(step.id, (event.text or event.digits or "").strip() or None, "not_understood", event)
        self.send(NOT_UNDERSTOOD_KEY)
        self.finish_read_back(step)

    def finish_read_back(self, step: Step) -> None:
        self.state["correcting"] = False
        self.enter(step.next)

    def answer_which(self, event: Answer) -> None:
        step = self.flow.steps[self.state["current"]]
        numbers = self.state["numbers"]
        if not event.digits and control_word(event.text, self.words):
            return self.back_to_confirm(step)  # skip or back: keep the answers as they are
        number = match_number(event.text, event.digits, len(numbers))
        if number is not None:
            self.state["correcting"] = True
            return self.ask(self.flow.steps[numbers[number - 1]])
        if not event.digits and is_message_to_school(event.text, free_text_step=False):
            return self.to_school()
        self.not_understood(WHICH_HINT_KEY, {"count": len(numbers)}, lambda: self.back_to_confirm(step))

    def back_to_confirm(self, step: Step) -> None:
        self.state.update(phase=CONFIRM, tries=0)
        self.send(step.confirm)

    def back(self) -> None:
        history, phase = self.state["history"], self.state["phase"]
        if phase == WHICH:
            return self.back_to_confirm(self.flow.steps[self.state["current"]])
        if phase == CONFIRM:
            self.state["correcting"] = False
            return self.ask(self.flow.steps[history[-1]])
        if len(history) >= 2:
            return self.ask(self.flow.steps[history[-2]])
        self.prompt_again(full=False)  # already at the first question

    def record(self, step_id: str, value: str | None, status: str, event: Answer) -> None:
        self.state["answers"][step_id] = {"value": value, "status": status}
        source = "keypad" if event.digits else "text"
        self.answers.append(LearnedAnswer(step_id, value, status, source, raw=event.digits or event.text))

    def not_understood(self, hint_key: str, hint_values: dict, give_up) -> None:
        self.state["tries"] += 1
        if self.state["tries"] <= MAX_REASKS:
            self.send(hint_key, **hint_values)
        else:
            give_up()

    def to_school(self) -> None:
        self.not_an_answer = True
        self.send(NOT_AN_ANSWER_KEY)
        self.prompt_again(full=False)

    # -- timeouts and re-asking --------------------------------------------------------------

    def timeout(self) -> None:
        if self.state["chased"]:
            self.state.update(status="expired", phase=DONE, current=None)
            return self.send(EXPIRED_KEY)
        self.state["chased"] = True
        self.send(CHASER_KEY)
        self.prompt_again(full=True)

    def prompt_again(self, full: bool) -> None:
        step = self.flow.steps[self.state["current"]]
        phase = self.state["phase"]
        if phase == ASK:
            self.send(step.prompt)
        elif phase == CONFIRM:
            if full:
                self.send_summary(step)
            self.send(step.confirm)
        elif phase == WHICH:
            self.send(step.change, count=len(self.state["numbers"]))

    def send_summary(self, step: Step) -> None:
        path = [step_id for step_id in self.state["history"] if step_id in self.state["answers"]]
        items = summary_items(self.flow, path, self.state["answers"])
        values = self.state["values"]
        for part in split_summary(items, self.words, values, step.max_chars):
            # `readback` is the same part as data, so the host can write the staff copy in the staff language.
            self.send(step.prompt if part["part"] == 1 else CONTINUED_KEY,
                      summary=render_summary(part, self.words, values), readback=part)

    def send(self, key: str, **values) -> None:
        step = self.flow.steps.get(self.state.get("current") or "")
        if step is not None and step.item:
            values = {"item": self.state["values"].get(step.item, ""), **values}
        self.outputs.append(Output(key, {**self.state["values"], **values}))


def _has_words(text: str | None) -> bool:
    """Whether a reply has letters in it (words), not just a number out of range or punctuation."""
    return any(character.isalpha() for character in text or "")
