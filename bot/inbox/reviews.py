"""Review pages: the school's reviews, scheduling, moving and cancelling one, who has been
reached, asking a family for their views by hand, and what they said (on screen and printed).

Staff type and read times day first in the school's timezone ("Thu 3 Dec 2026, 15:30").
Each change is one transaction; the messages it produces go to the worker after the commit.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import abort, current_app, flash, g, make_response, redirect, render_template, request, url_for

from bot.inbox import audit, bp
from bot.inbox.auth import login_required
from bot.inbox.contribution import build_contribution, flow_banner
from bot.inbox.display import guardian_label
from bot.inbox.review_queries import (CONTRIBUTION_FLOW, contribution_runs, families_told, get_child, get_review,
                                      past_reviews, school_children, school_guardians_of,
                                      upcoming_reviews, who_was_reached)
from bot.inbox.safety import parse_id
from bot.reviews.plan import format_uk_datetime, parse_uk_datetime
from bot.reviews.schedule import REVIEW_KINDS, cancel_review, move_review, request_views_now, review_values, schedule_review
from storage.db import session_scope
from storage.models import Child, Guardian, Review, utcnow

MAX_PLACE_CHARS = 300
CONFIRMED = "yes"
VIEW_REVIEW, PRINT_CONTRIBUTION, ASK_FOR_VIEWS = "view_review", "print_contribution", "ask_for_views"
REMINDER_KINDS = {"contribution_request": "Request for your views", "reminder": "Reminder"}
REMINDER_STATUSES = {"planned": "Planned", "sent": "Sent", "skipped": "Skipped", "cancelled": "Cancelled"}
REPLY_WORDS = {"attending": "Will attend", "another_time": "Needs another time"}


def _as_utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; they are UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _is_upcoming(review: Review) -> bool:
    return review.status == "scheduled" and _as_utc(review.starts_at) > utcnow()


@bp.app_template_filter("uk_datetime")
def uk_datetime(moment: datetime | None, school) -> str:
    """A stored UTC time as UK staff read it, in the school's timezone: 'Thu 3 Dec 2026, 15:30'."""
    return format_uk_datetime(_as_utc(moment), school.timezone) if moment is not None else ""


@bp.app_template_filter("review_kind")
def review_kind(kind: str) -> str:
    """'EHCP annual review' for 'ehcp_annual'."""
    return REVIEW_KINDS.get(kind, kind)


@bp.app_template_filter("reminder_kind")
def reminder_kind(kind: str) -> str:
    """'Request for your views' or 'Reminder'."""
    return REMINDER_KINDS.get(kind, kind)


@bp.app_template_filter("reminder_status")
def reminder_status(reminder) -> str:
    """'Planned', 'Sent', 'Skipped (the parent has opted out (STOP))', 'Cancelled (the review moved)'."""
    words = REMINDER_STATUSES.get(reminder.status, reminder.status)
    note = (reminder.status_note or "").strip().rstrip(".")
    if reminder.status in ("skipped", "cancelled") and note:
        return f"{words} ({note[0].lower()}{note[1:]})"
    return words


@bp.app_template_filter("reply_words")
def reply_words(value: str | None) -> str:
    """A one-tap reply to a reminder in words ('Will attend')."""
    return REPLY_WORDS.get(value or "", value or "")


def _not_found(detail: str = "There is no such review in your school."):
    abort(make_response(render_template("error.html", title="Not found", detail=detail), 404))


def _load_review(db, review_id: int) -> Review:
    return get_review(db, g.school.id, review_id) or _not_found()


def _future_time(typed: str) -> datetime:
    """The typed day-first time in UTC; ValueError saying what to fix."""
    starts_at = parse_uk_datetime(typed, g.school.timezone)
    if starts_at <= utcnow():
        raise ValueError(f"{format_uk_datetime(starts_at, g.school.timezone)} has already passed: "
                         "choose a time still to come.")
    return starts_at


