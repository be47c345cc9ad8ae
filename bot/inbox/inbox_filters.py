"""Filters on the conversation list: by language, unanswered for N days, assigned to me."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta, timezone

from sqlmodel import Session

from bot.inbox.queries import ConversationRow
from storage.models import utcnow


@dataclass
class InboxFilters:
    """What the list is filtered by (blank: everything)."""

    language: str = ""
    unanswered_days: int | None = None
    mine: bool = False

    @property
    def active(self) -> bool:
        """Whether any filter is on."""
        return bool(self.language or self.unanswered_days is not None or self.mine)


def _unanswered_for(row: ConversationRow, days: int) -> bool:
    """The parent wrote last, at least `days` days ago, and nobody has answered since."""
    last = row.last_message
    if last is None or last.direction != "inbound":
        return False
    when = last.created_at if last.created_at.tzinfo else last.created_at.replace(tzinfo=timezone.utc)
    return utcnow() - when >= timedelta(days=days)


def apply(session: Session, rows: list[ConversationRow], args, staff_id: int) -> tuple[list[ConversationRow], InboxFilters]:
    """The rows the filters in `args` keep, and the filters (for the form)."""
    days = args.get("unanswered", type=int)
    filters = InboxFilters(language=args.get("language", "")[:20], mine=args.get("mine") == "yes",
                           unanswered_days=days if days is not None and 0 <= days <= 365 else None)
    if filters.language:
        rows = [row for row in rows if row.guardian.preferred_language == filters.language]
    if filters.unanswered_days is not None:
        rows = [row for row in rows if _unanswered_for(row, filters.unanswered_days)]
    if filters.mine:
        rows = [row for row in rows if row.conversation.assigned_to_id == staff_id]
    return rows, filters
