"""One update to many families: choose carers, write once in English, check every language, send.

The preview shows each language the update goes out in (its translation, translated back, and
SMS parts) and who will not get it and why. Sending goes through only for exactly the renderings
previewed (one approval code per language, as for a reply), and each carer gets their own
message row on the normal outbound path (quiet hours, rate limit, failover, opt-out apply).
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from flask import flash, g, redirect, render_template, request, url_for
from sqlmodel import select

from bot.inbox import audit, bp
from bot.inbox.audience import Filters, Recipient, matching_carers, ticked
from bot.inbox.auth import login_required
from bot.inbox.safety import parse_id
from bot.inbox.family_forms import SEND_STATUSES, YEAR_GROUPS
from bot.inbox.languages import choices
from bot.inbox.reply import MAX_REPLY_CHARS
from bot.inbox.thread import ReplyPreview, make_preview, reply_channel
from bot.messaging.outbound import queue_message, render_staff_reply
from bot.translation import TranslationFailed
from storage.db import session_scope
from storage.models import Conversation, Message

BATCH_KEY = re.compile(r"[0-9a-f]{32}")
ENGINE_DOWN = "The translation service did not answer. Nothing was sent; try again in a minute."


@dataclass
class LanguageGroup:
    """The carers who get the update in one language, and what they will receive."""

    language: str
    recipients: list[Recipient]
    preview: ReplyPreview

    @property
    def channels(self) -> dict[str, int]:
        """How many go by each channel ({"sms": 3, "whatsapp": 1})."""
        counts: dict[str, int] = {}
        for recipient in self.recipients:
            channel = reply_channel(recipient.guardian)
            counts[channel] = counts.get(channel, 0) + 1
        return counts


def _english() -> str:
    return request.form.get("body", "").replace("\r\n", "\n").strip()


def _chosen_ids(field: str = "guardian") -> list[int]:
    return [number for number in map(parse_id, request.form.getlist(field)) if number is not None]


def _left_out(db, recipients: list[Recipient]) -> list[Recipient]:
    """Who will not get it and why: ticked carers who cannot receive it, and those the page could not tick."""
    chosen = {r.guardian.id for r in recipients}
    shown = ticked(db, g.school, [i for i in _chosen_ids("cannot") if i not in chosen])
    return [r for r in recipients + shown if r.reason]


def _groups(recipients: list[Recipient], english: str) -> list[LanguageGroup]:
    """One preview per language, rendered as the first carer in it will receive it."""
    by_language: dict[str, list[Recipient]] = {}
    for recipient in recipients:
        if recipient.reason is None:
            by_language.setdefault(recipient.language, []).append(recipient)
    groups = []
    for language, members in sorted(by_language.items()):
        guardian = members[0].guardian
        preview = make_preview(english, render_staff_reply(english, guardian, g.school), guardian)
        groups.append(LanguageGroup(language, members, preview))
    return groups


def _prepared(db, english: str):
    """The ticked carers and their language groups, or the form again saying what is wrong
    (the same checks for the preview and the send)."""
    recipients = ticked(db, g.school, _chosen_ids())
    refused = _refusal(english, recipients)
    if refused:
        return recipients, [], _form_page(recipients, Filters(), english, refused, 400)
    try:
        return recipients, _groups(recipients, english), None
    except TranslationFailed:
        return recipients, [], _form_page(recipients, Filters(), english, ENGINE_DOWN, 503)


def _form_page(recipients, filters, english="", error=None, status=200):
    return render_template("staff/update.html", recipients=recipients, filters=filters, english=english,
                           error=error, years=YEAR_GROUPS, statuses=SEND_STATUSES, languages=choices(),
                           max_chars=MAX_REPLY_CHARS), status


def _refusal(english: str, recipients: list[Recipient]) -> str | None:
    if not english:
        return "Write the update first."
    if len(english) > MAX_REPLY_CHARS:
        return f"The update is {len(english)} characters; the most is {MAX_REPLY_CHARS}."
    if not any(r.reason is None for r in recipients):
        return "Tick at least one carer who can receive it."
    return None


@bp.get("/updates")
@login_required
def new_update():
    """Choose carers (filters, then ticks) and write the update."""
    filters = Filters.from_args(request.args)
    with session_scope() as db:
        return _form_page(matching_carers(db, g.school, filters), filters)


@bp.post("/updates/preview")
@login_required
def preview_update():
    """Each language's translation and SMS parts, and who will not get it and why."""
    english = _english()
    with session_scope() as db:
        recipients, groups, problem = _prepared(db, english)
        if problem:
            return problem
        return render_template("staff/update_preview.html", english=english, groups=groups,
                               left_out=_left_out(db, recipients), recipients=recipients, send_key=uuid.uuid4().hex)


@bp.post("/updates/send")
@login_required
def send_update():
    """Store one message per carer, exactly as previewed; the worker sends each once committed."""
    english, key = _english(), request.form.get("send_key", "")
    with session_scope() as db:
        if not BATCH_KEY.fullmatch(key):
            return _form_page([], Filters(), english, "Preview the update first.", 400)
        if db.exec(select(Message.id).where(Message.school_id == g.school.id,
                                            Message.send_key.startswith(key + ":"))).first():
            flash("This update was already sent (the form was submitted twice); it went out once.")
            return redirect(url_for("inbox.new_update"))
        recipients, groups, problem = _prepared(db, english)
        if problem:
            return problem
        changed = request.form.get("previewed", "").replace("\r\n", "\n").strip() != english or any(
            request.form.get(f"approved_{group.language}") != group.preview.approval for group in groups)
        if changed:
            return render_template("staff/update_preview.html", english=english, groups=groups, recipients=recipients,
                                   left_out=_left_out(db, recipients), send_key=uuid.uuid4().hex,
                                   error="Something changed since the preview (the text, the carers or a "
                                         "translation). Check it again, then send."), 409
        sent = 0
        for group in groups:
            for recipient in group.recipients:
                _queue(db, recipient, group, english, key)
                sent += 1
        audit.record(db, g.school.id, g.staff.id, audit.SEND_UPDATE, f"update:{key} recipients:{sent}")
    flash(f"Update saved for {sent} carer{'s' if sent != 1 else ''} in {len(groups)} "
          f"language{'s' if len(groups) != 1 else ''}. Each goes out as soon as the sender is free; "
          "“Not reached” shows anyone it does not reach.")
    return redirect(url_for("inbox.new_update"))


def _queue(db, recipient: Recipient, group: LanguageGroup, english: str, key: str) -> Message:
    # An update does not pause a carer's running question flow (a reply in their thread does):
    # it is news for everyone, not a member of staff taking over the conversation.
    guardian = recipient.guardian
    conversation = db.exec(select(Conversation).where(Conversation.guardian_id == guardian.id)).first()
    if conversation is None:
        conversation = Conversation(school_id=g.school.id, guardian_id=guardian.id)
        db.add(conversation)
        db.flush()
    return queue_message(db, guardian, conversation, body=english, rendering=group.preview.rendering,
                         kind="staff_reply", language=group.language, staff_author_id=g.staff.id,
                         send_key=f"{key}:{guardian.id}")
