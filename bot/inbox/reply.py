"""Replying: preview exactly what the parent will receive, then send it.

"Send" only goes through for exactly what was previewed: the form carries the English and a
fingerprint of the rendering staff saw. If either changed since (staff edited the English, or
the translation came out differently), staff see the new rendering to approve before anything
leaves the school; otherwise the very rendering they approved is stored and sent.
"""
from __future__ import annotations

import re

from flask import flash, g, redirect, request, url_for
from sqlalchemy.exc import IntegrityError

from bot.inbox import audit, bp, queries
from bot.inbox.auth import login_required
from bot.conversation.takeover import queue_staff_reply
from bot.inbox.thread import load_conversation, make_preview, render_thread
from bot.messaging.outbound import render_staff_reply
from bot.translation import TranslationFailed
from storage.db import session_scope

MAX_REPLY_CHARS = 1200  # leaves room for the translation within an SMS body's 1600 characters
OPTED_OUT = "This parent has opted out (texted STOP): nothing can be sent until they text START."
DO_NOT_CONTACT = ("This carer is marked “do not contact” on their family page: nothing is sent. "
                  "Change it there if they agreed to be contacted again.")
CHANGED = "The reply changed after the preview. Check what the parent will receive, then send."
ALREADY_SENT = "This reply was already sent (the form was submitted twice); it goes out once."
PREVIEW_FIRST = "Check what the parent will receive, then send."
SEND_KEY = re.compile(r"[0-9a-f]{32}")
RENDERING_CHANGED = ("The translation came out differently from the one you previewed. "
                     "Check what the parent will receive now, then send.")
ENGINE_DOWN = "The translation service did not answer. Nothing was sent; try again in a minute."


def _reply_text() -> str:
    # Browsers send CRLF from a textarea; parents' phones expect plain newlines.
    return request.form.get("body", "").replace("\r\n", "\n").strip()


def _refusal(db, conversation, guardian, english: str):
    """The thread page saying why this reply cannot go ahead, or None when it can."""
    if guardian.opted_out:
        error, status = OPTED_OUT, 409
    elif guardian.do_not_contact:
        error, status = DO_NOT_CONTACT, 409
    elif not english:
        error, status = "Write a reply first.", 400
    elif len(english) > MAX_REPLY_CHARS:
        error, status = f"The reply is {len(english)} characters; the most is {MAX_REPLY_CHARS}.", 400
    else:
        return None
    return render_thread(db, conversation, guardian, draft=english, error=error, status=status)


def _preview(english: str, guardian):
    """What the parent would receive now, with its approval code; None if the engine did not answer."""
    try:
        return make_preview(english, render_staff_reply(english, guardian, g.school), guardian)
    except TranslationFailed:
        return None


def _show_preview(db, conversation, guardian, english: str, preview=None, notice: str | None = None):
    preview = preview or _preview(english, guardian)
    if preview is None:
        return render_thread(db, conversation, guardian, draft=english, error=ENGINE_DOWN, status=503)
    return render_thread(db, conversation, guardian, draft=english, preview=preview, error=notice)


def _already_sent(db, conversation_id: int, key: str):
    earlier = queries.message_by_send_key(db, g.school.id, key)
    flash(ALREADY_SENT)
    anchor = f"m{earlier.id}" if earlier else None
    return redirect(url_for("inbox.thread", conversation_id=conversation_id, _anchor=anchor))


@bp.post("/conversations/<int:conversation_id>/preview")
@login_required
def preview_reply(conversation_id: int):
    """Show the reply in the parent's language, with its SMS segment count."""
    english = _reply_text()
    with session_scope() as db:
        conversation, guardian = load_conversation(db, conversation_id)
        refused = _refusal(db, conversation, guardian, english)
        return refused or _show_preview(db, conversation, guardian, english)


@bp.post("/conversations/<int:conversation_id>/send")
@login_required
def send_reply(conversation_id: int):
    """Store the previewed reply and hand it to the worker once it is committed."""
    english, key = _reply_text(), request.form.get("send_key", "")
    with session_scope() as db:
        conversation, guardian = load_conversation(db, conversation_id)
        if SEND_KEY.fullmatch(key) and queries.message_by_send_key(db, g.school.id, key):
            return _already_sent(db, conversation_id, key)
        refused = _refusal(db, conversation, guardian, english)
        if refused:
            return refused
        if request.form.get("previewed", "").replace("\r\n", "\n").strip() != english:
            return _show_preview(db, conversation, guardian, english, notice=CHANGED)
        preview = _preview(english, guardian)  # a cache hit when nothing changed since the preview
        if preview is None or request.form.get("approved") != preview.approval:
            return _show_preview(db, conversation, guardian, english, preview, notice=RENDERING_CHANGED)
        if not SEND_KEY.fullmatch(key):
            return _show_preview(db, conversation, guardian, english, preview, notice=PREVIEW_FIRST)
        try:
            with db.begin_nested():  # the key is unique: the same form posted twice at once fails here
                message = queue_staff_reply(db, guardian, conversation, g.school, g.staff.id, english,
                                            urgent=request.form.get("urgent") == "yes",
                                            rendering=preview.rendering, send_key=key)
        except IntegrityError:
            return _already_sent(db, conversation_id, key)
        queries.mark_read(db, conversation)  # replying is reading
        audit.record(db, g.school.id, g.staff.id, audit.SEND_REPLY, f"message:{message.id}")
        message_id = message.id
    flash("Reply saved. It goes out as soon as the sender is free; its status shows below.")
    return redirect(url_for("inbox.thread", conversation_id=conversation_id, _anchor=f"m{message_id}"))