NOT_SCHEDULED = "This review is no longer scheduled ({status}). To meet again, schedule a new review."


def _require_scheduled(review: Review) -> None:
    if review.status != "scheduled":
        raise ValueError(NOT_SCHEDULED.format(status=review.status))


@bp.get("/reviews")
@login_required
def reviews():
    """Upcoming reviews, the form to schedule one, then past and cancelled reviews."""
    with session_scope() as db:
        return _reviews_page(db)


def _reviews_page(db, form=None, error: str | None = None, status: int = 200):
    now = utcnow()
    page = render_template("inbox/reviews.html", upcoming=upcoming_reviews(db, g.school.id, now),
                           past=past_reviews(db, g.school.id, now), children=school_children(db, g.school.id),
                           kinds=REVIEW_KINDS, form=form or {}, error=error, school=g.school)
    return page, status


def _form_child(db) -> Child:
    chosen = request.form.get("child", "")
    child_id = parse_id(chosen)
    child = get_child(db, g.school.id, child_id) if child_id else None
    if child is None:
        raise ValueError("Choose the child the review is for.")
    return child


def _form_kind_and_place() -> tuple[str, str | None]:
    kind = request.form.get("kind", "")
    if kind not in REVIEW_KINDS:
        raise ValueError("Choose the kind of review.")
    place = " ".join(request.form.get("location", "").split())
    if len(place) > MAX_PLACE_CHARS:
        raise ValueError(f"The place is {len(place)} characters; the most is {MAX_PLACE_CHARS}.")
    return kind, place or None


@bp.post("/reviews")
@login_required
def schedule():
    """Schedule a review; its reminders are planned at once for each of the child's carers."""
    with session_scope() as db:
        try:
            child = _form_child(db)
            starts_at = _future_time(request.form.get("starts_at", ""))
            kind, place = _form_kind_and_place()
        except ValueError as error:
            return _reviews_page(db, form=request.form, error=str(error), status=400)
        review = schedule_review(db, g.school, child, starts_at, kind, place, g.staff.id)
        review_id, carers = review.id, len(school_guardians_of(db, g.school.id, child.id))
    flash(f"Review scheduled for {uk_datetime(starts_at, g.school)}. "
          f"Reminders are planned for {carers} carer{'s' if carers != 1 else ''}.")
    return redirect(url_for("inbox.review", review_id=review_id))


@bp.get("/reviews/<int:review_id>")
@login_required
def review(review_id: int):
    """One review: details, who has been reached, and the family's contribution."""
    with session_scope() as db:
        found = _load_review(db, review_id)
        audit.record(db, g.school.id, g.staff.id, VIEW_REVIEW, f"review:{review_id}")
        return _review_page(db, found)


def _contributions(db, review: Review) -> list:
    flow = current_app.extensions["flows"][CONTRIBUTION_FLOW]
    built = []
    for run in contribution_runs(db, review):
        guardian = db.get(Guardian, run.guardian_id)
        built.append(build_contribution(db, flow, run, guardian, review_values(db, review, g.school, guardian)))
    return built


def _review_page(db, review: Review, *, template: str = "inbox/review.html", status: int = 200, **extra):
    reached = who_was_reached(db, review)
    flows = current_app.extensions["flows"]
    page = render_template(template, review=review, child=db.get(Child, review.child_id), reached=reached,
                           banners={e.guardian.id: flow_banner(db, e.guardian.id, flows) for e in reached},
                           contributions=_contributions(db, review), contribution_flow=CONTRIBUTION_FLOW,
                           upcoming=_is_upcoming(review), school=g.school, **extra)
    return page, status


