"""An inbox that stays current: a small "what changed" check the pages poll, and the thread's
messages as an HTML fragment, so a new message or a delivery status shows without a reload.

The check is a fingerprint of the school's (or one conversation's) messages: a new message, a
status report or a finished translation changes it. Polling the fingerprint is cheap; a page
fetches the fragment only when it changed. Polling marks nothing read and audits nothing.
"""
from __future__ import annotations

import hashlib

from flask import abort, g, jsonify, render_template, request
from sqlalchemy import case, func
from sqlmodel import select

from bot.inbox import bp, queries
from bot.inbox.auth import login_required
from bot.inbox.safety import parse_id
from bot.inbox.thread import thread_items
from storage.db import session_scope
from storage.models import Conversation, Message


def _fingerprint(db, school_id: int, conversation_id: int | None) -> str:
    pending = func.sum(case((Message.translation_status == "pending", 1), else_=0))
    query = select(func.count(Message.id), func.max(Message.id), func.max(Message.status_updated_at), pending)
    query = query.where(Message.school_id == school_id)
    if conversation_id is not None:
        query = query.where(Message.conversation_id == conversation_id)
    values = list(db.exec(query).one())
    if conversation_id is None:  # the list also shows who read what and who has it
        values += list(db.exec(select(func.max(Conversation.staff_read_at), func.count(Conversation.id),
                                      func.sum(Conversation.assigned_to_id)).where(
            Conversation.school_id == school_id)).one())
    return hashlib.sha256(repr(values).encode()).hexdigest()[:16]


@bp.app_context_processor
def live_context() -> dict:
    """`live_version()`: the fingerprint as the page is rendered, so live.js misses nothing that
    arrives between this render and its first check."""
    def live_version() -> str:
        if g.get("school") is None:
            return ""
        conversation_id = (request.view_args or {}).get("conversation_id")
        with session_scope() as db:
            return _fingerprint(db, g.school.id, conversation_id)

    return {"live_version": live_version}


@bp.get("/live/state")
@login_required
def live_state():
    """{"version": ...}: changes whenever the inbox (or the conversation named) has something new."""
    conversation_id = parse_id(request.args.get("conversation"))
    if "conversation" in request.args and conversation_id is None:
        abort(404)
    with session_scope() as db:
        if conversation_id is not None and queries.get_conversation(db, g.school.id, conversation_id) is None:
            abort(404)
        response = jsonify(version=_fingerprint(db, g.school.id, conversation_id))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/live/conversations/<int:conversation_id>/messages")
@login_required
def live_messages(conversation_id: int):
    """The thread's messages as the thread page shows them (for swapping in place)."""
    with session_scope() as db:
        conversation = queries.get_conversation(db, g.school.id, conversation_id)
        if conversation is None:
            abort(404)
        guardian = queries.get_guardian(db, g.school.id, conversation.guardian_id)
        page = render_template("staff/_thread_items.html", **thread_items(db, conversation, guardian))
    return page, 200, {"Cache-Control": "no-store"}
