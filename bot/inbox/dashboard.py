"""The dashboard: a SENDCo's ten-second view, drawn as server-rendered SVG bar charts (no scripts)."""
from __future__ import annotations

from flask import g, render_template

from bot.inbox import bp
from bot.inbox.auth import login_required
from bot.inbox.dashboard_queries import build
from bot.inbox.display import language_name
from bot.inbox.wording import channel_name
from storage.db import session_scope


@bp.get("/dashboard")
@login_required
def dashboard():
    """Families reached, answers to reminders and questions by language and channel, views before reviews."""
    with session_scope() as db:
        data = build(db, g.school.id, language_name, channel_name)
    return render_template("staff/dashboard.html", data=data)
