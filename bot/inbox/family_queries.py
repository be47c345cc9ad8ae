"""Queries behind the families pages. Every one takes the school id; none commits."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, or_
from sqlmodel import Session, select

from storage.models import Child, Guardian, GuardianChild


@dataclass
class Family:
    """A child and their carers (with each carer's relationship to the child)."""

    child: Child
    carers: list[tuple[Guardian, str | None]] = field(default_factory=list)


def families(session: Session, school_id: int, search: str = "") -> tuple[list[Family], list[Guardian]]:
    """The school's children with their carers, and carers linked to no child; both searchable by name."""
    pattern = f"%{search.strip().lower()}%"
    children = select(Child).where(Child.school_id == school_id, Child.archived_at.is_(None))
    if search.strip():
        matching_carers = (select(GuardianChild.child_id).join(Guardian, Guardian.id == GuardianChild.guardian_id)
                           .where(Guardian.school_id == school_id, func.lower(Guardian.name).like(pattern)))
        children = children.where(or_(func.lower(Child.name).like(pattern), Child.id.in_(matching_carers)))
    found = [Family(child) for child in session.exec(children.order_by(Child.name, Child.id)).all()]
    by_id = {family.child.id: family for family in found}
    if by_id:
        links = session.exec(
            select(GuardianChild, Guardian).join(Guardian, Guardian.id == GuardianChild.guardian_id)
            .where(GuardianChild.child_id.in_(list(by_id)), Guardian.school_id == school_id,
                   Guardian.archived_at.is_(None)).order_by(Guardian.name))
        for link, guardian in links:
            by_id[link.child_id].carers.append((guardian, link.relationship))
    linked = select(GuardianChild.guardian_id)
    alone = select(Guardian).where(Guardian.school_id == school_id, Guardian.known, Guardian.archived_at.is_(None),
                                   Guardian.id.not_in(linked))
    if search.strip():
        alone = alone.where(func.lower(Guardian.name).like(pattern))
    return found, list(session.exec(alone.order_by(Guardian.name)).all())


def get_child(session: Session, school_id: int, child_id: int) -> Child | None:
    """A child of this school, or None (also for another school's)."""
    return session.exec(select(Child).where(Child.id == child_id, Child.school_id == school_id)).first()


def carers_of(session: Session, school_id: int, child_id: int) -> list[tuple[Guardian, str | None]]:
    """A child's carers (not archived) with their relationship."""
    return list(session.exec(
        select(Guardian, GuardianChild.relationship).join(GuardianChild, GuardianChild.guardian_id == Guardian.id)
        .where(GuardianChild.child_id == child_id, Guardian.school_id == school_id, Guardian.archived_at.is_(None))
        .order_by(Guardian.name)).all())


def children_of(session: Session, school_id: int, guardian_id: int) -> list[tuple[Child, str | None]]:
    """A carer's children with the carer's relationship to each."""
    return list(session.exec(
        select(Child, GuardianChild.relationship).join(GuardianChild, GuardianChild.child_id == Child.id)
        .where(GuardianChild.guardian_id == guardian_id, Child.school_id == school_id).order_by(Child.name)).all())
