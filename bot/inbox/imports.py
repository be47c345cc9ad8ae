"""Import families from a CSV export (SENDCo only): upload → preview, row by row → import → summary.

The preview page carries the file's text back in the form, so the import is of exactly the file
previewed; it is checked again and every valid row is imported in one transaction.
"""
from __future__ import annotations

import hashlib

from flask import render_template, request, g

from bot.inbox import audit, bp
from bot.inbox.auth import sendco_required
from bot.inbox.csv_import import ImportFileProblem, apply_plan, plan_import
from storage.db import session_scope

MAX_UPLOAD_BYTES = 4 * 1024 * 1024  # a few thousand families; the app's default limit is for webhooks
IMPORT_ENDPOINTS = ("inbox.import_preview", "inbox.import_confirm")


def allow_large_upload() -> None:
    """Before the CSRF check reads the form: the import pages may post a whole MIS export."""
    if request.endpoint in IMPORT_ENDPOINTS:
        request.max_content_length = MAX_UPLOAD_BYTES


def _decode(data: bytes) -> str:
    # Excel on Windows still saves "CSV" as Windows-1252; UTF-8 (with or without BOM) otherwise.
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _digest(text: str) -> str:
    # Browsers post a textarea with CRLF line ends: the file is the same file either way.
    return hashlib.sha256(text.replace("\r\n", "\n").encode()).hexdigest()


def _start(error: str | None = None, status: int = 200):
    return render_template("staff/import.html", error=error), status


@bp.get("/families/import")
@sendco_required
def import_start():
    """The upload form, with the columns we read."""
    return _start()


@bp.post("/families/import")
@sendco_required
def import_preview():
    """Check every row of the uploaded file and show what importing would do; nothing is saved."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _start("Choose the CSV file exported from your MIS.", 400)
    text = _decode(upload.read())
    with session_scope() as db:
        try:
            plan = plan_import(db, g.school, text)
        except ImportFileProblem as problem:
            return _start(str(problem), 400)
        db.rollback()  # a preview changes nothing
    return render_template("staff/import_preview.html", plan=plan, text=text, digest=_digest(text),
                           filename=upload.filename)


@bp.post("/families/import/confirm")
@sendco_required
def import_confirm():
    """Import every valid row of the previewed file at once, then show the summary."""
    text = request.form.get("text", "")
    if _digest(text) != request.form.get("digest"):
        return _start("The file changed after the preview. Upload it again.", 400)
    with session_scope() as db:
        try:
            plan = plan_import(db, g.school, text)
        except ImportFileProblem as problem:
            return _start(str(problem), 400)
        counts = apply_plan(db, g.school, plan)
        audit.record(db, g.school.id, g.staff.id, audit.IMPORT_FAMILIES,
                     f"rows:{len(plan.valid)} children:{counts['children']} carers:{counts['carers']}")
    return render_template("staff/import_done.html", plan=plan, counts=counts)