@bp.post("/reviews/<int:review_id>/move")
@login_required
def move(review_id: int):
    """Move a review: confirm first; then reminders are re-planned and families told."""
    typed = " ".join(request.form.get("starts_at", "").split())
    with session_scope() as db:
        found = _load_review(db, review_id)
        try:
            _require_scheduled(found)
            starts_at = _future_time(typed)
        except ValueError as error:
            return _review_page(db, found, move_text=typed, move_error=str(error), status=400)
        if request.form.get("confirm") != CONFIRMED:
            return _confirm_page(db, found, "move", starts_at=starts_at, typed=typed)
        to_send = move_review(db, found, starts_at, g.staff.id)
    told = " The families who had heard of the old time are being told." if to_send else ""
    flash(f"The review is now on {uk_datetime(starts_at, g.school)}. Its reminders are planned again.{told}")
    return redirect(url_for("inbox.review", review_id=review_id))


@bp.post("/reviews/<int:review_id>/cancel")
@login_required
def cancel(review_id: int):
    """Cancel a review: confirm first; then everything planned stops and families are told."""
    with session_scope() as db:
        found = _load_review(db, review_id)
        if found.status != "scheduled":
            return _review_page(db, found, error=NOT_SCHEDULED.format(status=found.status), status=409)
        if request.form.get("confirm") != CONFIRMED:
            return _confirm_page(db, found, "cancel")
        to_send = cancel_review(db, found, g.staff.id)
    flash("The review is cancelled. Nothing more will be sent about it"
          + (", and the families who had heard of it are being told." if to_send else "."))
    return redirect(url_for("inbox.review", review_id=review_id))


def _confirm_page(db, review: Review, action: str, **extra):
    page = render_template("inbox/review_confirm.html", review=review, child=db.get(Child, review.child_id),
                           action=action, told=families_told(db, review), school=g.school, **extra)
    return page, 200


def _cannot_ask(review: Review, guardian: Guardian) -> str | None:
    if guardian.opted_out:
        return f"{guardian_label(guardian)} has opted out (texted STOP): nothing can be sent."
    if guardian.do_not_contact or not guardian.consent:
        return (f"{guardian_label(guardian)} is marked not to be contacted (do not contact, or no consent) "
                "on their family page: nothing was sent.")
    if not _is_upcoming(review):
        return "This review is not coming up any more, so there is nothing to ask about."
    return None


@bp.post("/reviews/<int:review_id>/ask/<int:guardian_id>")
@login_required
def ask_for_views(review_id: int, guardian_id: int):
    """Start the pre-review questions with one carer now, instead of waiting for the reminder."""
    with session_scope() as db:
        found = _load_review(db, review_id)
        guardian = next((c for c in school_guardians_of(db, g.school.id, found.child_id) if c.id == guardian_id), None)
        if guardian is None:
            _not_found("That carer is not linked to this review's child.")
        problem = _cannot_ask(found, guardian)
        if problem:
            return _review_page(db, found, error=problem, status=409)
        run, to_send = request_views_now(db, found, g.school, guardian, g.staff.id)
        if run is None:
            banner = flow_banner(db, guardian.id, current_app.extensions["flows"])
            where = f" ({banner.title}, {banner.position})" if banner else ""
            return _review_page(db, found, status=409, error=(
                f"{guardian_label(guardian)} is in the middle of other questions{where}, so nothing was sent. "
                "Try again when they have finished."))
        audit.record(db, g.school.id, g.staff.id, ASK_FOR_VIEWS, f"flow_run:{run.id}")
        name = guardian_label(guardian)
    flash(f"The questions are on their way to {name}. Their answers appear below as they come in.")
    return redirect(url_for("inbox.review", review_id=review_id, _anchor="contribution"))


@bp.get("/reviews/<int:review_id>/contribution/print")
@login_required
def contribution_print(review_id: int):
    """The family's contribution on a clean page, to print for the meeting."""
    with session_scope() as db:
        found = _load_review(db, review_id)
        audit.record(db, g.school.id, g.staff.id, PRINT_CONTRIBUTION, f"review:{review_id}")
        return _review_page(db, found, template="inbox/contribution_print.html", printed_at=utcnow())
