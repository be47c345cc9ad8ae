"""Golden scenarios through the pure flow engine: every tests/scenarios/*.yaml conversation that
needs no host (no STOP/HELP, no staff), run through `flows.advance` directly.

Scenarios with host steps are never imitated here: the real host plays them, through the signed
webhook and a real worker (tests/test_flow_conversations.py). Keypad scenarios run only here
until calls have a webhook. The scenario format is described in flows/README.md.
"""
from __future__ import annotations

import pytest

from bot.language.i18n import render_template
from flows import Answer, Start, Timeout, advance, confirmed_answers, load_flows, words_for
from tests.support.scenarios import (DEFAULT_VALUES, SCENARIOS, expected_answers, keys_match, load_scenario,
                                     uses_host, uses_keypad)

FLOWS = load_flows()
ENGINE_SCENARIOS = [path for path in SCENARIOS if not uses_host(load_scenario(path))]
PRODUCT_SCENARIOS = [path for path in SCENARIOS if not uses_keypad(load_scenario(path))]


def _event(spec: dict, values: dict):
    if spec.get("event") == "start":
        return Start(values=values)
    if spec.get("event") == "timeout":
        return Timeout()
    digits = spec.get("digits")
    return Answer(text=str(spec["send"]), digits=str(digits) if digits is not None else None)


def _check_answers(spec: dict, learned: list, where: str) -> None:
    got = {answer.step_id: answer for answer in learned}
    assert len(got) == len(learned), f"{where}: a step learned twice in one turn"
    expected = expected_answers(spec)
    assert set(got) == set(expected), f"{where}: answers {sorted(got)} != expected {sorted(expected)}"
    for step_id, want in expected.items():
        have = {"value": got[step_id].value, "status": got[step_id].status, "source": got[step_id].source}
        assert {k: have[k] for k in want} == want, f"{where}: answer {step_id!r}"


def _check_rendering(outputs: list, where: str) -> None:
    # Raises for a key English lacks or a placeholder without a value: what the worker would hit.
    for output in outputs:
        assert render_template(output.template_key, "en", **output.values), f"{where}: {output.template_key}"


@pytest.mark.parametrize("path", ENGINE_SCENARIOS, ids=[path.stem for path in ENGINE_SCENARIOS])
def test_scenario_through_the_engine(path):
    scenario = load_scenario(path)
    flow, language = FLOWS[scenario["flow"]], scenario["language"]
    words, values = words_for(language), {**DEFAULT_VALUES, **scenario.get("values", {})}
    state, status = None, "none"
    for number, spec in enumerate(scenario["steps"], start=1):
        if status in ("completed", "expired"):
            break  # what a message after the flow's end does is the host's to decide (the product runner)
        where = f"{path.name} step {number} ({spec.get('send', spec.get('event'))!r})"
        outcome = advance(flow, state, _event(spec, values), language, words)
        state, status = outcome.state, outcome.status
        keys = [output.template_key for output in outcome.outputs]
        assert keys_match(spec.get("expect", []), keys), f"{where}: sent {keys}, expected {spec.get('expect', [])}"
        _check_answers(spec, outcome.answers, where)
        assert outcome.not_an_answer is bool(spec.get("inbox", False)), f"{where}: inbox routing"
        assert outcome.status == spec.get("status", "active"), f"{where}: status {outcome.status}"
        _check_rendering(outcome.outputs, where)
        summary = "\n".join(str(output.values.get("summary", "")) for output in outcome.outputs)
        for fragment in spec.get("summary_contains", []):
            assert fragment in summary, f"{where}: read-back lacks {fragment!r}:\n{summary}"
    if "final_answers" in scenario:
        final = {step: record["value"] if record["status"] == "answered" else {"status": record["status"]}
                 for step, record in confirmed_answers(flow, state).items()}
        assert final == scenario["final_answers"]


def test_every_scenario_runs_somewhere_and_host_steps_only_through_the_real_host():
    assert set(ENGINE_SCENARIOS) | set(PRODUCT_SCENARIOS) == set(SCENARIOS)
    assert all(path in PRODUCT_SCENARIOS for path in SCENARIOS if uses_host(load_scenario(path)))


def test_there_are_scenarios_for_every_flow_and_the_required_cases():
    names = {path.stem for path in SCENARIOS}
    flows_covered = {load_scenario(path)["flow"] for path in SCENARIOS}
    assert set(FLOWS) <= flows_covered
    for required in ("en_happy_path", "pl_happy_path", "ur_happy_path", "en_invalid_answers", "en_skip_back",
                     "en_stop_mid_flow", "en_takeover", "en_expiry", "en_not_an_answer", "en_readback_correction"):
        assert required in names
