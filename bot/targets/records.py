"""Targets as staff record them: add, edit and change status, every change kept as a revision
and audited (the audit names rows, never the text).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from storage.models import AuditEvent, Target, TargetRevision, utcnow

STATUSES = {"active": "Active", "achieved": "Achieved", "changed": "Changed (replaced by a new target)"}
MAX_TEXT_CHARS = 300  # one short sentence: it goes to families by SMS, translated
MAX_HELP_CHARS = 300
MAX_NOTES_CHARS = 2000
ADD_TARGET, EDIT_TARGET = "target.add", "target.edit"


@dataclass(frozen=True)
class TargetInput:
    """What staff typed for a target, checked (`clean_target` builds it)."""

    text: str
    help_at_home: str | None
    starts_on: date
    status: str
    school_notes: str | None


def _one_line(value: str | None) -> str:
    return " ".join((value or "").split())


def clean_target(text: str | None, help_at_home: str | None, starts_on: str | None, status: str | None,
                 school_notes: str | None) -> TargetInput:
    """Check a target form; ValueError says what to fix in plain words."""
    text, help_line = _one_line(text), _one_line(help_at_home)
    notes = (school_notes or "").replace("\r\n", "\n").strip()
    if not text:
        raise ValueError("Write the target: one short sentence, like \"Zain will ask an adult for help using his now/next card\".")
    if len(text) > MAX_TEXT_CHARS:
        raise ValueError(f"The target is {len(text)} characters; keep it under {MAX_TEXT_CHARS} (one short sentence).")
    if len(help_line) > MAX_HELP_CHARS:
        raise ValueError(f"\"How you can help at home\" is {len(help_line)} characters; the most is {MAX_HELP_CHARS}.")
    if len(notes) > MAX_NOTES_CHARS:
        raise ValueError(f"The school's notes are {len(notes)} characters; the most is {MAX_NOTES_CHARS}.")
    if (status or "active") not in STATUSES:
        raise ValueError("Choose the target's status: active, achieved or changed.")
    return TargetInput(text=text, help_at_home=help_line or None, starts_on=parse_day(starts_on or ""),
                       status=status or "active", school_notes=notes or None)


def parse_day(typed: str) -> date:
    """A date typed day first (03/12/2026) or as the browser's date field sends it (2026-12-03)."""
    cleaned = typed.strip()
    for separator in "/.-":
        parts = cleaned.split(separator)
        if len(parts) == 3 and all(part.isdigit() for part in parts):
            try:
                if len(parts[0]) == 4:
                    return date(int(parts[0]), int(parts[1]), int(parts[2]))
                if len(parts[2]) == 4:
                    return date(int(parts[2]), int(parts[1]), int(parts[0]))
            except ValueError:
                break
    raise ValueError(f"{cleaned!r} is not a date: write it day first, like 03/12/2026." if cleaned
                     else "Give a start date, day first, like 03/12/2026.")


def add_target(session: Session, school_id: int, child_id: int, typed: TargetInput, staff_id: int | None) -> Target:
    """Record a new target for a child (revision 1)."""
    target = Target(school_id=school_id, child_id=child_id, text=typed.text, help_at_home=typed.help_at_home,
                    starts_on=typed.starts_on, status=typed.status, school_notes=typed.school_notes)
    session.add(target)
    session.flush()
    _keep_revision(session, target, staff_id)
    session.add(AuditEvent(school_id=school_id, staff_user_id=staff_id, action=ADD_TARGET, target=f"target:{target.id}"))
    return target


def edit_target(session: Session, target: Target, typed: TargetInput, staff_id: int | None) -> bool:
    """Change a target; a new revision is kept only when something changed. True if it changed."""
    changed = (typed.text, typed.help_at_home, typed.starts_on, typed.status, typed.school_notes) != (
        target.text, target.help_at_home, target.starts_on, target.status, target.school_notes)
    if not changed:
        return False
    target.text, target.help_at_home, target.starts_on = typed.text, typed.help_at_home, typed.starts_on
    target.status, target.school_notes = typed.status, typed.school_notes
    target.revision += 1
    target.updated_at = utcnow()
    _keep_revision(session, target, staff_id)
    session.add(AuditEvent(school_id=target.school_id, staff_user_id=staff_id, action=EDIT_TARGET,
                           target=f"target:{target.id}"))
    return True


def _keep_revision(session: Session, target: Target, staff_id: int | None) -> None:
    session.add(TargetRevision(target_id=target.id, revision=target.revision, text=target.text,
                               help_at_home=target.help_at_home, starts_on=target.starts_on, status=target.status,
                               school_notes=target.school_notes, staff_user_id=staff_id))


def child_targets(session: Session, school_id: int, child_id: int) -> list[Target]:
    """A child's targets: active first, then by start date."""
    rows = session.exec(select(Target).where(Target.school_id == school_id, Target.child_id == child_id)
                        .order_by(Target.starts_on, Target.id)).all()
    return sorted(rows, key=lambda target: target.status != "active")


def active_targets(session: Session, child_id: int) -> list[Target]:
    """A child's active targets, oldest first (the order families see them in)."""
    return list(session.exec(select(Target).where(Target.child_id == child_id, Target.status == "active")
                             .order_by(Target.starts_on, Target.id)).all())


def get_target(session: Session, school_id: int, target_id: int) -> Target | None:
    """A target of this school, or None (also for another school's)."""
    return session.exec(select(Target).where(Target.id == target_id, Target.school_id == school_id)).first()


def revisions(session: Session, target_ids: list[int]) -> dict[int, list[TargetRevision]]:
    """Each target's history, newest first."""
    if not target_ids:
        return {}
    rows = session.exec(select(TargetRevision).where(TargetRevision.target_id.in_(target_ids))
                        .order_by(TargetRevision.revision.desc())).all()
    history: dict[int, list[TargetRevision]] = {}
    for row in rows:
        history.setdefault(row.target_id, []).append(row)
    return history
