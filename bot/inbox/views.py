"""Inbox pages: the conversation list and one conversation's thread."""
from __future__ import annotations

from flask import g, render_template
from flask_wtf.csrf import CSRFError

from bot.inbox import audit, bp, queries
from bot.inbox.auth import login_required
from bot.inbox.thread import load_conversation, render_thread
from storage.db import session_scope


@bp.get("/")
@login_required
def conversations():
    """Every conversation of the school: unread first, then the most recent."""
    with session_scope() as db:
        rows = queries.conversation_rows(db, g.school.id)
    return render_template("inbox/conversations.html", rows=rows, school=g.school)


@bp.get("/conversations/<int:conversation_id>")
@login_required
def thread(conversation_id: int):
    """One conversation, original and translation side by side; opening it marks it read."""
    with session_scope() as db:
        conversation, guardian = load_conversation(db, conversation_id)
        queries.mark_read(db, conversation)
        audit.record(db, g.school.id, g.staff.id, audit.VIEW_CONVERSATION, f"conversation:{conversation.id}")
        return render_thread(db, conversation, guardian)


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
