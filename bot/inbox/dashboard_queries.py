"""The numbers behind the dashboard, each a plain count from the school's own rows.

- families reached: carers (not archived) with a message delivered or read in the last 30 days;
- response to reminders: sent reminders (and requests for views) followed by any message from
  that carer within 7 days, by the carer's language and by channel;
- question flows: started flows that completed, by language;
- contributions before reviews this term: reviews this term whose family finished the questions;
- failing deliveries: messages that did not arrive in the last 30 days.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import and_, func
from sqlmodel import Session, select

from storage.models import FlowRun, Guardian, Message, Reminder, Review, utcnow

WINDOW = timedelta(days=30)
ANSWER_WITHIN = timedelta(days=7)


@dataclass
class Bar:
    """One bar of a chart: what it counts, how many of how many."""

    label: str
    count: int
    total: int

    @property
    def percent(self) -> int:
        """count / total, in whole percent (0 when there is nothing to count)."""
        return round(100 * self.count / self.total) if self.total else 0


@dataclass
class Dashboard:
    """Everything the dashboard page draws."""

    reached: Bar
    failing: int
    reminders_by_language: list[Bar] = field(default_factory=list)
    reminders_by_channel: list[Bar] = field(default_factory=list)
    flows_by_language: list[Bar] = field(default_factory=list)
    contributions: Bar | None = None


def term_start(today: date) -> date:
    """The first day of the English school term `today` falls in (September, January or April/Easter)."""
    if today.month >= 9:
        return date(today.year, 9, 1)
    if today.month >= 4:
        return date(today.year, 4, 1)
    return date(today.year, 1, 1)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _bars(counts: dict[str, list[int]], name) -> list[Bar]:
    return sorted((Bar(name(key), done, total) for key, (done, total) in counts.items()),
                  key=lambda bar: (-bar.total, bar.label))


def build(session: Session, school_id: int, language_name, channel_name) -> Dashboard:
    """The dashboard's numbers for one school."""
    now = utcnow()
    carers = session.exec(select(Guardian).where(Guardian.school_id == school_id, Guardian.known,
                                                 Guardian.archived_at.is_(None))).all()
    reached_ids = set(session.exec(select(Message.guardian_id).where(
        Message.school_id == school_id, Message.direction == "outbound", Message.status.in_(("delivered", "read")),
        Message.created_at >= now - WINDOW)).all())
    failing = session.exec(select(func.count(Message.id)).where(
        Message.school_id == school_id, Message.direction == "outbound", Message.status.in_(("failed", "undelivered")),
        Message.created_at >= now - WINDOW)).one()
    dashboard = Dashboard(Bar("Families reached", len({c.id for c in carers} & reached_ids), len(carers)), failing)
    language_of = {c.id: c.preferred_language for c in carers}
    _reminders(session, school_id, dashboard, language_of, language_name, channel_name)
    _flows(session, school_id, dashboard, language_name)
    return dashboard


def _reminders(session, school_id, dashboard, language_of, language_name, channel_name) -> None:
    sent = session.exec(select(Reminder, Message).join(Message, Message.id == Reminder.message_id).where(
        Reminder.school_id == school_id, Reminder.status == "sent")).all()
    inbound = session.exec(select(Message.guardian_id, Message.created_at).where(
        Message.school_id == school_id, Message.direction == "inbound")).all()
    by_guardian: dict[int, list[datetime]] = {}
    for guardian_id, created in inbound:
        by_guardian.setdefault(guardian_id, []).append(_aware(created))
    by_language: dict[str, list[int]] = {}
    by_channel: dict[str, list[int]] = {}
    for reminder, message in sent:
        at = _aware(message.created_at)
        answered = any(at < when <= at + ANSWER_WITHIN for when in by_guardian.get(reminder.guardian_id, []))
        for counts, key in ((by_language, language_of.get(reminder.guardian_id) or ""), (by_channel, message.channel)):
            pair = counts.setdefault(key, [0, 0])
            pair[0] += answered
            pair[1] += 1
    dashboard.reminders_by_language = _bars(by_language, language_name)
    dashboard.reminders_by_channel = _bars(by_channel, channel_name)


def _flows(session, school_id, dashboard, language_name) -> None:
    runs = session.exec(select(FlowRun.language, FlowRun.status).where(FlowRun.school_id == school_id)).all()
    by_language: dict[str, list[int]] = {}
    for language, status in runs:
        pair = by_language.setdefault(language or "", [0, 0])
        pair[0] += status == "completed"
        pair[1] += 1
    dashboard.flows_by_language = _bars(by_language, language_name)
    start = datetime.combine(term_start(utcnow().date()), time(0), timezone.utc)
    reviews = session.exec(select(Review.id).where(Review.school_id == school_id, Review.status != "cancelled",
                                                   Review.starts_at >= start)).all()
    with_views = session.exec(select(func.count(func.distinct(FlowRun.review_id))).where(
        and_(FlowRun.school_id == school_id, FlowRun.status == "completed", FlowRun.review_id.in_(reviews or [0])))).one()
    dashboard.contributions = Bar("Reviews this term with the family's views", with_views, len(reviews))
