"""Importing families from a school MIS export (SIMS, Arbor): read, check every row, then import.

`plan_import` checks each row against the file and the school's data and says, in words, what
will happen to it; `apply_plan` imports every valid row in the caller's transaction (the caller
commits once: nothing is half-imported). A row already imported changes nothing, so importing
the same file again adds nothing.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import Session, select

from bot.inbox.family_forms import phone_problem, send_status, year_group
from bot.inbox.languages import language_from_name
from bot.language.i18n import english_name
from storage.models import Child, Conversation, Guardian, GuardianChild, School

MAX_ROWS = 5000
# Column headings as MIS exports write them (lower case, spaces collapsed) → our field.
HEADINGS = {
    "child": ("child name", "child", "pupil name", "pupil", "student name", "learner name", "name"),
    "child_first": ("legal forename", "forename", "child forename", "first name", "preferred forename"),
    "child_last": ("legal surname", "surname", "child surname", "last name", "preferred surname"),
    "year": ("year group", "year", "nc year", "curriculum year", "year taught in"),
    "sen": ("sen status", "send status", "sen provision", "sen", "send"),
    "carer": ("carer name", "contact name", "parent name", "parent/carer name", "carer", "contact", "parent"),
    "relationship": ("relationship", "relationship to pupil", "contact relationship", "relation"),
    "phone": ("phone", "mobile", "mobile phone", "contact mobile", "telephone", "phone number", "mobile number",
              "contact telephone"),
    "language": ("language", "home language", "first language", "contact language", "main language",
                 "preferred language"),
}


class ImportFileProblem(ValueError):
    """The file as a whole cannot be read (not CSV, no header we recognise, too many rows)."""


@dataclass
class RowPlan:
    """One row of the file and what importing it will do."""

    number: int  # the row's line in the file (the header is line 1)
    child: str
    year: str | None
    sen: str | None
    carer: str
    relationship: str | None
    phone: str | None
    language: str | None
    language_written: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    outcome: str = ""  # new family | new carer | already here | (empty when there are problems)

    @property
    def ok(self) -> bool:
        """Imported (True) or left out (False)."""
        return not self.problems


@dataclass
class ImportPlan:
    """Every row checked, and the totals for the summary."""

    rows: list[RowPlan]

    @property
    def valid(self) -> list[RowPlan]:
        """Rows that will be imported."""
        return [row for row in self.rows if row.ok]

    @property
    def invalid(self) -> list[RowPlan]:
        """Rows that will be left out, each with its reasons."""
        return [row for row in self.rows if not row.ok]

    @property
    def languages(self) -> list[str]:
        """The languages of the valid rows, by English name."""
        return sorted({english_name(row.language) for row in self.valid if row.language})


def _columns(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    normalised = [" ".join(cell.strip().lower().replace("_", " ").split()) for cell in header]
    for key, names in HEADINGS.items():
        for name in names:
            if name in normalised:
                found[key] = normalised.index(name)
                break
    return found


def read_rows(text: str) -> list[tuple[int, dict[str, str]]]:
    """(line number, {field: text}) for each non-empty row; raise ImportFileProblem for an unreadable file."""
    try:
        table = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    except csv.Error:
        raise ImportFileProblem("This file is not a CSV file we can read. Export it again as CSV.") from None
    if not table:
        raise ImportFileProblem("The file is empty.")
    columns = _columns(table[0])
    has_child = "child" in columns or "child_first" in columns
    missing = [words for key, words in (("phone", "phone or mobile"), ("carer", "carer or contact name"))
               if key not in columns] + ([] if has_child else ["child name"])
    if missing:
        raise ImportFileProblem("The first row must name the columns. Missing: " + ", ".join(missing) + ".")
    if len(table) - 1 > MAX_ROWS:
        raise ImportFileProblem(f"The file has {len(table) - 1} rows; import at most {MAX_ROWS} at a time.")
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        row = {key: (cells[index].strip() if index < len(cells) else "") for key, index in columns.items()}
        if not row.get("child"):
            row["child"] = " ".join(filter(None, (row.get("child_first", ""), row.get("child_last", ""))))
        rows.append((number, row))
    return rows


def _existing(session: Session, school_id: int):
    children = {(c.name.lower(), c.year_group): c for c in session.exec(
        select(Child).where(Child.school_id == school_id, Child.archived_at.is_(None)))}
    carers = {g.phone: g for g in session.exec(select(Guardian).where(Guardian.school_id == school_id))}
    links = set(session.exec(select(GuardianChild.guardian_id, GuardianChild.child_id)
                             .join(Child, Child.id == GuardianChild.child_id).where(Child.school_id == school_id)))
    return children, carers, links


def plan_import(session: Session, school: School, text: str) -> ImportPlan:
    """Check every row: its own fields, against the other rows, and against the school's families."""
    children, carers, links = _existing(session, school.id)
    seen_rows: dict[tuple, int] = {}
    phone_names: dict[str, tuple[str, int]] = {}
    phone_children: dict[str, list[tuple[str, int]]] = {}
    plans = []
    for number, raw in read_rows(text):
        written_language = raw.get("language", "")
        row = RowPlan(number=number, child=raw.get("child", "")[:120], year=year_group(raw.get("year")),
                      sen=send_status(raw.get("sen")), carer=raw.get("carer", "")[:120],
                      relationship=raw.get("relationship", "")[:60] or None, phone=None,
                      language=language_from_name(written_language), language_written=written_language)
        if not row.child:
            row.problems.append("No child name.")
        if not row.carer:
            row.problems.append("No carer name.")
        row.phone, problem = phone_problem(raw.get("phone", ""), school.default_region)
        if problem:
            row.problems.append(problem if raw.get("phone") else "No phone number.")
        if written_language and row.language is None:
            row.problems.append(f"“{written_language}” is not a language we recognise: write its English name.")
        elif written_language and english_name(row.language).lower() != written_language.strip().lower():
            row.notes.append(f"“{written_language}” read as {english_name(row.language)}.")
        if raw.get("sen") and row.sen is None and raw["sen"].strip().lower() not in ("n", "none", "no", "-"):
            row.notes.append(f"SEN status “{raw['sen']}” not recognised: left blank.")
        if not row.problems:
            _check_against_others(row, seen_rows, phone_names, phone_children, carers)
        if not row.problems:
            row.outcome = _outcome(row, children, carers, links)
            first = phone_children[row.phone][0][1]
            if first != row.number and row.outcome in ("new family", "new carer"):
                row.outcome = f"new child, with the carer of row {first}"
        plans.append(row)
    return ImportPlan(plans)


