"""Building the thread page: a conversation's messages, its guardian, and the reply box state.

Shared by the thread view and the reply views (preview and send re-render the same page).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from functools import cached_property
from datetime import timedelta, timezone

from flask import abort, current_app, g, render_template
from sqlmodel import Session

from bot.inbox import queries
from bot.inbox.contribution import flow_banner, understood_answers
from bot.inbox.display import local_time
from bot.inbox.route_preview import likely_route
from bot.language.i18n import is_romanised
from bot.messaging.outbound import back_translate, known_names, parent_language
from bot.messaging.rendering import Rendering, approval_code
from bot.messaging.segments import SegmentCount, count_segments
from bot.translation.protect import protect
from storage.models import Conversation, Guardian, Message, School, utcnow


@dataclass(frozen=True)
class ReplyPreview:
    """What the parent will receive for the English a member of staff typed."""

    english: str
    rendering: Rendering
    segments: SegmentCount
    language: str
    channel: str
    guardian: Guardian = field(compare=False, repr=False)
    # The send form's one-time key: posting the same form again (Back, Send again) sends nothing more.
    send_key: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def approval(self) -> str:
        """What the send form carries back: the fingerprint of exactly this rendering."""
        return approval_code(self.english, self.rendering, self.language)

    # Worked out only when a page shows them: a send that goes ahead needs neither.
    @cached_property
    def back_translation(self) -> str | None:
        """The parent's text translated back into English (machine), to show garbling before sending."""
        return back_translate(self.rendering, self.guardian, g.school)

    @cached_property
    def kept(self) -> tuple[str, ...]:
        """What the translation had to keep as written (times, dates, numbers, names): marked on the page."""
        if self.rendering.status != "done":
            return ()
        return protect(self.english, known_names(self.guardian, g.school)).tokens


def load_conversation(session: Session, conversation_id: int) -> tuple[Conversation, Guardian]:
    """The signed-in school's conversation and its guardian; 404 for anything else."""
    conversation = queries.get_conversation(session, g.school.id, conversation_id)
    guardian = queries.get_guardian(session, g.school.id, conversation.guardian_id) if conversation else None
    if conversation is None or guardian is None:
        abort(404)
    return conversation, guardian


def reply_channel(guardian: Guardian) -> str:
    """The channel a staff reply goes out on, as delivery will choose it (WhatsApp's 24-hour window
    closed: SMS; voice guardians get text replies by SMS)."""
    return likely_route(guardian).channel


def make_preview(english: str, rendering: Rendering, guardian: Guardian) -> ReplyPreview:
    """Package a rendering for the page, with its SMS segment count."""
    return ReplyPreview(english=english, rendering=rendering, segments=count_segments(rendering.text),
                        language=parent_language(guardian, g.school), channel=reply_channel(guardian),
                        guardian=guardian)


def replies_translated(language: str, school: School) -> bool:
    """Whether a staff reply reaches this language translated (or needs no translation at all)."""
    if language == school.staff_language:
        return True
    return not is_romanised(language) and current_app.extensions["translator"].supports(school.staff_language, language)


def quiet_holds(messages: list[Message], school: School) -> dict[int, str]:
    """Outbound messages waiting for quiet hours to end: id -> when they go ('08:00')."""
    now, held = utcnow(), {}
    for message in messages:
        until = message.not_before
        if message.direction != "outbound" or message.status != "outbox" or until is None:
            continue
        until = until if until.tzinfo else until.replace(tzinfo=timezone.utc)  # SQLite: naive UTC
        if until > now:
            pattern = "%H:%M" if until - now <= timedelta(hours=24) else "%H:%M on %d/%m/%Y"
            held[message.id] = local_time(until, school, pattern)
    return held


def thread_items(session: Session, conversation: Conversation, guardian: Guardian) -> dict:
    """What the thread's message list needs (the page, and the live update that swaps it in place)."""
    messages = queries.thread_messages(session, conversation)
    flows = current_app.extensions["flows"]
    return dict(
        conversation=conversation, guardian=guardian, messages=messages, school=g.school,
        authors=queries.staff_names(session, g.school.id, {m.staff_author_id for m in messages if m.staff_author_id}),
        held=quiet_holds(messages, g.school), understood=understood_answers(session, messages, flows),
        recordings=queries.recordings_for(session, g.school.id, [m.id for m in messages if m.direction == "inbound"]),
    )


def render_thread(session: Session, conversation: Conversation, guardian: Guardian, *, draft: str = "",
                  preview: ReplyPreview | None = None, error: str | None = None, status: int = 200):
    """The thread page, optionally with a draft, its preview or an error in the reply box."""
    language = parent_language(guardian, g.school)
    page = render_template(
        "inbox/thread.html", **thread_items(session, conversation, guardian),
        children=queries.children_names(session, g.school.id, [guardian.id]).get(guardian.id, []),
        draft=draft, preview=preview, error=error, reply_language=language, reply_channel=reply_channel(guardian),
        reply_translated=replies_translated(language, g.school),
        flow=flow_banner(session, guardian.id, current_app.extensions["flows"]),
    )
    return page, status
