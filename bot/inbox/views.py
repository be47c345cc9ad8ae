"""Inbox pages: the conversation list, one conversation's thread, and taking over its question flow."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError

from bot.conversation import flow_runs
from bot.guardians import lock_guardian
from bot.inbox import audit, bp, inbox_filters, queries
from bot.inbox.auth import login_required
from bot.inbox.safety import from_another_site
from bot.inbox.thread import load_conversation, render_thread
from storage.db import session_scope

TAKE_OVER_FLOW, HAND_BACK_FLOW = "take_over_flow", "hand_back_flow"


@bp.get("/")
@login_required
def conversations():
    """Every conversation of the school: unread first, then the most recent."""
    with session_scope() as db:
        rows = queries.conversation_rows(db, g.school.id)
        rows, filters = inbox_filters.apply(db, rows, request.args, g.staff.id)
    return render_template("inbox/conversations.html", rows=rows, school=g.school, filters=filters)


@bp.get("/conversations/<int:conversation_id>")
@login_required
def thread(conversation_id: int):
    """One conversation, original and translation side by side; opening it marks it read."""
    with session_scope() as db:
        conversation, guardian = load_conversation(db, conversation_id)
        if not from_another_site():  # a link on another site shows the thread but leaves it unread
            queries.mark_read(db, conversation)
        audit.record(db, g.school.id, g.staff.id, audit.VIEW_CONVERSATION, f"conversation:{conversation.id}")
        return render_thread(db, conversation, guardian)


@bp.post("/conversations/<int:conversation_id>/take-over")
@login_required
def take_over(conversation_id: int):
    """Staff step into a question flow: it waits (no questions, no chasers) until handed back."""
    with session_scope() as db:
        conversation, guardian = load_conversation(db, conversation_id)
        run = flow_runs.pause_for_staff(db, lock_guardian(db, guardian.id).id)
        if run is not None:
            audit.record(db, g.school.id, g.staff.id, TAKE_OVER_FLOW, f"flow_run:{run.id}")
            flash("You have taken over: no more questions are sent until you hand back.")
        else:
            flash("There are no questions running to take over.", "error")
    return redirect(url_for("inbox.thread", conversation_id=conversation_id))


@bp.post("/conversations/<int:conversation_id>/hand-back")
@login_required
def hand_back(conversation_id: int):
    """Hand a paused flow back: the parent is asked again the question it was waiting on."""
    with session_scope() as db:
        conversation, guardian = load_conversation(db, conversation_id)
        run = flow_runs.live_run(db, lock_guardian(db, guardian.id).id)
        resumed = run is not None and run.status == "paused"
        if resumed:
            flow_runs.resume_flow(db, guardian, g.school)  # its question goes out once this commits
            audit.record(db, g.school.id, g.staff.id, HAND_BACK_FLOW, f"flow_run:{run.id}")
    if resumed:
        flash("Handed back: the parent is asked the question again.")
    else:
        flash("There are no paused questions to hand back.", "error")
    return redirect(url_for("inbox.thread", conversation_id=conversation_id))


@bp.errorhandler(404)
def not_found(_error):
    """A readable page for a conversation that does not exist (or belongs to another school)."""
    return render_template("error.html", title="Not found",
                           detail="There is no such conversation in your school's inbox."), 404


@bp.app_errorhandler(CSRFError)
def csrf_refused(error: CSRFError):
    """A form without a valid CSRF token: refused, with a way forward."""
    return render_template("error.html", title="This form could not be accepted",
                           detail="It has expired or did not come from this site. "
                                  "Go back, reload the page and try again."), 400
