"""Guided question flows: flows as YAML data, a pure engine that runs them, a loader that checks them.

    flows = load_flows()                       # at start-up; raises FlowValidationError
    words = words_for(guardian_language)       # answer words + texts of one language
    outcome = advance(flows["pre_review"], run.state, Answer(text), guardian_language, words)

See flows/README.md for writing a flow and for what the host does with an Outcome.
"""
from flows.engine import MAX_REASKS, MAX_STEPS_PER_TURN, advance, confirmed_answers
from flows.events import (Answer, Event, FlowLoopError, FlowStateError, LearnedAnswer, Outcome, Output, Repeat,
                          Start, Timeout)
from flows.loader import (FLOWS_DIR, FlowValidationError, load_flow, load_flows, missing_translations,
                          template_keys, validate_flow, words_for)
from flows.matching import Words
from flows.model import Choice, Flow, FlowFormatError, Step, parse_flow

__all__ = [
    "FLOWS_DIR", "MAX_REASKS", "MAX_STEPS_PER_TURN", "Answer", "Choice", "Event", "Flow", "FlowFormatError",
    "FlowLoopError", "FlowStateError", "FlowValidationError", "LearnedAnswer", "Outcome", "Output", "Repeat",
    "Start", "Step", "Timeout", "Words", "advance", "confirmed_answers", "load_flow", "load_flows",
    "missing_translations", "parse_flow", "template_keys", "validate_flow", "words_for",
]
