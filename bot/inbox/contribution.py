"""A parent's contribution before a review, question by question, for staff to read and print.

Each question of the flow, in the flow's order, with the answer that counts: a free-text
answer as the parent wrote it (their message, untouched) beside its English translation, a
choice in English words, or plainly "skipped" / "not understood". Flow words are rendered in
English from the same catalogue keys the parent's messages used.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from sqlmodel import Session, select

from bot.conversation import flow_runs
from bot.language.i18n import render_template
from bot.inbox.queries import recordings_for
from bot.inbox.review_queries import messages_by_id
from flows import Flow, Step
from flows.model import CHOICE, QUESTION_TYPES, SCALE, YES_NO
from storage.models import FlowAnswer, FlowRun, Guardian, Message

RUN_STATUS_WORDS = {
    "active": "in progress", "paused": "paused (staff have taken over)", "completed": "completed",
    "expired": "expired (no answer in time)", "cancelled": "cancelled",
}
FLOW_TITLES = {"pre_review": "views before the review", "review_reminder": "review reminder",
               "checkin": "check-in about targets"}


@dataclass(frozen=True)
class AnswerRow:
    """One question and what the parent said. `state` says which parts the page shows."""

    step_id: str
    label: str
    state: str  # text | choice | skipped | withdrawn | not_understood | waiting | not_asked
    words: str = ""  # a choice in English, or the parent's words when there is no message
    message: Message | None = None  # the parent's own message, original + translation
    recording_id: int | None = None  # an answer recorded on a phone call, played through the app


@dataclass(frozen=True)
class Contribution:
    """One run of the questions with one guardian."""

    run: FlowRun
    guardian: Guardian
    status: str
    rows: list[AnswerRow]

    @property
    def simulated(self) -> bool:
        """True when any answer came from the parent simulator rather than the family's phone."""
        return any(row.message is not None and row.message.simulated for row in self.rows)

    @property
    def answered(self) -> int:
        """How many questions have an answer (text or choice)."""
        return sum(row.state in ("text", "choice") for row in self.rows)


def flow_title(flow_id: str) -> str:
    """A flow's name for staff ('views before the review')."""
    return FLOW_TITLES.get(flow_id, flow_id.replace("_", " "))


def run_status(run: FlowRun) -> str:
    """A run's status in words."""
    return RUN_STATUS_WORDS.get(run.status, run.status)


def question_steps(flow: Flow) -> list[Step]:
    """The steps that ask something and are named for staff, in the flow's order."""
    return [step for step in flow.steps.values() if step.type in QUESTION_TYPES and step.label]


def position(flow: Flow, run: FlowRun) -> str:
    """Where a live run is: 'question 3', or 'checking the answers' at the read-back."""
    state = run.state or {}
    current = state.get("current")
    numbered = _asked_steps(flow, state.get("values", {}))
    if current in numbered:
        return f"question {numbered.index(current) + 1} of {len(numbered)}"
    if state.get("phase") in ("confirm", "which"):
        return "checking their answers"
    return "starting"


def _asked_steps(flow: Flow, values: dict) -> list[str]:
    # A flow with item steps (the check-in) asks every question whose item the host filled in.
    if any(step.item for step in flow.steps.values()):
        return [step.id for step in flow.steps.values()
                if step.type in QUESTION_TYPES and (not step.item or values.get(step.item))]
    return [step.id for step in question_steps(flow)]


def english(key: str, values: dict) -> str:
    """A catalogue text in English (the key itself if the catalogue no longer has it)."""
    try:
        return render_template(key, "en", **values) or key
    except (KeyError, ValueError):
        return key