def _check_against_others(row: RowPlan, seen_rows, phone_names, phone_children, carers) -> None:
    key = (row.child.lower(), row.year, row.phone)
    if key in seen_rows:
        row.problems.append(f"The same child and carer as row {seen_rows[key]}: imported once, from that row.")
        return
    seen_rows[key] = row.number
    earlier = phone_names.get(row.phone)
    if earlier and earlier[0].lower() != row.carer.lower():
        row.problems.append(f"Row {earlier[1]} gives this number to {earlier[0]}. Each carer needs their own number.")
        return
    existing = carers.get(row.phone)
    if existing is not None and existing.known and existing.name and existing.name.lower() != row.carer.lower():
        row.problems.append(f"This number already belongs to {existing.name} at your school.")
        return
    phone_names.setdefault(row.phone, (row.carer, row.number))
    for sibling, sibling_row in phone_children.get(row.phone, []):
        row.notes.append(f"{row.carer} is also the carer of {sibling} (row {sibling_row}): one carer, both children.")
    phone_children.setdefault(row.phone, []).append((row.child, row.number))


def _outcome(row: RowPlan, children, carers, links) -> str:
    child = children.get((row.child.lower(), row.year))
    carer = carers.get(row.phone)
    if child is not None and carer is not None and (carer.id, child.id) in links:
        return "already here"
    if carer is not None and carer.known:
        return "carer already here: linked to this child"
    return "new carer" if child is not None else "new family"


def apply_plan(session: Session, school: School, plan: ImportPlan) -> dict[str, int]:
    """Import every valid row in the caller's transaction; return counts for the summary."""
    children, carers, links = _existing(session, school.id)
    counts = {"children": 0, "carers": 0, "links": 0, "unchanged": 0, "left_out": len(plan.invalid)}
    for row in plan.valid:
        child = children.get((row.child.lower(), row.year))
        if child is None:
            child = Child(school_id=school.id, name=row.child, year_group=row.year, send_status=row.sen)
            session.add(child)
            session.flush()
            children[(row.child.lower(), row.year)] = child
            counts["children"] += 1
        carer = carers.get(row.phone)
        if carer is None or not carer.known:
            carer = _new_carer(session, school, row, carer)
            carers[row.phone] = carer
            counts["carers"] += 1
        elif carer.preferred_language is None and row.language:
            carer.preferred_language = row.language  # fills a gap; never overwrites a staff correction
        if (carer.id, child.id) in links:
            counts["unchanged"] += 1
            continue
        session.add(GuardianChild(guardian_id=carer.id, child_id=child.id, relationship=row.relationship))
        links.add((carer.id, child.id))
        counts["links"] += 1
    session.flush()
    return counts


def _new_carer(session: Session, school: School, row: RowPlan, unknown: Guardian | None) -> Guardian:
    """A new carer, or the unknown sender who already wrote from this number, now named."""
    carer = unknown or Guardian(school_id=school.id, phone=row.phone)
    carer.name, carer.known, carer.preferred_language = row.carer, True, row.language or carer.preferred_language
    session.add(carer)
    session.flush()
    exists = session.exec(select(func.count(Conversation.id)).where(Conversation.guardian_id == carer.id)).one()
    if not exists:
        session.add(Conversation(school_id=school.id, guardian_id=carer.id))
    return carer
