"""Load the flows in flows/*.yaml and check them before a parent ever meets one.

`load_flows()` raises FlowValidationError listing every problem in every flow, so the app
refuses to start with a broken flow. Missing translations are reported separately
(`missing_translations()`): a message a language lacks falls back to labelled machine
translation, so the caller decides whether that is fatal.
"""
from __future__ import annotations

import string
from pathlib import Path

import yaml

from templates_i18n.catalog import SOURCE_LANGUAGE, Catalogs, default_catalogs, normalise_language
from flows.engine import ENGINE_VALUES
from flows.matching import CONTROL_WORDS, Words
from flows.model import (ANSWER_TYPES, CHOICE, END, MAX_CHOICES, QUESTION_TYPES, READBACK, SAY, SCALE, YES_NO,
                         YES_NO_VALUES, Flow, FlowFormatError, Step, parse_flow)

FLOWS_DIR = Path(__file__).resolve().parent


class FlowValidationError(ValueError):
    """One or more flows are invalid; `problems` lists every one, file and step named."""

    def __init__(self, problems: list[str]):
        super().__init__("invalid flows:\n  " + "\n  ".join(problems))
        self.problems = problems


def load_flows(directory: Path | str = FLOWS_DIR, catalogs: Catalogs | None = None) -> dict[str, Flow]:
    """Every flow in the directory by id, validated against the English catalogue."""
    catalogs = catalogs or default_catalogs()
    flows: dict[str, Flow] = {}
    problems: list[str] = []
    for path in sorted(Path(directory).glob("*.yaml")):
        try:
            flow = load_flow(path)
        except (FlowFormatError, yaml.YAMLError) as error:
            problems.append(str(error))
            continue
        if flow.id != path.stem:
            problems.append(f"{path.name}: id {flow.id!r} must equal the file name {path.stem!r}")
        errors, _ = validate_flow(flow, catalogs)
        problems += [f"{path.name}: {error}" for error in errors]
        flows[flow.id] = flow
    if problems:
        raise FlowValidationError(problems)
    return flows


def load_flow(path: Path | str) -> Flow:
    """One flow file, parsed but not yet validated."""
    path = Path(path)
    with path.open(encoding="utf-8") as handle:
        return parse_flow(yaml.safe_load(handle), source=path.name)


def validate_flow(flow: Flow, catalogs: Catalogs | None = None) -> tuple[list[str], dict[str, list[str]]]:
    """(errors, missing translations by language) for one flow; errors make it unusable."""
    catalogs = catalogs or default_catalogs()
    errors = _structure_errors(flow)
    english = catalogs.messages(SOURCE_LANGUAGE)
    for key, supplied in sorted(template_keys(flow).items()):
        if key not in english:
            errors.append(f"template key {key!r} is missing from {SOURCE_LANGUAGE}.yaml")
            continue
        unknown = _placeholders(english[key]) - supplied - set(flow.values)
        if unknown:
            errors.append(f"{key!r} uses {{{'}, {'.join(sorted(unknown))}}} which the flow does not "
                          f"supply (declare it under 'values')")
    english_words = catalogs.answers(SOURCE_LANGUAGE)
    errors += [f"answer words for {word!r} are missing from {SOURCE_LANGUAGE}.yaml 'answers'"
               for word in sorted(answer_ids(flow)) if not english_words.get(word)]
    missing = {}
    for lang in catalogs.languages():
        if lang == SOURCE_LANGUAGE:
            continue
        messages, words = catalogs.messages(lang), catalogs.answers(lang)
        gaps = [key for key in sorted(template_keys(flow)) if key not in messages]
        gaps += [f"answers.{word}" for word in sorted(answer_ids(flow)) if not words.get(word)]
        if gaps:
            missing[lang] = gaps
    return errors, missing


def missing_translations(flows: dict[str, Flow], catalogs: Catalogs | None = None) -> dict[str, list[str]]:
    """Language -> message keys and answer words ('answers.yes') the flows need and it lacks."""
    merged: dict[str, set[str]] = {}
    for flow in flows.values():
        for lang, gaps in validate_flow(flow, catalogs)[1].items():
            merged.setdefault(lang, set()).update(gaps)
    return {lang: sorted(gaps) for lang, gaps in sorted(merged.items())}


def template_keys(flow: Flow) -> dict[str, set[str]]:
    """Every template key the flow can send or read, with the values the engine fills in."""
    keys = {key: set(values) for key, values in ENGINE_VALUES.items()}
    for step in flow.steps.values():
        named = [step.prompt, step.hint, step.label, *(choice.label for choice in step.choices)]
        keys.update({key: set() for key in named if key})
        if step.item:  # the step's own messages carry its item as {item}
            keys.update({key: {"item"} for key in (step.prompt, step.hint) if key})
        if step.type == READBACK:
            keys[step.prompt] = {"summary"}
            keys.update({key: {"count"} for key in (step.confirm, step.change) if key})
    return keys


