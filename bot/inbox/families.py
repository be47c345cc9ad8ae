"""Families pages: children and their carers, searchable; add, edit and archive; every change audited.

A carer's phone number is checked in the school's region and must be unique within the school;
a problem is shown on the form in words and nothing is saved.
"""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlmodel import select

from bot.inbox import audit, bp, family_queries, queries
from bot.inbox.auth import login_required
from bot.inbox.safety import parse_id
from bot.inbox.family_forms import (CHANNELS, SEND_STATUSES, YEAR_GROUPS, FormProblem, check_carer, check_child,
                                    save_carer)
from bot.inbox.languages import SCRIPTS, choices
from storage.db import session_scope
from storage.models import Child, Conversation, utcnow


def _carer_form(template_vars: dict, status: int = 200):
    return render_template("staff/carer_form.html", languages=choices(), scripts=SCRIPTS, channels=CHANNELS,
                           **template_vars), status


def _child_or_404(db, child_id: int) -> Child:
    child = family_queries.get_child(db, g.school.id, child_id)
    if child is None:
        abort(404)
    return child


def _guardian_or_404(db, guardian_id: int):
    guardian = queries.get_guardian(db, g.school.id, guardian_id)
    if guardian is None:
        abort(404)
    return guardian


def _children(db) -> list[Child]:
    return list(db.exec(select(Child).where(Child.school_id == g.school.id, Child.archived_at.is_(None))
                        .order_by(Child.name)).all())


def _new_child_from(db, form) -> Child | None:
    """The child typed on a carer form without one chosen (a family that first wrote in), or None."""
    name = (form.get("new_child_name") or "").strip()
    if not name:
        return None
    name, year, status = check_child({"name": name, "year_group": form.get("new_child_year", "")})
    child = Child(school_id=g.school.id, name=name, year_group=year, send_status=status)
    db.add(child)
    db.flush()
    audit.record(db, g.school.id, g.staff.id, audit.ADD_CHILD, f"child:{child.id}")
    return child


@bp.get("/families")
@login_required
def families():
    """Every child with their carers; `q` searches child and carer names."""
    search = request.args.get("q", "")[:100]
    with session_scope() as db:
        found, alone = family_queries.families(db, g.school.id, search)
        return render_template("staff/families.html", families=found, alone=alone, search=search)


@bp.route("/families/children/new", methods=["GET", "POST"])
@login_required
def new_child():
    """Add a child; the next page adds their first carer."""
    form = request.form if request.method == "POST" else {}
    if request.method == "GET":
        return render_template("staff/child_form.html", child=None, form={}, years=YEAR_GROUPS,
                               statuses=SEND_STATUSES)
    with session_scope() as db:
        try:
            name, year, status = check_child(form)
        except FormProblem as problem:
            return render_template("staff/child_form.html", child=None, form=form, error=str(problem),
                                   years=YEAR_GROUPS, statuses=SEND_STATUSES), 400
        child = Child(school_id=g.school.id, name=name, year_group=year, send_status=status)
        db.add(child)
        db.flush()
        audit.record(db, g.school.id, g.staff.id, audit.ADD_CHILD, f"child:{child.id}")
        child_id = child.id
    flash(f"{name} added. Now add their carer.")
    return redirect(url_for("inbox.new_carer", child=child_id))


@bp.route("/families/children/<int:child_id>", methods=["GET", "POST"])
@login_required
def family_child(child_id: int):
    """A child's details (editable) and their carers."""
    with session_scope() as db:
        child = _child_or_404(db, child_id)
        carers = family_queries.carers_of(db, g.school.id, child.id)
        form = request.form if request.method == "POST" else {"name": child.name, "year_group": child.year_group or "",
                                                               "send_status": child.send_status or ""}
        if request.method == "POST":
            try:
                child.name, child.year_group, child.send_status = check_child(form)
            except FormProblem as problem:
                return render_template("staff/child_form.html", child=child, carers=carers, form=form,
                                       error=str(problem), years=YEAR_GROUPS, statuses=SEND_STATUSES), 400
            audit.record(db, g.school.id, g.staff.id, audit.EDIT_CHILD, f"child:{child.id}")
            flash("Saved.")
            return redirect(url_for("inbox.family_child", child_id=child.id))
        return render_template("staff/child_form.html", child=child, carers=carers, form=form, years=YEAR_GROUPS,
                               statuses=SEND_STATUSES)


