"""Children's pages: targets (added, edited, history kept), sharing them with each carer exactly as
staff approve, the family's view of each target over time, and check-in pauses per child.

Every query is scoped to the signed-in school: another school's child or target is a 404.
"""
from __future__ import annotations

from flask import abort, flash, g, make_response, redirect, render_template, request, url_for
from sqlmodel import select

from bot.inbox import audit, bp
from bot.inbox.auth import login_required
from bot.inbox.display import guardian_label
from bot.inbox.review_queries import get_child, school_children
from bot.inbox.safety import parse_id
from bot.targets import checkins, records
from bot.targets.family_view import carers_of, family_view, open_answers
from bot.targets.measures import school_measures
from bot.targets.rhythm import MAX_EVERY_WEEKS, MIN_EVERY_WEEKS
from bot.targets.sharing import draft_share, not_yet_shared, send_share, shares_by_carer
from bot.translation import TranslationFailed
from storage.db import session_scope
from storage.models import CheckIn, Child, ChildCheckInSetting, Review, utcnow

VIEW_CHILD, CHILD_CHECKINS = "view_child", "child.checkins"
ENGINE_DOWN = "The translation service did not answer. Nothing was sent; try again in a minute."
CHANGED = ("What this carer would get has changed since you looked (a target was edited, or the translation "
           "came out differently). Check it again below, then share.")


def _not_found(detail: str = "There is no such child in your school."):
    abort(make_response(render_template("error.html", title="Not found", detail=detail), 404))


def _load_child(db, child_id: int) -> Child:
    return get_child(db, g.school.id, child_id) or _not_found()


@bp.get("/children")
@login_required
def children():
    """Every child with their targets, and the school's partnership measures."""
    with session_scope() as db:
        kids = school_children(db, g.school.id)
        counts = {kid.id: len(records.active_targets(db, kid.id)) for kid in kids}
        return render_template("inbox/children.html", kids=kids, counts=counts, school=g.school,
                               measures=school_measures(db, g.school.id, utcnow()))


@bp.get("/children/<int:child_id>")
@login_required
def child(child_id: int):
    """One child: targets with history, the family's view over time, sharing and check-ins."""
    with session_scope() as db:
        kid = _load_child(db, child_id)
        audit.record(db, g.school.id, g.staff.id, VIEW_CHILD, f"child:{kid.id}")
        return _child_page(db, kid)


def _child_page(db, kid: Child, *, error: str | None = None, form: dict | None = None, editing: int | None = None,
                status: int = 200):
    targets = records.child_targets(db, g.school.id, kid.id)
    page = render_template(
        "inbox/child.html", child=kid, targets=targets, views=family_view(db, targets),
        history=records.revisions(db, [t.id for t in targets]), carers=carers_of(db, kid.id),
        open_answers=open_answers(db, kid.id), setting=checkins.child_setting(db, kid.id),
        rhythm=checkins.rhythm_for(db, g.school.id), statuses=records.STATUSES,
        checkins=_recent_checkins(db, kid.id), reviews=_reviews(db, kid.id), error=error, form=form or {},
        editing=editing, school=g.school, min_weeks=MIN_EVERY_WEEKS, max_weeks=MAX_EVERY_WEEKS)
    return page, status


def _recent_checkins(db, child_id: int) -> list[CheckIn]:
    return list(db.exec(select(CheckIn).where(CheckIn.child_id == child_id)
                        .order_by(CheckIn.due_at.desc(), CheckIn.id.desc()).limit(12)).all())


def _reviews(db, child_id: int) -> list[Review]:
    return list(db.exec(select(Review).where(Review.child_id == child_id, Review.school_id == g.school.id)
                        .order_by(Review.starts_at.desc())).all())


def _typed_target() -> records.TargetInput:
    form = request.form
    return records.clean_target(form.get("text"), form.get("help_at_home"), form.get("starts_on"),
                                form.get("status", "active"), form.get("school_notes"))


@bp.post("/children/<int:child_id>/targets")
@login_required
def add_target(child_id: int):
    """Record a new target for the child."""
    with session_scope() as db:
        kid = _load_child(db, child_id)
        try:
            typed = _typed_target()
        except ValueError as problem:
            return _child_page(db, kid, error=str(problem), form=request.form, status=400)
        records.add_target(db, g.school.id, kid.id, typed, g.staff.id)
    flash("Target added. Share it with the family when you are ready.")
    return redirect(url_for("inbox.child", child_id=child_id, _anchor="targets"))


