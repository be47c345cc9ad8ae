"""In a conversation: say who an unknown number is, correct what the inbox knows in place, assign it.

Linking an unknown number to a carer means the carer writes from a new number: their number
becomes it, and the unknown contact's messages move into the carer's conversation.
"""
from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from bot.guardians import lock_guardian
from bot.inbox import audit, bp, queries
from bot.inbox.auth import login_required
from bot.inbox.safety import parse_id
from bot.inbox.family_forms import CHANNELS
from bot.inbox.languages import SCRIPTS, choices
from bot.inbox.route_preview import likely_route
from bot.inbox.thread import load_conversation
from storage.db import session_scope
from storage.models import Conversation, Guardian, Message, StaffUser

LINK_UNKNOWN, QUICK_EDIT = "link_unknown_number", "edit_carer_in_thread"


@bp.app_context_processor
def thread_tool_context() -> dict:
    """Choices the thread header and the list filters show (queried only when a page asks)."""
    def assignable_staff() -> list[StaffUser]:
        with session_scope() as db:
            return list(db.exec(select(StaffUser).where(StaffUser.school_id == g.school.id, StaffUser.active)
                                .order_by(StaffUser.name)).all())

    def known_carers() -> list[Guardian]:
        with session_scope() as db:
            return list(db.exec(select(Guardian).where(Guardian.school_id == g.school.id, Guardian.known,
                                                       Guardian.archived_at.is_(None)).order_by(Guardian.name)).all())

    return {"assignable_staff": assignable_staff, "known_carers": known_carers, "language_choices": choices,
            "script_choices": SCRIPTS, "channel_choices": CHANNELS, "likely_route": likely_route}


@bp.post("/conversations/<int:conversation_id>/assign")
@login_required
def assign(conversation_id: int):
    """Give the conversation to a colleague (or to nobody)."""
    with session_scope() as db:
        conversation, _ = load_conversation(db, conversation_id)
        staff_id = parse_id(request.form.get("staff"))
        if request.form.get("staff") and staff_id is None:
            abort(404)
        if staff_id is not None:
            staff = db.get(StaffUser, staff_id)
            if staff is None or staff.school_id != g.school.id or not staff.active:
                abort(404)
        conversation.assigned_to_id = staff_id
        audit.record(db, g.school.id, g.staff.id, audit.ASSIGN_CONVERSATION, f"conversation:{conversation.id}")
    flash("Assigned." if staff_id else "Not assigned to anyone now.")
    return redirect(url_for("inbox.thread", conversation_id=conversation_id))


@bp.post("/conversations/<int:conversation_id>/details")
@login_required
def quick_edit(conversation_id: int):
    """Correct the carer's language, script or channel from the thread."""
    language, script, channel = (request.form.get("language") or None, request.form.get("script") or None,
                                 request.form.get("channel", ""))
    with session_scope() as db:
        _, guardian = load_conversation(db, conversation_id)
        if (language and language not in dict(choices())) or (script and script not in SCRIPTS) or channel not in CHANNELS:
            flash("Choose from the lists.", "error")
            return redirect(url_for("inbox.thread", conversation_id=conversation_id))
        if script != guardian.preferred_script:
            guardian.script_source = "staff"
        guardian.preferred_language, guardian.preferred_script, guardian.preferred_channel = language, script, channel
        audit.record(db, g.school.id, g.staff.id, QUICK_EDIT, f"guardian:{guardian.id}")
    flash("Saved: replies now go out as shown.")
    return redirect(url_for("inbox.thread", conversation_id=conversation_id))


@bp.post("/conversations/<int:conversation_id>/link")
@login_required
def link_unknown(conversation_id: int):
    """An unknown number is a known carer writing from a new number: merge them."""
    with session_scope() as db:
        conversation, unknown = load_conversation(db, conversation_id)
        carer = queries.get_guardian(db, g.school.id, parse_id(request.form.get("guardian")) or 0)
        if carer is None or not carer.known or unknown.known:
            abort(404)
        lock_guardian(db, carer.id)
        target = db.exec(select(Conversation).where(Conversation.guardian_id == carer.id)).first()
        try:
            with db.begin_nested():
                if target is None:
                    conversation.guardian_id = carer.id  # the unknown contact's conversation becomes theirs
                    target = conversation
                    db.flush()
                else:
                    db.exec(update(Message).where(Message.conversation_id == conversation.id)
                            .values(conversation_id=target.id, guardian_id=carer.id))
                    target.last_message_at = max(filter(None, [target.last_message_at, conversation.last_message_at]),
                                                 default=None)
                    db.delete(conversation)
                db.flush()
                phone, last_inbound = unknown.phone, unknown.last_inbound_at
                db.delete(unknown)
                db.flush()
                carer.phone = phone
                carer.last_inbound_at = max(filter(None, [carer.last_inbound_at, last_inbound]), default=None)
        except IntegrityError:
            flash("This number has more history than a merge can move (questions or reminders). "
                  "Edit the carer's number on their page instead.", "error")
            return redirect(url_for("inbox.thread", conversation_id=conversation_id))
        audit.record(db, g.school.id, g.staff.id, LINK_UNKNOWN, f"guardian:{carer.id}")
        target_id, name = target.id, carer.name
    flash(f"Linked: this is {name}, and their number is now this one.")
    return redirect(url_for("inbox.thread", conversation_id=target_id))
