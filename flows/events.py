"""What goes into the flow engine (events) and what comes out (outputs, answers, new state)."""
from __future__ import annotations

from dataclasses import dataclass, field


class FlowLoopError(RuntimeError):
    """A flow went round more steps in one turn than any real flow needs (a loop in its links)."""


class FlowStateError(ValueError):
    """A stored state that does not belong to this flow (another flow, or a step since removed)."""


@dataclass(frozen=True)
class Start:
    """Begin the flow afresh; `values` fill the flow's {placeholders} (child, school, date...)."""

    values: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Answer:
    """A parent's reply: the text (typed or transcribed) and keypad digits from a voice call."""

    text: str = ""
    digits: str | None = None


@dataclass(frozen=True)
class Timeout:
    """The host's timer ran out with no reply."""


@dataclass(frozen=True)
class Repeat:
    """Send the current question again (after HELP, or when staff hand a paused flow back)."""


Event = Start | Answer | Timeout | Repeat


@dataclass(frozen=True)
class Output:
    """One message to send: a catalogue key and the values for its {placeholders}."""

    template_key: str
    values: dict


@dataclass(frozen=True)
class LearnedAnswer:
    """What one step learned: a normalised value and how it was given (raw text kept)."""

    step_id: str
    value: str | None  # choice id, "yes"/"no", "1".."5", the parent's text; raw text if not_understood
    status: str  # answered | skipped | not_understood
    source: str  # text | keypad (this turn's inbound message) | flow (withdrawn by a correction)
    raw: str | None = None


@dataclass(frozen=True)
class Outcome:
    """Everything one event produced, for the host to store and send."""

    state: dict
    outputs: list[Output]
    answers: list[LearnedAnswer]
    status: str  # active | completed | expired
    not_an_answer: bool = False  # route the message to the staff inbox; the flow keeps waiting
