"""“Ask for their views” when the family already has a contribution for this review: say what will
happen (a second round of questions, or that questions are running now) and ask first; a running
round can be cancelled from the review page.

The review page's button posts here first; with nothing before it, the request goes straight on
to the ordinary ask (a 307 keeps the form, CSRF token included).
"""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, url_for
from sqlmodel import select

from bot.inbox import audit, bp
from bot.inbox.auth import login_required
from bot.inbox.display import guardian_label
from bot.inbox.review_queries import get_review, school_guardians_of
from storage.db import session_scope
from storage.models import Child, FlowAnswer, FlowRun, utcnow

CONTRIBUTION_FLOW = "pre_review"
CANCEL_VIEWS = "cancel_views_questions"
FINISHED_WORDS = {"completed": "answered every question", "expired": "stopped answering (the questions expired)",
                  "cancelled": "were stopped part-way"}


def _review_and_carer(db, review_id: int, guardian_id: int):
    review = get_review(db, g.school.id, review_id)
    carer = next((c for c in school_guardians_of(db, g.school.id, review.child_id) if c.id == guardian_id),
                 None) if review else None
    if review is None or carer is None:
        abort(404)
    return review, carer


@bp.post("/reviews/<int:review_id>/ask/<int:guardian_id>/check")
@login_required
def ask_for_views_check(review_id: int, guardian_id: int):
    """Ask at once when there is no earlier round; otherwise explain what asking again does."""
    with session_scope() as db:
        review, carer = _review_and_carer(db, review_id, guardian_id)
        runs = db.exec(select(FlowRun).where(FlowRun.review_id == review.id, FlowRun.guardian_id == carer.id,
                                             FlowRun.flow_id == CONTRIBUTION_FLOW).order_by(FlowRun.id.desc())).all()
        if not runs:
            return redirect(url_for("inbox.ask_for_views", review_id=review_id, guardian_id=guardian_id), code=307)
        latest = runs[0]
        answers = len(db.exec(select(FlowAnswer.id).where(FlowAnswer.flow_run_id == latest.id)).all())
        return render_template("staff/views_round_confirm.html", review=review, carer=carer, run=latest,
                               rounds=len(runs), answers=answers, child=db.get(Child, review.child_id),
                               finished=FINISHED_WORDS.get(latest.status), label=guardian_label(carer))


@bp.post("/reviews/<int:review_id>/runs/<int:run_id>/cancel")
@login_required
def cancel_views_round(review_id: int, run_id: int):
    """Stop the questions running for this review (answers so far are kept); nothing more is asked."""
    with session_scope() as db:
        review = get_review(db, g.school.id, review_id)
        run = db.get(FlowRun, run_id)
        if review is None or run is None or run.review_id != review.id or run.school_id != g.school.id:
            abort(404)
        if run.status not in ("active", "paused"):
            flash("Those questions had already finished.", "error")
        else:
            run.status, run.finished_at = "cancelled", utcnow()
            audit.record(db, g.school.id, g.staff.id, CANCEL_VIEWS, f"flow_run:{run.id}")
            flash("The questions are stopped. Nothing more will be asked; the answers so far stay below.")
    return redirect(url_for("inbox.review", review_id=review_id, _anchor="contribution"))
