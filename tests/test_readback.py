"""The read-back: every answer read back whole over numbered parts, and a staff copy in the staff language."""
from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import select

from bot.inbox.display import catalogue_english
from bot.messaging.segments import count_segments
from flows import Answer, Start, advance, load_flows, parse_flow, words_for
from flows.readback import render_summary, split_summary
from storage.models import Message, School
from tests.support.scenarios import DEFAULT_VALUES, ScenarioPlayer
from tests.support.services import run_jobs

EN, PL = words_for("en"), words_for("pl")
VALUES = dict(DEFAULT_VALUES)
LONG = " ".join(f"{word}{n}" for n, word in enumerate(["mornings", "reading", "lunch", "friends"] * 30))[:400].strip()
SUMMARY_KEYS = ("pre_review.readback.summary", "flow.readback.continued")


def _answer_all(first: str, language: str = "en", words=EN, rest: tuple = ()) -> list:
    """The pre-review flow answered up to its read-back: `first` for the first question, short answers after."""
    flow = load_flows()["pre_review"]
    outcome = advance(flow, None, Start(VALUES), language, words)
    replies = [first, *rest] + ["Going well", "Hard", "Helps", "Child", "Hopes", "1", "2", "2", "Nothing"][len(rest):]
    for reply in replies:
        outcome = advance(flow, outcome.state, Answer(reply), language, words)
    return outcome.outputs


def _pieces(summaries: list[str], number: int) -> list[str]:
    """The text of line `number` in every part where it appears, without label, "(continued)" or "..."."""
    found = []
    for summary in summaries:
        for line in summary.split("\n"):
            match = re.match(rf"{number}\. [^:]*: (.*)$", line)
            if match:
                found.append(match.group(1).removesuffix("..."))
    return found


def test_a_400_character_answer_is_read_back_whole_across_numbered_parts():
    outputs = _answer_all(LONG)
    keys = [o.template_key for o in outputs]
    summaries = [o.values["summary"] for o in outputs if o.template_key in SUMMARY_KEYS]
    assert len(LONG) == 400 and len(summaries) >= 2
    assert keys == ["pre_review.readback.summary"] + ["flow.readback.continued"] * (len(summaries) - 1) + [
        "flow.readback.confirm"]  # the confirm question comes last
    assert [s.split("\n")[0] for s in summaries] == [f"({k}/{len(summaries)})" for k in range(1, len(summaries) + 1)]
    assert " ".join(_pieces(summaries, 1)) == LONG  # whole, in order, nothing cut away
    assert all(len(s) <= 300 for s in summaries)


def test_an_answer_cut_between_parts_says_so_at_both_ends():
    summaries = [o.values["summary"] for o in _answer_all(LONG) if o.template_key in SUMMARY_KEYS]
    assert summaries[0].endswith("...")
    assert summaries[1].split("\n")[1].startswith("1. At home (continued): ")
    for output in _answer_all(LONG):
        text = EN.text(output.template_key, output.values)
        assert "\u2026" not in text and count_segments(text).encoding == "GSM-7", text


def test_nothing_is_lost_when_every_answer_is_long():
    texts = [f"{LONG[:300 + n * 7].strip()} end{n}" for n in range(6)]
    outputs = _answer_all(texts[0], rest=tuple(texts[1:]))
    summaries = [o.values["summary"] for o in outputs if o.template_key in SUMMARY_KEYS]
    for number, text in enumerate(texts, start=1):
        assert " ".join(_pieces(summaries, number)) == text
    for number, shown in [(7, "Yes"), (8, "By phone"), (9, "No"), (10, "Nothing")]:
        assert _pieces(summaries, number) == [shown]
    assert outputs[-1].template_key == "flow.readback.confirm"


def test_short_answers_still_fit_one_unnumbered_part():
    outputs = _answer_all("Fine")
    assert [o.template_key for o in outputs] == ["pre_review.readback.summary", "flow.readback.confirm"]
    assert outputs[0].values["summary"].startswith("1. At home: Fine\n")


