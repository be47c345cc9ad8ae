"""Small hooks the shared inbox pages call from their templates, so those pages need no restructuring:

- `needs_reply()`: the school's conversations flagged as needing a reply (list and thread);
- `children_of(guardian_id)`: links from a conversation to its children's pages;
- `family_told_since(review)`: what the family told the school about the child's targets since the
  review before this one (review page and printed pack).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import g
from sqlmodel import select

from bot.inbox import bp
from bot.targets.family_view import Entry, TargetView, family_view, open_answers
from storage.db import session_scope
from storage.models import Child, ConversationFlag, GuardianChild, Review, Target


@dataclass(frozen=True)
class FamilyTold:
    """The family's view of each target (with anything said) and their open answers, since a time."""

    since: Review | None
    targets: list[TargetView]
    open_answers: list[Entry]

    @property
    def empty(self) -> bool:
        """Nothing was said in the period."""
        return not self.open_answers and not any(view.entries for view in self.targets)


@bp.app_template_global()
def needs_reply() -> dict[int, list[str]]:
    """conversation id -> why it needs a reply, for the signed-in school's open flags."""
    school = getattr(g, "school", None)
    if school is None:
        return {}
    with session_scope() as db:
        rows = db.exec(select(ConversationFlag).where(ConversationFlag.school_id == school.id,
                                                      ConversationFlag.cleared_at.is_(None))
                       .order_by(ConversationFlag.id)).all()
    reasons: dict[int, list[str]] = {}
    for row in rows:
        if row.reason not in reasons.setdefault(row.conversation_id, []):
            reasons[row.conversation_id].append(row.reason)
    return reasons


@bp.app_template_global()
def children_of(guardian_id: int) -> list[Child]:
    """The guardian's children in the signed-in school."""
    with session_scope() as db:
        return list(db.exec(select(Child).join(GuardianChild, GuardianChild.child_id == Child.id)
                            .where(GuardianChild.guardian_id == guardian_id, Child.school_id == g.school.id)
                            .order_by(Child.name)).all())


@bp.app_template_global()
def family_told_since(review: Review) -> FamilyTold:
    """What the family said about the child's targets since the child's previous review (all of it if none)."""
    with session_scope() as db:
        previous = db.exec(select(Review).where(Review.child_id == review.child_id, Review.school_id == g.school.id,
                                                Review.status != "cancelled", Review.starts_at < review.starts_at)
                           .order_by(Review.starts_at.desc())).first()
        since = previous.starts_at if previous else None
        targets = list(db.exec(select(Target).where(Target.child_id == review.child_id,
                                                    Target.school_id == g.school.id)
                               .order_by(Target.starts_on, Target.id)).all())
        views = [view for view in family_view(db, targets, since) if view.entries or view.target.status == "active"]
        return FamilyTold(since=previous, targets=views, open_answers=open_answers(db, review.child_id, since))
