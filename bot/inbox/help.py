"""The translation help page: which of the school's languages a translator on this server reads,
and for the others the exact command an administrator runs to add one."""
from __future__ import annotations

from flask import current_app, g, render_template
from sqlmodel import select

from bot.inbox import bp
from bot.inbox.auth import login_required
from bot.language import i18n
from storage.db import session_scope
from storage.models import Guardian

INSTALL_COMMAND = "flask --app app translation install-argos --pair {source}:{target}"


@bp.get("/help/translation")
@login_required
def translation_help():
    """Per language the school's families use: translated for staff, or the command that adds it."""
    with session_scope() as db:
        used = set(db.exec(select(Guardian.preferred_language).where(
            Guardian.school_id == g.school.id, Guardian.preferred_language.is_not(None))).all())
    staff = g.school.staff_language
    translator = current_app.extensions["translator"]
    rows = []
    for code in sorted(used | {c for c in i18n.catalog_languages() if "-" not in c}, key=i18n.english_name):
        if code == staff:
            continue
        rows.append({"code": code, "name": i18n.english_name(code), "families": code in used,
                     "reads": translator.supports(code, staff), "writes": translator.supports(staff, code),
                     "command": INSTALL_COMMAND.format(source=code, target=staff)})
    rows.sort(key=lambda row: (not row["families"], row["name"]))
    return render_template("inbox/translation_help.html", rows=rows, school=g.school,
                           romanised=[i18n.english_name(c) for c in i18n.catalog_languages() if i18n.is_romanised(c)])