def _rejoins(text: str, pieces: list[str]) -> bool:
    # Pieces are cut at a space (which goes) or, with no space near, mid-word (nothing goes).
    rest = text
    for piece in pieces:
        if not rest.startswith(piece):
            return False
        rest = rest[len(piece):]
        rest = rest[1:] if rest.startswith(" ") else rest
    return rest == ""


SOME_TEXT = st.lists(st.text("abcdeąść文", min_size=1, max_size=60), min_size=1, max_size=40).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(st.lists(SOME_TEXT, min_size=1, max_size=4), st.integers(80, 400))
def test_any_answers_split_at_any_limit_come_back_whole(texts, max_chars):
    steps = [{"id": f"q{n}", "type": "text", "prompt": "pre_review.home.ask", "label": "pre_review.home.label",
              "next": f"q{n + 1}" if n + 1 < len(texts) else "check"} for n in range(len(texts))]
    flow = parse_flow({"id": "t", "values": ["child", "school"], "steps": [
        *steps, {"id": "check", "type": "readback", "prompt": "pre_review.readback.summary",
                 "confirm": "flow.readback.confirm", "change": "flow.readback.change", "max_chars": max_chars}]})
    outcome = advance(flow, None, Start({"child": "A", "school": "S"}), "pl", PL)
    for text in texts:
        outcome = advance(flow, outcome.state, Answer(text), "pl", PL)
    parts = [o.values["readback"] for o in outcome.outputs if "readback" in o.values]
    assert [part["part"] for part in parts] == list(range(1, len(parts) + 1))
    assert all(len(render_summary(part, PL, {})) <= max_chars for part in parts)
    for number, text in enumerate(texts, start=1):
        pieces = [line["answer"]["text"] for part in parts for line in part["lines"] if line["number"] == number]
        assert _rejoins(" ".join(text.split()), pieces)


def test_split_summary_keeps_a_named_answer_too_long_for_a_part_whole():
    item = {"step": "q", "number": 1, "label": "pre_review.attending.label",
            "answer": {"key": "pre_review.attending.not_sure"}}
    [part] = split_summary([item], EN, VALUES, max_chars=10)
    assert render_summary(part, EN, VALUES) == "1. Coming to the meeting: Not sure yet"


def test_a_polish_parents_read_back_has_a_polish_copy_and_an_english_staff_copy(app, db):
    talk = ScenarioPlayer(app, db, "pl", {**DEFAULT_VALUES, "child": "Ania"})
    talk.start("pre_review")
    run_jobs(app)
    for reply in ["Dobrze, lubi rysować", LONG, "Poranki", "Plan dnia", "Lubię rysować", "Więcej pomocy",
                  "nie wiem", "telefonicznie", "tak", "polski", "pomiń"]:
        talk.send(reply)
        run_jobs(app)
    db.expire_all()
    sent = db.exec(select(Message).where(Message.template_key.in_(SUMMARY_KEYS)).order_by(Message.id)).all()
    assert len(sent) >= 2
    parent, staff = "\n".join(m.translation for m in sent), "\n".join(m.body for m in sent)
    for polish in ["Dziękujemy. Oto Twoje odpowiedzi:", "1. W domu: Dobrze, lubi rysować", "Jeszcze nie wiem",
                   "Przez telefon", "9. Tłumacz: Tak", "(pominięto)", "(ciąg dalszy)"]:
        assert polish in parent and polish not in staff, polish
    for english in ["Thank you. This is what you told us:", "1. At home: Dobrze, lubi rysować",
                    "2. Going well: mornings", "2. Going well (continued): ", "7. Coming to the meeting: Not sure yet",
                    "By phone", "9. Interpreter: Yes", "10. Interpreter language: polski", "(skipped)", "(continued)"]:
        assert english in staff and english not in parent, english
    school = db.get(School, talk.school.id)
    assert [catalogue_english(m, school) for m in sent] == [m.body for m in sent]  # the inbox shows the same
