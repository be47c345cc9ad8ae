"""The flow engine, its answer matching and read-back, and the loader that validates flows."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.language.checks import answer_word_problems
from templates_i18n.catalog import CATALOG_DIR, Catalogs
from bot.messaging.segments import count_segments
from flows import (MAX_STEPS_PER_TURN, Answer, FlowFormatError, FlowLoopError, FlowStateError, FlowValidationError,
                   Repeat, Start, Timeout, Words, advance, load_flows, missing_translations, parse_flow,
                   template_keys, validate_flow, words_for)
from flows.matching import is_message_to_school, match_number, match_option

VALUES = {"child": "Amina", "school": "Oakfield Primary School", "date": "Tuesday, 3 December, 15:30"}
ENGLISH = yaml.safe_load((CATALOG_DIR / "en.yaml").read_text(encoding="utf-8"))
EN = words_for("en")


def _flow(*steps, values=("child", "school"), start=None) -> dict:
    data = {"id": "test_flow", "values": list(values), "steps": list(steps)}
    if start:
        data["start"] = start
    return data


def _ask(step_id, kind="text", **extra) -> dict:
    return {"id": step_id, "type": kind, "prompt": "pre_review.home.ask", **extra}


def _catalogs(tmp_path: Path, english_messages: dict | None = None, **languages: dict) -> Catalogs:
    english = copy.deepcopy(ENGLISH)
    english["messages"].update(english_messages or {})
    for code, data in {"en": english, **languages}.items():
        (tmp_path / f"{code}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return Catalogs(tmp_path)


def _run(flow, texts, words=EN, values=None):
    outcome = advance(flow, None, Start(values or {"child": "Amina", "school": "Oakfield"}), words.language, words)
    for text in texts:
        outcome = advance(flow, outcome.state, text if not isinstance(text, str) else Answer(text),
                          words.language, words)
    return outcome


# -- loading and validation -----------------------------------------------------------------

def test_every_shipped_flow_loads_and_validates():
    flows = load_flows()
    assert "pre_review" in flows
    for flow in flows.values():
        assert validate_flow(flow)[0] == []


def test_pre_review_english_prompts_each_fit_one_sms():
    flow = load_flows()["pre_review"]
    filler = {"count": 3, "summary": "", "number": 1, "label": "At home", "answer": "Fine", "value": 4}
    for key in template_keys(flow):
        text = ENGLISH["messages"][key].format_map({**VALUES, **filler})
        assert count_segments(text).encoding == "GSM-7", key
        assert count_segments(text).segments == 1, (key, len(text))


def test_the_intro_explains_what_a_review_is():
    intro = ENGLISH["messages"]["pre_review.intro"].format_map(VALUES)
    assert "a meeting to talk about how Amina is doing and the help they get at school" in intro


def test_every_problem_in_a_flow_is_reported_at_once(tmp_path):
    data = _flow(
        _ask("a", next="nowhere"),
        {"id": "b", "type": "essay", "prompt": "pre_review.home.ask"},
        _ask("c", "yes_no", branch={"yes": "ghost", "maybe": "a"}),
        _ask("d", "choice", prompt="pre_review.no_such_key", choices=[{"id": "phone", "label": "flow.answer.yes"}]),
        _ask("e", "readback"),
        start="a")
    (tmp_path / "test_flow.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(FlowValidationError) as raised:
        load_flows(tmp_path)
    problems = "\n".join(raised.value.problems)
    for expected in ("step 'a': next goes to unknown step 'nowhere'",
                     "step 'b': unknown answer type 'essay'",
                     "step 'c': branch 'yes' goes to unknown step 'ghost'",
                     "step 'c': branch on 'maybe', which is not one of its answers ['yes', 'no']",
                     "step 'd': a choice step needs 2 to 9 choices, not 1",
                     "step 'e': a read-back step needs 'confirm' and 'change' template keys",
                     "step 'b' is unreachable from the start 'a'",
                     "template key 'pre_review.no_such_key' is missing from en.yaml"):
        assert expected in problems
    assert all(problem.startswith("test_flow.yaml: ") for problem in raised.value.problems)


def test_a_placeholder_the_flow_does_not_supply_is_an_error():
    flow = parse_flow(_flow(_ask("a"), values=("school",)))  # the prompt needs {child}
    errors, _ = validate_flow(flow)
    assert errors == ["'pre_review.home.ask' uses {child} which the flow does not supply (declare it under 'values')"]
    # The engine's own messages (chaser, expiry) name the school: every flow supplies it.
    assert "'flow.chaser' uses {school} which the flow does not supply (declare it under 'values')" in \
        validate_flow(parse_flow(_flow(_ask("a"), values=("child",))))[0]


def test_a_loop_of_say_steps_is_an_error_and_running_it_raises_a_readable_loop_error():
    data = _flow({"id": "a", "type": "say", "prompt": "pre_review.intro", "next": "b"},
                 {"id": "b", "type": "say", "prompt": "pre_review.how_to", "next": "a"},
                 values=("child", "school", "date"))
    flow = parse_flow(data)
    assert "steps ['a', 'b'] loop without waiting for an answer" in validate_flow(flow)[0]
    with pytest.raises(FlowLoopError, match=f"{MAX_STEPS_PER_TURN} steps in one turn"):
        advance(flow, None, Start(VALUES), "en", EN)


@pytest.mark.parametrize("data, message", [
    (_flow(_ask("a", "yes_no", branch={True: "a"})), "a bare yes/no is a YAML boolean"),
    (_flow(_ask("a", colour="red")), "unknown field(s) ['colour']"),
    (_flow(_ask("a"), _ask("a")), "step id 'a' is used twice"),
    ({"id": "x", "steps": []}, "non-empty list of 'steps'"),
])
def test_malformed_flow_files_are_rejected_with_the_reason(data, message):
    with pytest.raises(FlowFormatError) as raised:
        parse_flow(data)
    assert message in str(raised.value)


def test_flow_id_must_match_its_file_name(tmp_path):
    (tmp_path / "other.yaml").write_text(yaml.safe_dump(_flow(_ask("a"))), encoding="utf-8")
    with pytest.raises(FlowValidationError, match="id 'test_flow' must equal the file name 'other'"):
        load_flows(tmp_path)


def test_missing_translations_are_reported_per_language_not_as_errors(tmp_path):
    polish = yaml.safe_load((CATALOG_DIR / "pl.yaml").read_text(encoding="utf-8"))
    polish["messages"].update({key: f"PL {key}" for key in ENGLISH["messages"] if key.startswith("flow.")})
    polish["answers"] = {"yes": ["tak"], "no": ["nie"], "skip": ["pomiń"]}
    polish["messages"].pop("pre_review.home.ask")  # a translation not written yet
    catalogs = _catalogs(tmp_path, pl=polish)
    flow = parse_flow(_flow(_ask("a", "yes_no")))
    errors, missing = validate_flow(flow, catalogs)
    assert errors == []
    assert missing == {"pl": ["pre_review.home.ask", "answers.back"]}
    assert missing_translations({"test_flow": flow}, catalogs) == {"pl": ["answers.back", "pre_review.home.ask"]}


def test_choice_ids_need_english_answer_words(tmp_path):
    flow = parse_flow(_flow(_ask("a", "choice", choices=[{"id": "bus", "label": "flow.answer.yes"},
                                                          {"id": "phone", "label": "flow.answer.no"}])))
    assert "answer words for 'bus' are missing from en.yaml 'answers'" in validate_flow(flow)[0]


# -- answer words in the catalogues ----------------------------------------------------------

def test_english_answer_words_have_no_problems():
    assert [p for p in answer_word_problems(Catalogs(CATALOG_DIR)) if p.startswith("en.yaml")] == []


def test_answer_word_problems_catch_collisions_keywords_and_yaml_booleans(tmp_path):
    polish = yaml.safe_load((CATALOG_DIR / "pl.yaml").read_text(encoding="utf-8"))
    polish["answers"] = {**{key: ["x" + key] for key in ENGLISH["answers"]},
                         "yes": ["tak", "ok"], "no": ["nie", "OK"], "skip": ["POMOC"], True: ["tak"]}
    problems = answer_word_problems(_catalogs(tmp_path, pl=polish))
    assert "pl.yaml answers.no 'OK': also listed for 'yes'" in problems
    assert "pl.yaml answers.skip 'POMOC': is a help keyword and would never reach a flow" in problems
    assert "pl.yaml answers: True is not in en.yaml (unquoted yes/no keys are YAML booleans)" in problems
    assert not any("answers.yes" in problem for problem in problems)


def test_a_language_without_answer_words_is_reported(tmp_path):
    polish = yaml.safe_load((CATALOG_DIR / "pl.yaml").read_text(encoding="utf-8"))
    polish.pop("answers", None)
    problems = answer_word_problems(_catalogs(tmp_path, pl=polish))
    assert "pl.yaml: missing 'answers' block (answer id -> words)" in problems


# -- matching ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, digits, expected", [
    ("1", None, "yes"), ("2.", None, "no"), (" 2 ", None, "no"), ("", "1", "yes"), ("3", None, None),
    ("Yes!", None, "yes"), ("YES please", None, "yes"), ("yes, I will come", None, "yes"),
    ("No thank you", None, "no"), ("nope", None, "no"), ("not really", None, "no"),
    ("yesterday", None, None), ("I do not know", None, None), ("", None, None), ("١", None, "yes"),
])
def test_yes_no_by_number_word_or_first_words(text, digits, expected):
    assert match_option(text, digits, ("yes", "no"), EN) == expected


def test_the_languages_own_words_win_over_english():
    words = Words(language="xx", answers={"yes": ("no",)}, english=EN.english)
    assert match_option("no", None, ("yes", "no"), words) == "yes"
    assert match_option("nope", None, ("yes", "no"), words) == "no"  # English still accepted


def test_longest_leading_words_win():
    words = Words(language="pl", answers={"no": ("nie",), "not_sure": ("nie wiem",)})
    assert match_option("Nie wiem jeszcze", None, ("yes", "no", "not_sure"), words) == "not_sure"
    assert match_option("Nie, dziękuję", None, ("yes", "no", "not_sure"), words) == "no"


def test_numbers_for_a_choice_of_n():
    assert match_number("7 please", None, 10) == 7
    assert match_number("11", None, 10) is None
    assert match_number("", "۳", 3) == 3


@pytest.mark.parametrize("text, free_text, expected", [
    ("What time is the meeting?", True, True), ("Why? He is fine", True, False), ("ما هو الوقت؟", True, True),
    ("Fine", False, False), ("when?", False, True), ("I work nights so it depends on the time", False, True),
    ("purple", False, False), ("", False, False),
])
def test_messages_to_the_school_are_told_apart_from_answers(text, free_text, expected):
    assert is_message_to_school(text, free_text) is expected


# -- engine ------------------------------------------------------------------------------------

def test_advance_is_pure_and_deterministic():
    flow = load_flows()["pre_review"]
    start = advance(flow, None, Start(VALUES), "en", EN)
    frozen = json.dumps(start.state, sort_keys=True)
    first = advance(flow, start.state, Answer("Fine"), "en", EN)
    second = advance(flow, start.state, Answer("Fine"), "en", EN)
    assert json.dumps(start.state, sort_keys=True) == frozen  # the input state was not touched
    assert first == second
    assert json.loads(json.dumps(first.state)) == first.state


def test_start_needs_the_flows_values():
    with pytest.raises(ValueError, match="needs values for: date, school"):
        advance(load_flows()["pre_review"], None, Start({"child": "Amina"}), "en", EN)


def test_outputs_carry_the_flow_values_for_rendering():
    outcome = advance(load_flows()["pre_review"], None, Start(VALUES), "en", EN)
    assert all(output.values == VALUES for output in outcome.outputs)


def test_a_scale_step_reads_numbers_and_shows_them_in_the_read_back():
    flow = parse_flow(_flow(_ask("mood", "scale", label="pre_review.home.label", next="check"),
                            {"id": "check", "type": "readback", "prompt": "pre_review.readback.summary",
                             "confirm": "flow.readback.confirm", "change": "flow.readback.change"}))
    outcome = _run(flow, ["6", "4 - quite good"])
    assert outcome.answers[0].value == "4"
    assert outcome.outputs[0].values["summary"] == "1. At home: 4 out of 5"
    assert _run(flow, ["6"]).outputs[0].template_key == "flow.hint.scale"


def test_branching_on_a_yes_no_answer():
    flow = parse_flow(_flow(_ask("q", "yes_no", branch={"yes": "more"}, next="end"), _ask("more")))
    assert _run(flow, ["no"]).status == "completed"
    outcome = _run(flow, ["yes"])
    assert outcome.status == "active" and outcome.state["current"] == "more"


def test_a_finished_flow_takes_no_answers_and_ignores_timeouts():
    flow = parse_flow(_flow(_ask("q")))
    done = _run(flow, ["fine"])
    assert done.status == "completed"
    again = advance(flow, done.state, Answer("one more thing"), "en", EN)
    assert again.not_an_answer and again.outputs == [] and again.answers == []
    assert advance(flow, done.state, Timeout(), "en", EN).outputs == []


def test_repeat_resends_the_question_without_counting_a_try():
    flow = parse_flow(_flow(_ask("q", "yes_no")))
    outcome = _run(flow, ["maybe", Repeat(), "perhaps"])
    assert [o.template_key for o in outcome.outputs] == ["flow.hint.yes_no"]
    repeated = advance(flow, outcome.state, Repeat(), "en", EN)
    assert [o.template_key for o in repeated.outputs] == ["pre_review.home.ask"]
    assert repeated.state["tries"] == outcome.state["tries"] == 2


def test_state_from_another_flow_or_a_removed_step_is_refused():
    flow = parse_flow(_flow(_ask("q")))
    state = _run(flow, []).state
    with pytest.raises(FlowStateError, match="belongs to flow 'test_flow'"):
        advance(load_flows()["pre_review"], state, Answer("hi"), "en", EN)
    with pytest.raises(FlowStateError, match="has no step 'gone'"):
        advance(flow, {**state, "current": "gone"}, Answer("hi"), "en", EN)
    with pytest.raises(FlowStateError, match="send Start first"):
        advance(flow, None, Answer("hi"), "en", EN)


def test_words_must_be_for_the_parents_language():
    with pytest.raises(ValueError, match="answer words are for 'en'"):
        advance(load_flows()["pre_review"], None, Start(VALUES), "pl", EN)


def test_read_back_parts_stay_within_the_steps_limit():
    flow = load_flows()["pre_review"]
    long_answer = "She finds the mornings very hard and we have tried lots of things to help her " * 3
    outcome = _run(flow, [long_answer] * 6 + ["yes", "1", "no", long_answer], values=VALUES)
    summaries = [o.values["summary"] for o in outcome.outputs if "summary" in o.values]
    assert len(summaries) >= 3
    assert all(len(part) <= flow.steps["check"].max_chars for part in summaries)


EVENTS = st.one_of(
    st.sampled_from([Timeout(), Repeat()]),
    st.builds(Answer, text=st.sampled_from(["yes", "no", "skip", "back", "1", "2", "3", "7", "", "hello?",
                                            "Fine thanks", "nie", "in person", "I will phone you next week"])),
    st.builds(Answer, text=st.text(max_size=30)),
    st.builds(Answer, text=st.just(""), digits=st.sampled_from(["1", "2", "3", "9"])),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(EVENTS, max_size=40))
def test_any_sequence_of_events_keeps_a_valid_state(events):
    flow = load_flows()["pre_review"]
    outcome = advance(flow, None, Start(VALUES), "en", EN)
    known_keys = set(ENGLISH["messages"])
    for event in events:
        was_active = outcome.status == "active"
        outcome = advance(flow, outcome.state, event, "en", EN)
        assert json.loads(json.dumps(outcome.state)) == outcome.state
        assert {o.template_key for o in outcome.outputs} <= known_keys
        assert outcome.status in ("active", "completed", "expired")
        assert bool(outcome.outputs) is was_active  # a waiting parent always hears back; a finished flow is quiet
        if outcome.status == "active":
            assert outcome.state["current"] in flow.steps
        assert all(answer.step_id in flow.steps for answer in outcome.answers)