def answer_ids(flow: Flow) -> set[str]:
    """Answer ids whose localised words the flow relies on: yes, no, skip, back and its choices."""
    return {*YES_NO_VALUES, *CONTROL_WORDS, *(choice.id for step in flow.steps.values() for choice in step.choices)}


def words_for(language: str, catalogs: Catalogs | None = None) -> Words:
    """The answer words and message texts of one language, ready for the engine."""
    catalogs = catalogs or default_catalogs()
    code = normalise_language(language)
    return Words(language=language, answers=_as_tuples(catalogs.answers(code)),
                 english=_as_tuples(catalogs.answers(SOURCE_LANGUAGE)),
                 texts={**catalogs.messages(SOURCE_LANGUAGE), **catalogs.messages(code)})


def _as_tuples(block: dict) -> dict[str, tuple[str, ...]]:
    return {str(key): tuple(words) for key, words in block.items() if isinstance(words, list)}


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _structure_errors(flow: Flow) -> list[str]:
    errors: list[str] = []
    if flow.start not in flow.steps:
        errors.append(f"start step {flow.start!r} does not exist")
    if END in flow.steps:
        errors.append(f"{END!r} is reserved for the end of the flow; it cannot be a step id")
    for step in flow.steps.values():
        errors += [f"step {step.id!r}: {problem}" for problem in _step_errors(flow, step)]
    if sum(step.type == READBACK for step in flow.steps.values()) > 1:
        errors.append("a flow may have one read-back step")
    reachable = _reachable(flow)
    errors += [f"step {step_id!r} is unreachable from the start {flow.start!r}"
               for step_id in flow.steps if step_id not in reachable]
    errors += [f"steps {cycle} loop without waiting for an answer" for cycle in _say_loops(flow)]
    return errors


def _step_errors(flow: Flow, step: Step) -> list[str]:
    if step.type not in ANSWER_TYPES:
        return [f"unknown answer type {step.type!r} (expected one of {', '.join(ANSWER_TYPES)})"]
    errors = []
    targets = [("next", step.next)] + [(f"branch {value!r}", target) for value, target in step.branch.items()]
    errors += [f"{what} goes to unknown step {target!r}" for what, target in targets
               if target != END and target not in flow.steps]
    if step.branch and step.type not in (CHOICE, YES_NO, SCALE):
        errors.append(f"a {step.type} step cannot branch on its answer")
    errors += [f"branch on {value!r}, which is not one of its answers {list(step.options)}"
               for value in step.branch if step.type in QUESTION_TYPES and step.options
               and value not in step.options]
    if step.type == CHOICE:
        ids = [choice.id for choice in step.choices]
        if not 2 <= len(ids) <= MAX_CHOICES:
            errors.append(f"a choice step needs 2 to {MAX_CHOICES} choices, not {len(ids)}")
        if len(set(ids)) != len(ids):
            errors.append("choice ids must be unique")
        errors += [f"choice id {cid!r} is a control word" for cid in ids if cid in CONTROL_WORDS]
    elif step.choices:
        errors.append(f"a {step.type} step has no choices")
    if step.type == READBACK and not (step.confirm and step.change):
        errors.append("a read-back step needs 'confirm' and 'change' template keys")
    if step.type != READBACK and (step.confirm or step.change):
        errors.append("only a read-back step has 'confirm' and 'change'")
    if step.item is not None and (not isinstance(step.item, str) or step.item not in flow.values):
        errors.append(f"item {step.item!r} must be one of the flow's declared values")
    if step.own_words and step.type != CHOICE:
        errors.append("only a choice step takes an answer in the parent's own words")
    return errors


def _reachable(flow: Flow) -> set[str]:
    seen, stack = set(), [flow.start]
    while stack:
        step_id = stack.pop()
        if step_id in seen or step_id not in flow.steps:
            continue
        seen.add(step_id)
        step = flow.steps[step_id]
        stack += [step.next, *step.branch.values()]
    return seen


def _say_loops(flow: Flow) -> list[list[str]]:
    # A chain of say steps that comes back on itself would send messages forever.
    loops, reported = [], set()
    for first in flow.steps:
        chain, step_id = [], first
        while step_id in flow.steps and flow.steps[step_id].type == SAY and step_id not in chain:
            chain.append(step_id)
            step_id = flow.steps[step_id].next
        if step_id in chain and frozenset(chain[chain.index(step_id):]) not in reported:
            cycle = chain[chain.index(step_id):]
            reported.add(frozenset(cycle))
            loops.append(cycle)
    return loops