@bp.post("/families/children/<int:child_id>/archive")
@login_required
def archive_child(child_id: int):
    """Take a child off the families page and out of updates (their messages are kept)."""
    with session_scope() as db:
        child = _child_or_404(db, child_id)
        child.archived_at = utcnow()
        audit.record(db, g.school.id, g.staff.id, audit.ARCHIVE_CHILD, f"child:{child.id}")
        flash(f"{child.name} is archived.")
    return redirect(url_for("inbox.families"))


@bp.route("/families/carers/new", methods=["GET", "POST"])
@login_required
def new_carer():
    """Add a carer, linked to the child named in `child`."""
    with session_scope() as db:
        child_id = parse_id(request.values.get("child"))
        child = _child_or_404(db, child_id) if child_id else None
        defaults = {"channel": "sms", "consent": "yes", "phone": ""}
        unknown_id = parse_id(request.values.get("unknown"))
        unknown = queries.get_guardian(db, g.school.id, unknown_id) if unknown_id else None
        if unknown is not None and not unknown.known:  # "who is this?" from a conversation
            defaults.update(phone=unknown.phone, language=unknown.preferred_language or "", unknown=unknown.id)
        if request.method == "GET":
            return _carer_form({"guardian": None, "child": child, "form": defaults, "all_children": _children(db)})
        try:
            details = check_carer(request.form, g.school)
            with db.begin_nested():
                child = child or _new_child_from(db, request.form)
                guardian = save_carer(db, g.school, details, child=child)
        except FormProblem as problem:
            return _carer_form({"guardian": None, "child": child, "form": request.form, "error": str(problem),
                                "all_children": _children(db)}, 400)
        audit.record(db, g.school.id, g.staff.id, audit.ADD_CARER, f"guardian:{guardian.id}")
        name, child_id = guardian.name, child.id if child else None
        conversation = db.exec(select(Conversation).where(Conversation.guardian_id == guardian.id)).first()
        back_to_thread = conversation.id if request.form.get("unknown") and conversation else None
    flash(f"{name} added.")
    if back_to_thread:  # said who an unknown number is: back to their conversation
        return redirect(url_for("inbox.thread", conversation_id=back_to_thread))
    return redirect(url_for("inbox.family_child", child_id=child_id) if child_id else url_for("inbox.families"))


@bp.route("/families/carers/<int:guardian_id>", methods=["GET", "POST"])
@login_required
def carer(guardian_id: int):
    """A carer's details, editable: language, script, channel, quiet hours, consent, do not contact."""
    with session_scope() as db:
        guardian = _guardian_or_404(db, guardian_id)
        children = family_queries.children_of(db, g.school.id, guardian.id)
        if request.method == "GET":
            form = {"name": guardian.name or "", "phone": guardian.phone, "language": guardian.preferred_language or "",
                    "script": guardian.preferred_script or "", "channel": guardian.preferred_channel,
                    "relationship": next((rel for _, rel in children if rel), "") or "",
                    "quiet_start_hour": "" if guardian.quiet_start_hour is None else guardian.quiet_start_hour,
                    "quiet_end_hour": "" if guardian.quiet_end_hour is None else guardian.quiet_end_hour,
                    "consent": "yes" if guardian.consent else "", "do_not_contact": "yes" if guardian.do_not_contact else ""}
            conversation = db.exec(select(Conversation).where(Conversation.guardian_id == guardian.id)).first()
            return _carer_form({"guardian": guardian, "children": children, "child": None, "form": form,
                                "conversation": conversation})
        try:
            details = check_carer(request.form, g.school)
            with db.begin_nested():
                save_carer(db, g.school, details, guardian=guardian)
        except FormProblem as problem:
            return _carer_form({"guardian": guardian, "children": children, "child": None, "form": request.form,
                                "error": str(problem)}, 400)
        audit.record(db, g.school.id, g.staff.id, audit.EDIT_CARER, f"guardian:{guardian.id}")
    flash("Saved.")
    return redirect(url_for("inbox.carer", guardian_id=guardian_id))


@bp.post("/families/carers/<int:guardian_id>/archive")
@login_required
def archive_carer(guardian_id: int):
    """Archive a carer: off the families page and out of updates; their conversation is kept."""
    with session_scope() as db:
        guardian = _guardian_or_404(db, guardian_id)
        guardian.archived_at = utcnow()
        audit.record(db, g.school.id, g.staff.id, audit.ARCHIVE_CARER, f"guardian:{guardian.id}")
        flash(f"{guardian.name or 'The carer'} is archived.")
    return redirect(url_for("inbox.families"))
