"""Outbound messages: rendered for the parent and stored in the outbox (the database first).

Sending is bot/messaging/delivery.py's job; this module decides *what* a parent receives. Every
message stored here is handed to the delivery job once its transaction commits.
"""
from __future__ import annotations

import re

from flask import current_app
from sqlalchemy.orm import object_session
from sqlmodel import Session, select

from bot.language.i18n import catalogue_language, render_template, values_for
from bot.messaging.channel import get_channel
from bot.messaging.rendering import Rendering, machine_translate, render_catalogue
from bot.tasks import defer
from bot.translation import TranslationFailed, TranslationUnavailable
from storage.models import Child, Conversation, Guardian, GuardianChild, Message, School, StaffUser


def parent_language(guardian: Guardian, school: School) -> str:
    """The language to write to a guardian in (their preference, else the staff language),
    in the script they read: 'ur-Latn' for a parent who writes Urdu in English letters."""
    if not guardian.preferred_language:
        return school.staff_language
    if guardian.preferred_channel == "voice":
        return guardian.preferred_language  # spoken words have no script: a Bengali voice reads Bengali
    return catalogue_language(guardian.preferred_language, guardian.preferred_script)


def queue_message(session: Session, guardian: Guardian, conversation: Conversation, *, body: str,
                  rendering: Rendering, kind: str, language: str, template_key: str | None = None,
                  template_values: dict | None = None, staff_author_id: int | None = None,
                  urgent: bool = False, send_key: str | None = None, in_call: int | None = None) -> Message:
    """Store an outbound message in the outbox; delivery is queued when the transaction commits.

    The channel is provisional: delivery picks the route at send time. `in_call` is a call the
    parent is on right now (answering questions by phone): the message is spoken in that call,
    not delivered.
    """
    message = Message(
        school_id=guardian.school_id, conversation_id=conversation.id, guardian_id=guardian.id,
        direction="outbound", channel="whatsapp" if guardian.preferred_channel == "whatsapp" else "sms",
        kind=kind, body=body, language=language, translation=rendering.text,
        translation_engine=rendering.engine, translation_status=rendering.status,
        translation_note=rendering.note, translation_gap=rendering.gap, template_key=template_key, template_values=template_values,
        staff_author_id=staff_author_id, status="outbox", urgent=urgent, send_key=send_key,
        simulated=get_channel().simulated,
    )
    if in_call is not None:
        message.channel, message.status, message.call_id = "voice", "in_call", in_call
    session.add(message)
    conversation.last_message_at = message.created_at
    session.flush()
    if in_call is None:
        defer(session, "deliver_message", message.id)
    return message


def queue_catalogue_message(session: Session, guardian: Guardian, conversation: Conversation,
                            school: School, key: str, values: dict, language: str | None = None,
                            urgent: bool = False, in_call: int | None = None) -> Message:
    """Store a system message from templates_i18n, rendered in the guardian's language.

    `urgent` is for answers the parent is waiting for right now (a STOP confirmation, the next
    question of a flow they are answering): those go out even in quiet hours. A message with
    no human translation in that language is machine-translated by the delivery job, never
    here (this runs inside webhooks).
    """
    language = language or parent_language(guardian, school)
    human = render_template(key, language, **values)
    rendering = (Rendering(text=human, engine="human", status="human") if human is not None
                 else Rendering(text=None, engine=None, status="pending"))
    staff_values = values_for(values, school.staff_language, school.timezone)
    staff_copy = render_template(key, school.staff_language, **staff_values) or render_template(key, "en", **staff_values)
    return queue_message(session, guardian, conversation, body=staff_copy,
                         rendering=rendering, kind="system", language=language, template_key=key,
                         template_values=values, urgent=urgent, in_call=in_call)


def render_pending(message: Message) -> None:
    """Fill in a catalogue message's machine translation (in the delivery job, before sending)."""
    rendering = render_catalogue(message.template_key, message.language, message.template_values or {},
                                 current_app.extensions["translator"])
    message.translation, message.translation_engine = rendering.text, rendering.engine
    message.translation_status, message.translation_note = rendering.status, rendering.note
    message.translation_gap = rendering.gap


def render_staff_reply(english: str, guardian: Guardian, school: School) -> Rendering:
    """What the guardian will receive for a staff reply (shown to staff before sending)."""
    return machine_translate(english, school.staff_language, parent_language(guardian, school),
                             current_app.extensions["translator"], keep=known_names(guardian, school))


def back_translate(rendering: Rendering, guardian: Guardian, school: School) -> str | None:
    """A machine translation translated back into the staff language, so garbling shows before sending.

    None when there is nothing machine-made to check or no engine can translate it back.
    """
    if rendering.status != "done" or not rendering.translated:
        return None
    try:
        return current_app.extensions["translator"].translate(
            rendering.translated, parent_language(guardian, school), school.staff_language,
            keep=known_names(guardian, school)).text
    except (TranslationUnavailable, TranslationFailed):
        return None


def known_names(guardian: Guardian, school: School) -> tuple[str, ...]:
    """Names a translation must leave as written: the school, its staff, the carer, their children
    (children by first name too; staff without a role in brackets: "Ms Patel (SENDCo)" → "Ms Patel")."""
    names = [school.name, guardian.name or ""]
    session = object_session(guardian)
    if session is not None:
        children = session.exec(select(Child.name).join(GuardianChild, GuardianChild.child_id == Child.id)
                                .where(GuardianChild.guardian_id == guardian.id)).all()
        names += [part for name in children for part in (name, name.split()[0])]
        staff = session.exec(select(StaffUser.name).where(StaffUser.school_id == school.id)).all()
        names += [re.sub(r"\s*\(.*?\)", "", name).strip() for name in staff]
    return tuple(name for name in dict.fromkeys(names) if name)