def build_contribution(session: Session, flow: Flow, run: FlowRun, guardian: Guardian,
                       values: dict) -> Contribution:
    """Every question of the flow with the run's latest answer to it."""
    latest = flow_runs.latest_answers(session, run.id)
    messages = messages_by_id(session, run.school_id, [a.message_id for a in latest.values() if a.message_id])
    live = run.status in flow_runs.LIVE
    rows = [_row(step, latest.get(step.id), messages, values, live) for step in question_steps(flow)]
    recordings = recordings_for(session, run.school_id, list(messages))
    rows = [replace(row, recording_id=recordings[row.message.id].id)
            if row.message is not None and row.message.id in recordings else row for row in rows]
    return Contribution(run=run, guardian=guardian, status=run_status(run), rows=rows)


def _row(step: Step, answer: FlowAnswer | None, messages: dict[int, Message], values: dict,
         live: bool) -> AnswerRow:
    label = english(step.label, values)
    if answer is None:
        return AnswerRow(step.id, label, "waiting" if live else "not_asked")
    message = messages.get(answer.message_id) if answer.message_id else None
    if answer.status == "skipped":
        # A skip with no message of the parent's is the engine withdrawing an answer that an
        # earlier correction took off the route (e.g. "how you will join" after "not coming").
        # A question skipped after silence on a phone call has no message either, but says so in its value.
        return AnswerRow(step.id, label, "skipped" if message or answer.value else "withdrawn")
    if answer.status == "not_understood":
        return AnswerRow(step.id, label, "not_understood", words=answer.value or "", message=message)
    if step.type in (CHOICE, YES_NO, SCALE):
        return AnswerRow(step.id, label, "choice", words=choice_words(step, answer.value, values), message=message)
    return AnswerRow(step.id, label, "text", words=answer.value or "", message=message)


def choice_words(step: Step, value: str | None, values: dict) -> str:
    """An option's value in English words ('By phone', 'Yes', '4 out of 5')."""
    if step.type == YES_NO and value in ("yes", "no"):
        return english(f"flow.answer.{value}", values)
    if step.type == SCALE:
        return english("flow.answer.scale", {**values, "value": value})
    choice = step.choice(value or "")
    return english(choice.label, values) if choice else (value or "")


@dataclass(frozen=True)
class FlowBanner:
    """What the thread says about a guardian's live question flow."""

    run: FlowRun
    title: str
    position: str

    @property
    def paused(self) -> bool:
        """True when staff have taken the conversation over."""
        return self.run.status == "paused"


def flow_banner(session: Session, guardian_id: int, flows: dict[str, Flow]) -> FlowBanner | None:
    """The guardian's active or paused flow for the thread's banner, or None."""
    run = flow_runs.live_run(session, guardian_id)
    if run is None:
        return None
    flow = flows.get(run.flow_id)
    return FlowBanner(run=run, title=flow_title(run.flow_id), position=position(flow, run) if flow else "")


def understood_answers(session: Session, messages: list[Message], flows: dict[str, Flow]) -> dict[int, str]:
    """What the questions understood from each of these parent messages, in English: message id -> words.

    "tak" to a yes/no question is "Yes", "1" to a choice is that choice; a free-text answer is its own
    words (its translation says it) and gets no entry; a reply not understood says so.
    """
    ids = [m.id for m in messages if m.direction == "inbound" and m.kind == "flow_answer"]
    if not ids:
        return {}
    rows = session.exec(select(FlowAnswer, FlowRun).join(FlowRun, FlowRun.id == FlowAnswer.flow_run_id)
                        .where(FlowAnswer.message_id.in_(ids)).order_by(FlowAnswer.id)).all()
    understood: dict[int, str] = {}
    for answer, run in rows:
        flow = flows.get(run.flow_id)
        step = flow.steps.get(answer.step_id) if flow else None
        if step is None:
            continue
        if answer.status == "not_understood":
            understood[answer.message_id] = "Not understood as an answer: the question was asked again"
        elif answer.status == "skipped":
            understood[answer.message_id] = "Skipped this question"
        elif step.type in (CHOICE, YES_NO, SCALE) and not (step.own_words and answer.value not in step.options):
            understood[answer.message_id] = choice_words(step, answer.value, (run.state or {}).get("values", {}))
    return understood
