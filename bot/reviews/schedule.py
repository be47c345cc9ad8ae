"""Reviews and their reminders: planned in the database when a review is made, re-planned
when it moves, cancelled with it, and sent by the sweep when due — each exactly once.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, select

from bot.conversation import flow_runs
from bot.language.i18n import format_datetime_for
from bot.messaging.outbound import parent_language, queue_catalogue_message
from bot.reviews.plan import parse_plan, plan_reminders, send_time_skip_reason
from storage.models import AuditEvent, Child, FlowRun, Guardian, GuardianChild, Reminder, Review, School, utcnow
from storage.queries import conversation_for

REVIEW_KINDS = {"sen_support": "SEN support review", "ehcp_annual": "EHCP annual review", "other": "Review"}


def guardians_of(session: Session, child_id: int) -> list[Guardian]:
    """Every guardian linked to a child."""
    return session.exec(select(Guardian).join(GuardianChild, GuardianChild.guardian_id == Guardian.id)
                        .where(GuardianChild.child_id == child_id).order_by(Guardian.id)).all()


def schedule_review(session: Session, school: School, child: Child, starts_at: datetime, kind: str,
                    location: str | None, staff_id: int | None) -> Review:
    """Create a review and plan its reminders for each of the child's guardians."""
    if kind not in REVIEW_KINDS:
        raise ValueError(f"unknown review kind {kind!r}")
    review = Review(school_id=school.id, child_id=child.id, starts_at=starts_at, kind=kind,
                    location=location, created_by_id=staff_id)
    session.add(review)
    session.flush()
    _plan(session, school, review)
    _audit(session, school.id, staff_id, "review.schedule", review.id)
    return review


def move_review(session: Session, review: Review, starts_at: datetime, staff_id: int | None) -> list[int]:
    """Move a review: old reminders are cancelled (never sent), new ones planned; families already
    told of the old time are told of the new one. Returns messages to send."""
    school = session.get(School, review.school_id)
    told = _cancel_planned(session, review, "The review moved.")
    review.starts_at, review.updated_at = starts_at, utcnow()
    _plan(session, school, review)
    _refresh_live_runs(session, review, school)
    _audit(session, school.id, staff_id, "review.move", review.id)
    return _notify(session, review, school, told, "review.moved")


def cancel_review(session: Session, review: Review, staff_id: int | None) -> list[int]:
    """Cancel a review and everything planned for it; tell families who had heard about it."""
    school = session.get(School, review.school_id)
    told = _cancel_planned(session, review, "The review was cancelled.")
    review.status, review.updated_at = "cancelled", utcnow()
    for run in session.exec(select(FlowRun).where(FlowRun.review_id == review.id,
                                                  FlowRun.status.in_(flow_runs.LIVE))):
        run.status, run.finished_at = "cancelled", utcnow()
    _audit(session, school.id, staff_id, "review.cancel", review.id)
    return _notify(session, review, school, told, "review.cancelled")


def _plan(session: Session, school: School, review: Review) -> None:
    plan = parse_plan(school.reminder_plan or None)
    for guardian in guardians_of(session, review.child_id):
        # A carer already asked for their views (before a move) is not asked again.
        planned = plan_reminders(review.starts_at, school.timezone, plan, utcnow(),
                                 contribution_already_requested=_requested(session, review, guardian.id))
        for item in planned:
            session.add(Reminder(school_id=school.id, review_id=review.id, guardian_id=guardian.id, kind=item.kind,
                                 due_at=item.due_at_utc, status="skipped" if item.skip_reason else "planned",
                                 status_note=item.skip_reason))


def _cancel_planned(session: Session, review: Review, note: str) -> set[int]:
    """Cancel what has not gone yet; return the guardians who already received something."""
    reminders = session.exec(select(Reminder).where(Reminder.review_id == review.id)).all()
    for reminder in reminders:
        if reminder.status == "planned":
            reminder.status, reminder.status_note = "cancelled", note
    return {r.guardian_id for r in reminders if r.status == "sent"}


def _requested(session: Session, review: Review, guardian_id: int) -> bool:
    return session.exec(select(Reminder.id).where(
        Reminder.review_id == review.id, Reminder.guardian_id == guardian_id, Reminder.status == "sent",
        Reminder.kind == "contribution_request")).first() is not None


def _refresh_live_runs(session: Session, review: Review, school: School) -> None:
    # Questions still under way name the meeting's date ("Can you come on {date}?"): the new one.
    runs = session.exec(select(FlowRun).where(FlowRun.review_id == review.id, FlowRun.status.in_(flow_runs.LIVE)))
    for run in runs:
        values = review_values(session, review, school, session.get(Guardian, run.guardian_id))
        run.state = {**run.state, "values": {**run.state.get("values", {}), **values}}


