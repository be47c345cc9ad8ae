"""The read-back: the parent's answers summarised, numbered for corrections, split into SMS-sized parts.

The summary is first built as plain data (catalogue keys and the parent's own words), packed into
parts measured in the parent's language, and only then rendered: with the parent's texts for the
message, and with the staff language's texts for the staff copy of the very same part. Free-text
answers are never shortened: one too long for the room left is cut at a space, marked "...", and
goes on at the top of the next part under its number and the catalogue's "(continued)" wording.
Parts are numbered "(1/3)" when there is more than one.
"""
from __future__ import annotations

import unicodedata

from flows.matching import Words
from flows.model import CHOICE, END, QUESTION_TYPES, SCALE, YES_NO, Flow, Step

LINE_KEY = "flow.readback.line"  # "{number}. {label}: {answer}"
CONTINUED_KEY = "flow.readback.continued"  # "(continued)\n{summary}"
SKIPPED_KEY = "flow.answer.skipped"
SCALE_KEY = "flow.answer.scale"
MORE = "..."  # three dots, not "…": one non-GSM character would make the whole SMS UCS-2
MIN_PIECE = 20  # fewest characters of an answer worth starting at the end of a part


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


def summary_items(flow: Flow, path: list[str], answers: dict) -> list[dict]:
    """One numbered line per labelled answer on the path, as data: step, number, label key, answer."""
    items: list[dict] = []
    for step_id in path:
        step = flow.steps[step_id]
        if step.label:
            items.append({"step": step_id, "number": len(items) + 1, "label": step.label,
                          "answer": _answer(step, answers[step_id])})
    return items


def _answer(step: Step, record: dict) -> dict:
    # A catalogue key where the answer has a name in every language; otherwise the parent's words.
    value, status = record["value"], record["status"]
    if status == "skipped":
        return {"key": SKIPPED_KEY}
    if status == "answered" and step.type == YES_NO:
        return {"key": f"flow.answer.{value}"}
    if status == "answered" and step.type == CHOICE and step.choice(value):
        return {"key": step.choice(value).label}
    if status == "answered" and step.type == SCALE:
        return {"key": SCALE_KEY, "values": {"value": value}}
    return {"text": " ".join((value or "").split())}  # one line in the summary; every word kept


def split_summary(items: list[dict], words: Words, values: dict, max_chars: int) -> list[dict]:
    """The items packed into parts whose rendered summary (in `words`' language) fits max_chars.

    Each part is {"part": k, "parts": n, "lines": [...]}, plain JSON for Message.template_values.
    A label with a named answer longer than max_chars stands alone (it cannot be cut).
    """
    reserve = 0
    while True:  # the "(k/n)" heading takes room, and how much depends on n
        packed = _pack(items, words, values, max_chars - reserve)
        needed = len(_heading(len(packed), len(packed))) + 1 if len(packed) > 1 else 0
        if needed <= reserve:
            return [{"part": number, "parts": len(packed), "lines": lines}
                    for number, lines in enumerate(packed, start=1)]
        reserve = needed


def _pack(items: list[dict], words: Words, values: dict, width: int) -> list[list[dict]]:
    parts: list[list[dict]] = [[]]
    used = 0  # characters of the current part, lines joined by newlines

    def add(line: dict) -> None:
        nonlocal used
        used += (1 if parts[-1] else 0) + len(render_line(line, words, values))
        parts[-1].append(line)

    def new_part() -> None:
        nonlocal used
        parts.append([])
        used = 0

    for item in items:
        line, rest = item, item["answer"].get("text")
        while True:
            whole = line if rest is None else {**line, "answer": {"text": rest}}
            length, free = len(render_line(whole, words, values)), width - used - (1 if parts[-1] else 0)
            if length <= free:
                add(whole)
                break
            if parts[-1] and (rest is None or length <= width):
                new_part()  # it fits a part of its own: never cut an answer that need not be
                continue
            if rest is None:
                add(whole)
                break
            room = free - len(render_line({**line, "answer": {"text": ""}, "more": True}, words, values))
            if room < MIN_PIECE and parts[-1]:
                new_part()
                continue
            cut = _cut(rest, max(room, MIN_PIECE))
            if cut >= len(rest):  # a limit too small to cut usefully: keep the answer whole
                add(whole)
                break
            add({**line, "answer": {"text": rest[:cut].rstrip()}, "more": True})
            line, rest = {**item, "continued": True}, rest[cut:].lstrip()
            new_part()
    return [lines for lines in parts if lines]


def _cut(text: str, limit: int) -> int:
    # At the last space in the second half of the room; else mid-word (long links, Chinese), but
    # never between a letter and its accent or vowel sign.
    space = text.rfind(" ", limit // 2, limit + 1)
    if space > 0:
        return space
    cut = min(limit, len(text))
    while 1 < cut < len(text) and unicodedata.category(text[cut]).startswith("M"):
        cut -= 1
    return cut


def _heading(part: int, parts: int) -> str:
    return f"({part}/{parts})"


def render_summary(part: dict, words: Words, values: dict) -> str:
    """One part of the summary in `words`' language: "(k/n)" when there are several, then its lines."""
    heading = [_heading(part["part"], part["parts"])] if part["parts"] > 1 else []
    return "\n".join(heading + [render_line(line, words, values) for line in part["lines"]])


def render_line(line: dict, words: Words, values: dict) -> str:
    """One numbered line: label and answer in `words`' language, the parent's own words as written."""
    label = words.text(line["label"], values)
    if line.get("continued"):
        # The catalogue's "(continued)" comes as "(continued)\n{summary}"; its wording alone marks the line.
        label = f"{label} {words.text(CONTINUED_KEY, {'summary': ''}).strip()}"
    answer = line["answer"]
    shown = answer["text"] if "text" in answer else words.text(answer["key"], {**values, **answer.get("values", {})})
    if line.get("more"):
        shown += MORE
    return words.text(LINE_KEY, {**values, "number": line["number"], "label": label, "answer": shown})
