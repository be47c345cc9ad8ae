"""The read-back: the parent's answers summarised in their own language, numbered for corrections.

Labels and choice names come from the language's catalogue (English where a translation is
missing); free-text answers are the parent's own words, shortened so the summary stays a few
SMS long. The summary is split into parts of at most `max_chars` characters.
"""
from __future__ import annotations

from flows.matching import Words
from flows.model import CHOICE, END, QUESTION_TYPES, SCALE, YES_NO, Flow, Step

LINE_KEY = "flow.readback.line"  # "{number}. {label}: {answer}"
CONTINUED_KEY = "flow.readback.continued"
SKIPPED_KEY = "flow.answer.skipped"
SCALE_KEY = "flow.answer.scale"
ANSWER_CHARS = 80  # longest piece of a free-text answer quoted back
ELLIPSIS = "..."  # three dots, not "…": one non-GSM character would make the whole SMS UCS-2


def answered_path(flow: Flow, answers: dict, until: str = END) -> list[str]:
    """Answered question steps on the route the answers take from the start, in order."""
    path: list[str] = []
    step_id, seen = flow.start, set()
    while step_id not in (END, until) and step_id not in seen and step_id in flow.steps:
        seen.add(step_id)
        step = flow.steps[step_id]
        if step.type not in QUESTION_TYPES:
            step_id = step.next
            continue
        record = answers.get(step_id)
        if record is None and step.item:
            step_id = step.next  # an item step without an answer was passed over (no such item)
            continue
        if record is None:
            break  # the parent has not got this far
        path.append(step_id)
        step_id = step.next_after(record["value"], record["status"])
    return path


def summary_lines(flow: Flow, path: list[str], answers: dict, words: Words, values: dict) -> list[tuple[str, str]]:
    """(step id, numbered line) for every labelled answer on the path."""
    lines: list[tuple[str, str]] = []
    for step_id in path:
        step = flow.steps[step_id]
        if not step.label:
            continue
        line_values = {**values, "number": len(lines) + 1, "label": words.text(step.label, values),
                       "answer": _shown_answer(step, answers[step_id], words, values)}
        lines.append((step_id, words.text(LINE_KEY, line_values)))
    return lines


def _shown_answer(step: Step, record: dict, words: Words, values: dict) -> str:
    value, status = record["value"], record["status"]
    if status == "skipped":
        return words.text(SKIPPED_KEY, values)
    if status == "answered" and step.type == YES_NO:
        return words.text(f"flow.answer.{value}", values)
    if status == "answered" and step.type == CHOICE and step.choice(value):
        return words.text(step.choice(value).label, values)
    if status == "answered" and step.type == SCALE:
        return words.text(SCALE_KEY, {**values, "value": value})
    return shorten(value or "")


def shorten(text: str, limit: int = ANSWER_CHARS) -> str:
    """The parent's words on one line, cut at a word boundary when too long."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - len(ELLIPSIS)]
    if " " in cut[limit // 2:]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,.;:") + ELLIPSIS


def split_summary(lines: list[str], max_chars: int) -> list[str]:
    """Lines joined into parts of at most max_chars (a longer line stands alone)."""
    parts: list[str] = []
    for line in lines:
        if parts and len(parts[-1]) + 1 + len(line) <= max_chars:
            parts[-1] += "\n" + line
        else:
            parts.append(line)
    return parts