def request_views_now(session: Session, review: Review, school: School, guardian: Guardian,
                      staff_id: int | None) -> tuple[FlowRun | None, list[int]]:
    """Staff ask a carer for their views from the review page, instead of waiting for the reminder.

    The planned request becomes this one (so the sweep never asks twice, and a move knows the
    carer was asked); with none planned, a row is added so the review page shows it.
    """
    run, to_send = flow_runs.start_flow(session, guardian, school, "pre_review",
                                        review_values(session, review, school, guardian),
                                        review_id=review.id, staff_id=staff_id)
    if run is None:
        return None, []
    now, note = utcnow(), "Sent by hand from the review page."
    message_id = to_send[0] if to_send else None
    claimed = session.execute(
        update(Reminder).where(Reminder.review_id == review.id, Reminder.guardian_id == guardian.id,
                               Reminder.kind == "contribution_request", Reminder.status == "planned")
        .values(status="sent", status_note=note, due_at=now, message_id=message_id)).rowcount
    if not claimed:
        session.add(Reminder(school_id=review.school_id, review_id=review.id, guardian_id=guardian.id,
                             kind="contribution_request", due_at=now, status="sent", status_note=note,
                             message_id=message_id))
    return run, to_send


def _notify(session: Session, review: Review, school: School, guardian_ids: set[int], key: str) -> list[int]:
    sent = []
    for guardian_id in sorted(guardian_ids):
        guardian = session.get(Guardian, guardian_id)
        if guardian.opted_out or guardian.do_not_contact or not guardian.consent:
            continue
        values = review_values(session, review, school, guardian)
        sent.append(queue_catalogue_message(session, guardian, conversation_for(session, guardian), school,
                                            key, values).id)
    return sent


def review_values(session: Session, review: Review, school: School, guardian: Guardian) -> dict:
    """Placeholders for review messages, with the date written in the guardian's language.

    `starts_at` rides along so staff-facing copies can write the date in the staff language.
    """
    language = parent_language(guardian, school)
    return {"school": school.name, "child": session.get(Child, review.child_id).name.split()[0],
            "date": format_datetime_for(review.starts_at, language, school.timezone),
            "starts_at": review.starts_at.isoformat(), "place": review.location or school.name}


def due_reminder_ids(session: Session, now: datetime) -> list[int]:
    """Reminders whose time has come and which have not gone yet, oldest first."""
    return session.exec(select(Reminder.id).where(Reminder.status == "planned", Reminder.due_at <= now)
                        .order_by(Reminder.due_at, Reminder.id)).all()


def send_reminders(session: Session, reminder_ids: list[int], now: datetime) -> list[int]:
    """Turn these reminders into messages, each at most once; returns the messages to send.

    Rows another worker holds are skipped (it is sending them); a row already sent is left.
    """
    due = session.exec(select(Reminder).where(Reminder.id.in_(reminder_ids), Reminder.status == "planned",
                                              Reminder.due_at <= now)
                       .order_by(Reminder.id).with_for_update(skip_locked=True)).all()
    to_send: list[int] = []
    for reminder in due:
        to_send += _send_reminder(session, reminder, now)
    return to_send


def _send_reminder(session: Session, reminder: Reminder, now: datetime) -> list[int]:
    # The compare-and-set keeps a reminder to one send even where row locks are not available
    # (SQLite); `synchronize_session=False` keeps it O(1) in a session holding many rows.
    claimed = session.execute(update(Reminder).where(Reminder.id == reminder.id, Reminder.status == "planned")
                              .values(status="sent").execution_options(synchronize_session=False)).rowcount == 1
    if not claimed:
        return []
    reminder.status = "sent"
    review = session.get(Review, reminder.review_id)
    guardian = session.get(Guardian, reminder.guardian_id)
    school = session.get(School, reminder.school_id)
    skip = _skip_reason(reminder, review, guardian, now)
    if skip:
        reminder.status, reminder.status_note = "skipped", skip
        return []
    values = review_values(session, review, school, guardian)
    flow_id = "pre_review" if reminder.kind == "contribution_request" else "review_reminder"
    run, to_send = flow_runs.start_flow(session, guardian, school, flow_id, values, review_id=review.id)
    if run is None:  # the parent is in the middle of another flow: a plain reminder, no question
        if reminder.kind == "contribution_request":
            reminder.status, reminder.status_note = "skipped", "The parent was answering other questions."
            return []
        to_send = [queue_catalogue_message(session, guardian, conversation_for(session, guardian), school,
                                           "review.reminder.info", values).id]
    reminder.message_id = to_send[0] if to_send else None
    return to_send


def _skip_reason(reminder: Reminder, review: Review, guardian: Guardian, now: datetime) -> str | None:
    if review.status != "scheduled":
        return "The review is no longer scheduled."
    if guardian.opted_out:
        return "The parent has opted out (STOP)."
    if guardian.do_not_contact or not guardian.consent or guardian.archived_at is not None:
        return "Staff marked this carer not to be contacted (do not contact, no consent, or archived)."
    return send_time_skip_reason(reminder.kind, reminder.due_at, review.starts_at, now)


def _audit(session: Session, school_id: int, staff_id: int | None, action: str, review_id: int) -> None:
    session.add(AuditEvent(school_id=school_id, staff_user_id=staff_id, action=action, target=f"review:{review_id}"))
