"""The staff inbox: sign-in, the conversation list, a thread, and replies in the parent's language.

`bp` is mounted at "/". Its views live in the modules imported below; each registers its
routes on `bp`. Every query is scoped to the signed-in staff member's school.
"""
from flask import Blueprint

bp = Blueprint("inbox", __name__)

from bot.inbox import auth, display, help, language_fix, reply, reviews, safety, views, voice  # noqa: E402,F401  (routes register on bp)
from bot.inbox import checkin_settings, children, family_hooks  # noqa: E402,F401  (targets and check-ins)
from bot.inbox import accountability, colleagues, conversation_tools, dashboard, families, imports, live, not_reached, settings, trust, updates, views_rounds  # noqa: E402,F401  (staff tools)

bp.record_once(display.register_filters)
bp.record_once(lambda state: safety.init_app(state.app))
bp.before_request(safety.refuse_nul)

# Ahead of every other before_request (CSRF reads the form): the import may post a whole MIS export.
bp.record_once(lambda state: state.app.before_request_funcs.setdefault(None, []).insert(0, imports.allow_large_upload))