@bp.post("/children/<int:child_id>/targets/<int:target_id>")
@login_required
def edit_target(child_id: int, target_id: int):
    """Change a target (its text, help line, date, status or the school's notes); the old version is kept."""
    with session_scope() as db:
        kid = _load_child(db, child_id)
        target = records.get_target(db, g.school.id, target_id)
        if target is None or target.child_id != kid.id:
            _not_found("There is no such target for this child.")
        try:
            typed = _typed_target()
        except ValueError as problem:
            return _child_page(db, kid, error=str(problem), form=request.form, editing=target.id, status=400)
        changed = records.edit_target(db, target, typed, g.staff.id)
    flash("Target updated; the earlier version is kept in its history." if changed else "Nothing had changed.")
    return redirect(url_for("inbox.child", child_id=child_id, _anchor=f"target{target_id}"))


@bp.get("/children/<int:child_id>/share")
@login_required
def share_preview(child_id: int):
    """For each carer, exactly what they would receive for the child's active targets."""
    with session_scope() as db:
        kid = _load_child(db, child_id)
        return _share_page(db, kid)


def _share_page(db, kid: Child, *, error: str | None = None, status: int = 200):
    targets = records.active_targets(db, kid.id)
    carers = [carer for carer in carers_of(db, kid.id) if carer.school_id == g.school.id]
    drafts, problems = {}, {}
    for carer in carers if targets else []:
        try:
            drafts[carer.id] = draft_share(db, g.school, kid, carer, targets)
        except TranslationFailed:
            problems[carer.id] = ENGINE_DOWN
    page = render_template("inbox/child_share.html", child=kid, targets=targets, carers=carers, drafts=drafts,
                           problems=problems, shared=shares_by_carer(db, [c.id for c in carers], targets),
                           unshared={c.id: not_yet_shared(db, c.id, targets) for c in carers},
                           error=error, school=g.school)
    return page, status


@bp.post("/children/<int:child_id>/share/<int:guardian_id>")
@login_required
def share_send(child_id: int, guardian_id: int):
    """Send one carer exactly the text staff approved on the preview."""
    with session_scope() as db:
        kid = _load_child(db, child_id)
        carer = next((c for c in carers_of(db, kid.id) if c.id == guardian_id and c.school_id == g.school.id), None)
        if carer is None:
            _not_found("That carer is not linked to this child.")
        targets = records.active_targets(db, kid.id)
        if not targets:
            return _share_page(db, kid, error="There are no active targets to share.", status=409)
        try:
            draft = draft_share(db, g.school, kid, carer, targets)
        except TranslationFailed:
            return _share_page(db, kid, error=ENGINE_DOWN, status=503)
        if request.form.get("approved") != draft.approval:
            return _share_page(db, kid, error=CHANGED, status=409)
        try:
            send_share(db, draft, kid, g.staff.id)
        except ValueError as problem:
            return _share_page(db, kid, error=str(problem), status=409)
        name = guardian_label(carer)
    flash(f"The targets are on their way to {name}, exactly as you saw them. Check-ins about them follow "
          "on the school's rhythm.")
    return redirect(url_for("inbox.share_preview", child_id=child_id))


@bp.post("/children/<int:child_id>/checkins")
@login_required
def child_checkins(child_id: int):
    """Pause a child's check-ins, resume them, or set them more (or less) often than the school's rhythm."""
    with session_scope() as db:
        kid = _load_child(db, child_id)
        setting = checkins.child_setting(db, kid.id) or ChildCheckInSetting(school_id=g.school.id, child_id=kid.id)
        chosen = request.form.get("every_weeks", "").strip()
        every = parse_id(chosen) if chosen else None
        if chosen and (every is None or not MIN_EVERY_WEEKS <= every <= MAX_EVERY_WEEKS):
            return _child_page(db, kid, status=400, error=(
                f"Check-ins can be every {MIN_EVERY_WEEKS} to {MAX_EVERY_WEEKS} weeks; leave it empty for the "
                "school's rhythm."))
        setting.paused = request.form.get("paused") == "yes"
        setting.every_weeks, setting.updated_at = every, utcnow()
        db.add(setting)
        db.flush()
        checkins.replan(db, g.school, utcnow(), "The child's check-in settings changed.", child_id=kid.id)
        audit.record(db, g.school.id, g.staff.id, CHILD_CHECKINS, f"child:{kid.id}")
        paused = setting.paused
    flash("Check-ins for this child are paused." if paused else "Check-ins are planned again on the new rhythm.")
    return redirect(url_for("inbox.child", child_id=child_id, _anchor="checkins"))
