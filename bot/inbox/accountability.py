"""Accountability (SENDCo only): the audit log page, and everything held about one family as a file
(a subject access request). The export is itself audited.
"""
from __future__ import annotations

import json

from flask import Response, abort, g, render_template, request
from sqlmodel import select

from bot.inbox import audit, bp, family_queries
from bot.inbox.auth import sendco_required
from bot.inbox.safety import parse_id
from bot.inbox.display import iso_time
from storage.db import session_scope
from storage.models import (AuditEvent, Conversation, FlowAnswer, GuardianChild, Message, Reminder, Review,
                            StaffUser)

PAGE = 100
EXPORT_FAMILY = "export_family"
# Actions in words; an action not listed is shown as written ("staff_role" → "Staff role").
ACTION_WORDS = {
    "login": "Signed in", "login_failed": "Wrong password", "login_locked": "Sign-in paused after failures",
    "logout": "Signed out", "view_conversation": "Read a conversation", "send_reply": "Sent a reply",
    "simulate_message": "Used the parent simulator", "add_staff": "Added a colleague",
    "staff_password_link": "Made a set-password link", "set_password": "Set their password",
    "staff_role": "Changed a colleague's role", "staff_deactivate": "Deactivated a colleague",
    "staff_activate": "Let a colleague sign in again", "add_carer": "Added a carer", "edit_carer": "Changed a carer",
    "archive_carer": "Archived a carer", "add_child": "Added a child", "edit_child": "Changed a child",
    "archive_child": "Archived a child", "import_families": "Imported families", "send_update": "Sent an update",
    "assign_conversation": "Assigned a conversation", "change_settings": "Changed the settings",
    "add_school_number": "Added a school number", "remove_school_number": "Removed a school number",
    EXPORT_FAMILY: "Exported a family's data", "link_unknown_number": "Said who an unknown number is",
    "edit_carer_in_thread": "Corrected a carer in a conversation",
}


@bp.get("/audit")
@sendco_required
def audit_log():
    """Who did what, newest first, a page at a time."""
    before = parse_id(request.args.get("before"))
    with session_scope() as db:
        query = select(AuditEvent, StaffUser.name).join(StaffUser, StaffUser.id == AuditEvent.staff_user_id,
                                                        isouter=True).where(AuditEvent.school_id == g.school.id)
        if before:
            query = query.where(AuditEvent.id < before)
        rows = db.exec(query.order_by(AuditEvent.id.desc()).limit(PAGE)).all()
    return render_template("staff/audit.html", rows=rows, words=ACTION_WORDS,
                           older=rows[-1][0].id if len(rows) == PAGE else None)


def _row(model) -> dict:
    """A row as plain JSON values (times in ISO 8601 UTC)."""
    values = {}
    for key, value in model.model_dump().items():
        values[key] = iso_time(value) if hasattr(value, "isoformat") else value
    return values


@bp.get("/families/children/<int:child_id>/export")
@sendco_required
def export_family(child_id: int):
    """Everything held about one child's family, as a JSON file: the child, each carer, every message
    (original and translation), reviews, reminders, answers, and the audit events that name them."""
    with session_scope() as db:
        child = family_queries.get_child(db, g.school.id, child_id)
        if child is None:
            abort(404)
        carers = [guardian for guardian, _ in family_queries.carers_of(db, g.school.id, child.id)]
        ids = [carer.id for carer in carers]
        links = db.exec(select(GuardianChild).where(GuardianChild.child_id == child.id)).all()
        messages = db.exec(select(Message).where(Message.school_id == g.school.id, Message.guardian_id.in_(ids or [0]))
                           .order_by(Message.id)).all()
        reviews = db.exec(select(Review).where(Review.school_id == g.school.id, Review.child_id == child.id)).all()
        reminders = db.exec(select(Reminder).where(Reminder.school_id == g.school.id,
                                                   Reminder.guardian_id.in_(ids or [0]))).all()
        answers = db.exec(select(FlowAnswer).where(FlowAnswer.guardian_id.in_(ids or [0]))).all()
        conversations = db.exec(select(Conversation).where(Conversation.guardian_id.in_(ids or [0]))).all()
        targets = [f"child:{child.id}"] + [f"guardian:{i}" for i in ids] + [f"conversation:{c.id}" for c in conversations]
        events = db.exec(select(AuditEvent).where(AuditEvent.school_id == g.school.id,
                                                  AuditEvent.target.in_(targets))).all()
        document = {
            "school": g.school.name, "child": _row(child), "carers": [_row(c) for c in carers],
            "relationships": [_row(link) for link in links], "messages": [_row(m) for m in messages],
            "reviews": [_row(r) for r in reviews], "reminders": [_row(r) for r in reminders],
            "answers": [_row(a) for a in answers], "audit_events": [_row(e) for e in events],
        }
        audit.record(db, g.school.id, g.staff.id, EXPORT_FAMILY, f"child:{child.id}")
    body = json.dumps(document, ensure_ascii=False, indent=2, default=str)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="family-{child_id}.json"', "Cache-Control": "no-store"})
