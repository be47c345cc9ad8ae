"""The flow engine's item steps (a step per slot of the host's values, passed over when empty) and
choice steps that take an answer in the parent's own words, and the loader's checks of both."""
from __future__ import annotations

from flows import Answer, Start, advance, parse_flow, validate_flow, words_for
from flows.engine import confirmed_answers

FLOW = {
    "id": "items", "values": ["school", "child", "first", "second"], "start": "first",
    "steps": [
        {"id": "first", "type": "choice", "item": "first", "own_words": True, "prompt": "checkin.target.ask",
         "hint": "checkin.target.hint", "next": "second",
         "choices": [{"id": "better", "label": "checkin.answer.better"}, {"id": "same", "label": "checkin.answer.same"},
                     {"id": "harder", "label": "checkin.answer.harder"}]},
        {"id": "second", "type": "choice", "item": "second", "prompt": "checkin.target.ask", "next": "end",
         "choices": [{"id": "better", "label": "checkin.answer.better"}, {"id": "same", "label": "checkin.answer.same"},
                     {"id": "harder", "label": "checkin.answer.harder"}]},
    ],
}
VALUES = {"school": "Oakfield", "child": "Zain"}


def test_an_item_step_carries_its_item_and_an_empty_slot_is_passed_over():
    flow, words = parse_flow(FLOW), words_for("en")
    outcome = advance(flow, None, Start({**VALUES, "first": "", "second": "Zain will put on his coat"}), "en", words)
    assert [(o.template_key, o.values["item"]) for o in outcome.outputs] == [
        ("checkin.target.ask", "Zain will put on his coat")]
    assert outcome.state["current"] == "second"
    done = advance(flow, outcome.state, Answer("3"), "en", words)
    assert done.status == "completed" and confirmed_answers(flow, done.state) == {
        "second": {"value": "harder", "status": "answered"}}


def test_own_words_are_an_answer_but_a_number_out_of_range_is_asked_again():
    flow, words = parse_flow(FLOW), words_for("en")
    state = advance(flow, None, Start({**VALUES, "first": "Zain will ask for help", "second": "x"}), "en", words).state
    wrong = advance(flow, state, Answer("7"), "en", words)
    assert [o.template_key for o in wrong.outputs] == ["checkin.target.hint"]
    assert wrong.outputs[0].values["item"] == "Zain will ask for help" and wrong.answers == []
    own = advance(flow, wrong.state, Answer("He asks his sister instead"), "en", words)
    assert [(a.step_id, a.value, a.status) for a in own.answers] == [("first", "He asks his sister instead", "answered")]
    # Without own_words the same reply is not an answer: the second step re-asks with its hint.
    again = advance(flow, own.state, Answer("He forgets"), "en", words)
    assert [o.template_key for o in again.outputs] == ["flow.hint.choice"] and again.answers == []


def test_the_loader_refuses_an_undeclared_item_and_own_words_off_a_choice_step():
    bad = {**FLOW, "steps": [dict(FLOW["steps"][0], item="third"),
                             {"id": "second", "type": "text", "prompt": "checkin.anything_else.ask", "own_words": True}]}
    errors, _ = validate_flow(parse_flow(bad))
    assert "step 'first': item 'third' must be one of the flow's declared values" in errors
    assert "step 'second': only a choice step takes an answer in the parent's own words" in errors
