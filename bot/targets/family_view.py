"""The family's view of each target over time: check-in trends, their words, and replies to a share.

Built for the child's page and for the review pages (only what came in since a given time:
"what the family told us since the last review"). The chart is a small server-drawn SVG: one
line per carer, better at the top, harder at the bottom.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from sqlmodel import Session, select

from storage.models import CheckInAnswer, Guardian, GuardianChild, Message, Target, TargetShare

TREND_WORDS = {1: "Better", 2: "About the same", 3: "Harder"}
CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 260, 84, 12
SERIES_COLOURS = ("#1d4ed8", "#b45309", "#047857", "#7c3aed")
_LEADING_NUMBER = re.compile(r"^\s*(\d{1,2})(?!\d)")


@dataclass(frozen=True)
class Entry:
    """One thing a carer said about a target on a day."""

    day: date
    guardian: Guardian
    trend: int | None
    message: Message | None
    source: str  # checkin | reply

    @property
    def trend_words(self) -> str:
        """'Better', 'About the same', 'Harder', or '' for words only."""
        return TREND_WORDS.get(self.trend or 0, "")


@dataclass(frozen=True)
class Point:
    """A dot on the chart."""

    x: float
    y: float
    label: str


@dataclass(frozen=True)
class Series:
    """One carer's line on the chart."""

    name: str
    colour: str
    points: list[Point]

    @property
    def path(self) -> str:
        """The SVG polyline's points."""
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass
class TargetView:
    """A target with everything the family said about it."""

    target: Target
    entries: list[Entry] = field(default_factory=list)

    @property
    def series(self) -> list[Series]:
        """The chart's lines, one per carer who gave a trend."""
        return chart_series(self.entries)

    @property
    def width(self) -> int:
        """Chart width in pixels."""
        return CHART_WIDTH

    @property
    def height(self) -> int:
        """Chart height in pixels."""
        return CHART_HEIGHT

    def y_of(self, trend: int) -> float:
        """Where a trend sits on the chart (for the axis labels)."""
        return _y(trend)


def _y(trend: int) -> float:
    return CHART_PAD + (trend - 1) * (CHART_HEIGHT - 2 * CHART_PAD) / 2


def chart_series(entries: list[Entry]) -> list[Series]:
    """Place each carer's trends in time: the first answer at the left, the latest at the right."""
    trended = [entry for entry in entries if entry.trend]
    if not trended:
        return []
    first, last = min(e.day for e in trended), max(e.day for e in trended)
    span = max((last - first).days, 1)
    left, right = CHART_PAD + 40, CHART_WIDTH - CHART_PAD
    by_carer: dict[int, list[Entry]] = {}
    for entry in sorted(trended, key=lambda e: (e.day, e.message.id if e.message else 0)):
        by_carer.setdefault(entry.guardian.id, []).append(entry)
    series = []
    for index, rows in enumerate(by_carer.values()):
        points = [Point(left + (right - left) * ((row.day - first).days / span if len(trended) > 1 else 0.5),
                        _y(row.trend), f"{row.day.strftime('%d/%m/%Y')}: {row.trend_words}") for row in rows]
        series.append(Series(rows[0].guardian.name or "Carer", SERIES_COLOURS[index % len(SERIES_COLOURS)], points))
    return series


def family_view(session: Session, targets: list[Target], since: datetime | None = None) -> list[TargetView]:
    """Each target with its check-in answers and replies to shares (oldest first), optionally since a time."""
    views = {target.id: TargetView(target) for target in targets}
    if not views:
        return []
    query = select(CheckInAnswer).where(CheckInAnswer.target_id.in_(list(views))).order_by(CheckInAnswer.id)
    if since is not None:
        query = query.where(CheckInAnswer.created_at >= since)
    answers = session.exec(query).all()
    messages = _messages(session, [a.message_id for a in answers if a.message_id])
    guardians: dict[int, Guardian] = {}
    for answer in answers:
        guardian = guardians.setdefault(answer.guardian_id, session.get(Guardian, answer.guardian_id))
        views[answer.target_id].entries.append(Entry(answer.answered_on, guardian, answer.trend,
                                                     messages.get(answer.message_id), "checkin"))
    for target_id, entry in share_replies(session, list(views), since):
        views[target_id].entries.append(entry)
    for view in views.values():
        view.entries.sort(key=lambda e: (e.day, e.message.id if e.message else 0))
    return [views[target.id] for target in targets]


def open_answers(session: Session, child_id: int, since: datetime | None = None) -> list[Entry]:
    """What carers told the school in the check-ins' open question ("Anything the school should know?")."""
    query = select(CheckInAnswer).where(CheckInAnswer.child_id == child_id, CheckInAnswer.target_id.is_(None))
    if since is not None:
        query = query.where(CheckInAnswer.created_at >= since)
    rows = session.exec(query.order_by(CheckInAnswer.id)).all()
    messages = _messages(session, [row.message_id for row in rows if row.message_id])
    return [Entry(row.answered_on, session.get(Guardian, row.guardian_id), None, messages.get(row.message_id),
                  "checkin") for row in rows if row.message_id in messages]


def share_replies(session: Session, target_ids: list[int], since: datetime | None = None) -> list[tuple[int, Entry]]:
    """Replies to a share that start with a target's number ("1 he does this at home too").

    A reply counts for the share the carer received last before it; replies that name no number
    stay in the inbox only (staff read those there).
    """
    shares = session.exec(select(TargetShare).where(TargetShare.target_id.in_(target_ids))
                          .order_by(TargetShare.created_at, TargetShare.id)).all()
    by_guardian: dict[int, list[TargetShare]] = {}
    for share in shares:
        by_guardian.setdefault(share.guardian_id, []).append(share)
    found: list[tuple[int, Entry]] = []
    for guardian_id, rows in by_guardian.items():
        first = min(_aware(row.created_at) for row in rows)
        query = select(Message).where(Message.guardian_id == guardian_id, Message.direction == "inbound",
                                      Message.kind == "text", Message.created_at >= max(first, since or first))
        guardian = session.get(Guardian, guardian_id)
        for message in session.exec(query.order_by(Message.id)).all():
            number = _LEADING_NUMBER.match(message.body or "")
            earlier = [row for row in rows if _aware(row.created_at) <= _aware(message.created_at)]
            if not number or not earlier:
                continue
            last_message = earlier[-1].message_id
            named = [row for row in earlier if row.message_id == last_message and row.number == int(number[1])]
            if named:
                found.append((named[0].target_id, Entry(_aware(message.created_at).date(), guardian, None,
                                                        message, "reply")))
    return found


def carers_of(session: Session, child_id: int) -> list[Guardian]:
    """The child's carers, in the order they were linked."""
    return list(session.exec(select(Guardian).join(GuardianChild, GuardianChild.guardian_id == Guardian.id)
                             .where(GuardianChild.child_id == child_id).order_by(Guardian.id)).all())


def _messages(session: Session, ids: list[int]) -> dict[int, Message]:
    if not ids:
        return {}
    return {m.id: m for m in session.exec(select(Message).where(Message.id.in_(ids))).all()}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # SQLite: naive UTC
