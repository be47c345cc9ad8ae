"""Staff correct the language of a parent's message from the thread ("this is Roman Urdu, not English")."""
from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for

from bot.guardians import lock_guardian
from bot.inbox import audit, bp, queries
from bot.inbox.auth import login_required
from bot.inbox.display import language_choices
from bot.inbox.thread import load_conversation
from bot.language import i18n
from bot.messaging.staff_translation import correct_language
from storage.db import session_scope

CORRECT_LANGUAGE = "correct_language"


@bp.post("/conversations/<int:conversation_id>/messages/<int:message_id>/language")
@login_required
def correct_message_language(conversation_id: int, message_id: int):
    """Set a parent's message's language: translated again, and the guardian's language learned."""
    code = request.form.get("language", "")
    with session_scope() as db:
        conversation, guardian = load_conversation(db, conversation_id)
        message = queries.conversation_message(db, g.school.id, conversation.id, message_id)
        if message is None or message.direction != "inbound":
            abort(404)  # another school's, or not a parent's: before anything about the form
        if code not in dict(language_choices()):
            abort(400, description="Choose a language from the list.")
        correct_language(db, message, lock_guardian(db, guardian.id), code, g.school.staff_language)
        audit.record(db, g.school.id, g.staff.id, CORRECT_LANGUAGE, f"message:{message.id}")
    flash(f"Marked as {i18n.english_name(code)}: translating it again, and writing to this parent "
          f"in {i18n.english_name(code)} from now on.")
    return redirect(url_for("inbox.thread", conversation_id=conversation_id, _anchor=f"m{message_id}"))
