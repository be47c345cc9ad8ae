"""A flow as data: steps with stable ids, each naming its prompt, answer type and what comes next.

`parse_flow` only checks the shape of a flow file, naming the file and step at fault;
flows/loader.py checks its meaning (links, reachability, template keys) before the app uses it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

END = "end"  # the reserved step id that finishes a flow
SAY, TEXT, YES_NO, CHOICE, SCALE, READBACK = "say", "text", "yes_no", "choice", "scale", "readback"
ANSWER_TYPES = (SAY, TEXT, YES_NO, CHOICE, SCALE, READBACK)
QUESTION_TYPES = (TEXT, YES_NO, CHOICE, SCALE)  # steps that wait for one answer
YES_NO_VALUES = ("yes", "no")
SCALE_VALUES = ("1", "2", "3", "4", "5")
MAX_CHOICES = 9  # one keypad digit each
STEP_FIELDS = {"id", "type", "prompt", "next", "hint", "label", "choices", "branch", "confirm", "change",
               "max_chars", "item", "own_words"}
FLOW_FIELDS = {"id", "version", "description", "values", "start", "steps"}


class FlowFormatError(ValueError):
    """A flow file that cannot even be read as a flow (wrong shape, not a typo in a link)."""


@dataclass(frozen=True)
class Choice:
    """One numbered option of a choice step: a stable id and the template key of its short label."""

    id: str
    label: str


@dataclass(frozen=True)
class Step:
    """One step: what to send (a template key), what answer to wait for, and where to go next."""

    id: str
    type: str
    prompt: str
    next: str = END
    hint: str | None = None  # re-ask text for an answer not understood; a flow.hint.<type> default
    label: str | None = None  # short name of the answer in the read-back; no label, not read back
    choices: tuple[Choice, ...] = ()
    branch: dict[str, str] = field(default_factory=dict)  # answer value -> next step id
    confirm: str | None = None  # read-back only: "Is this right?"
    change: str | None = None  # read-back only: "Which number would you like to change?"
    max_chars: int = 300  # read-back only: longest summary part in one output
    # A step about one of the host's items (a child's target): passed over when that value is
    # empty, and its messages get the value as {item}. One step per slot keeps the flow plain data.
    item: str | None = None
    own_words: bool = False  # choice only: a reply in the parent's own words is an answer too

    @property
    def options(self) -> tuple[str, ...]:
        """The values this step can take, in keypad order (1 = the first)."""
        if self.type == CHOICE:
            return tuple(choice.id for choice in self.choices)
        if self.type in (YES_NO, READBACK):
            return YES_NO_VALUES
        if self.type == SCALE:
            return SCALE_VALUES
        return ()

    @property
    def hint_key(self) -> str:
        """The template key sent when an answer is not understood."""
        return self.hint or f"flow.hint.{YES_NO if self.type == READBACK else self.type}"

    def next_after(self, value: str | None, status: str = "answered") -> str:
        """The step that follows this answer (a branch when one matches, else `next`)."""
        if status == "answered" and value in self.branch:
            return self.branch[value]
        return self.next

    def choice(self, choice_id: str) -> Choice | None:
        """The option with this id, or None."""
        return next((choice for choice in self.choices if choice.id == choice_id), None)


@dataclass(frozen=True)
class Flow:
    """A whole flow: its steps in file order, the first step, and the values the host supplies."""

    id: str
    version: int
    start: str
    steps: dict[str, Step]
    values: tuple[str, ...] = ()  # {placeholders} the host passes in Start(values=...)
    description: str = ""


def parse_flow(data: object, source: str = "<flow>") -> Flow:
    """Build a Flow from a parsed YAML mapping; FlowFormatError names what is malformed."""
    if not isinstance(data, dict):
        raise FlowFormatError(f"{source}: a flow file must be a mapping with id, start and steps")
    unknown = set(data) - FLOW_FIELDS
    if unknown:
        raise FlowFormatError(f"{source}: unknown field(s) {sorted(map(str, unknown))}")
    if not isinstance(data.get("id"), str) or not isinstance(data.get("steps"), list) or not data["steps"]:
        raise FlowFormatError(f"{source}: needs a text 'id' and a non-empty list of 'steps'")
    steps: dict[str, Step] = {}
    for number, raw in enumerate(data["steps"], start=1):
        step = _parse_step(raw, f"{source} step {number}")
        if step.id in steps:
            raise FlowFormatError(f"{source}: step id {step.id!r} is used twice")
        steps[step.id] = step
    values = data.get("values") or []
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise FlowFormatError(f"{source}: 'values' must be a list of placeholder names")
    return Flow(id=data["id"], version=int(data.get("version") or 1),
                start=str(data.get("start") or next(iter(steps))), steps=steps,
                values=tuple(values), description=str(data.get("description") or "").strip())


def _parse_step(raw: object, where: str) -> Step:
    if not isinstance(raw, dict):
        raise FlowFormatError(f"{where}: must be a mapping")
    unknown = set(raw) - STEP_FIELDS
    if unknown:
        raise FlowFormatError(f"{where}: unknown field(s) {sorted(map(str, unknown))}")
    for name in ("id", "type", "prompt"):
        if not isinstance(raw.get(name), str) or not raw[name].strip():
            raise FlowFormatError(f"{where}: needs a text {name!r}")
    where = f"{where} ({raw['id']})"
    branch = raw.get("branch") or {}
    if not isinstance(branch, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                               for k, v in branch.items()):
        raise FlowFormatError(f"{where}: 'branch' must map answer values to step ids, all quoted text "
                              "(a bare yes/no is a YAML boolean: write \"yes\": ...)")
    choices = raw.get("choices") or []
    if not isinstance(choices, list) or not all(
            isinstance(c, dict) and isinstance(c.get("id"), str) and isinstance(c.get("label"), str)
            for c in choices):
        raise FlowFormatError(f"{where}: 'choices' must be a list of {{id: ..., label: ...}} with quoted ids")
    return Step(id=raw["id"], type=raw["type"], prompt=raw["prompt"], next=str(raw.get("next", END)),
                hint=raw.get("hint"), label=raw.get("label"),
                choices=tuple(Choice(c["id"], c["label"]) for c in choices), branch=dict(branch),
                confirm=raw.get("confirm"), change=raw.get("change"),
                max_chars=int(raw.get("max_chars") or 300), item=raw.get("item"),
                own_words=raw.get("own_words") is True)
