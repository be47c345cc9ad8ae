"""Outbound messages: rendered for the parent and stored in the outbox (the database first).

Sending is bot/delivery.py's job; this module decides *what* a parent receives.
"""
from __future__ import annotations

from flask import current_app
from rq import Retry
from sqlmodel import Session

from bot.queue import enqueue
from bot.i18n import render_template
from bot.rendering import Rendering, machine_translate, render_catalogue
from storage.models import Conversation, Guardian, Message, School

DELIVERY_RETRY = Retry(max=5, interval=[10, 30, 60, 300, 900])


def parent_language(guardian: Guardian, school: School) -> str:
    """The language to write to a guardian in (their preference, else the staff language)."""
    return guardian.preferred_language or school.staff_language


def queue_message(session: Session, guardian: Guardian, conversation: Conversation, *, body: str,
                  rendering: Rendering, kind: str, language: str, template_key: str | None = None,
                  template_values: dict | None = None, staff_author_id: int | None = None,
                  urgent: bool = False) -> Message:
    """Store an outbound message in the outbox; the caller enqueues it after commit.

    The channel is provisional: delivery picks the route at send time.
    """
    message = Message(
        school_id=guardian.school_id, conversation_id=conversation.id, guardian_id=guardian.id,
        direction="outbound", channel="whatsapp" if guardian.preferred_channel == "whatsapp" else "sms",
        kind=kind, body=body, language=language, translation=rendering.text,
        translation_engine=rendering.engine, translation_status=rendering.status,
        translation_note=rendering.note, template_key=template_key, template_values=template_values,
        staff_author_id=staff_author_id, status="outbox", urgent=urgent,
    )
    session.add(message)
    conversation.last_message_at = message.created_at
    session.flush()
    return message


def queue_catalogue_message(session: Session, guardian: Guardian, conversation: Conversation,
                            school: School, key: str, values: dict, language: str | None = None,
                            urgent: bool = False) -> Message:
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
    return queue_message(session, guardian, conversation, body=render_template(key, "en", **values),
                         rendering=rendering, kind="system", language=language, template_key=key,
                         template_values=values, urgent=urgent)


def render_pending(message: Message) -> None:
    """Fill in a catalogue message's machine translation (in the delivery job, before sending)."""
    rendering = render_catalogue(message.template_key, message.language, message.template_values or {},
                                 current_app.extensions["translator"])
    message.translation, message.translation_engine = rendering.text, rendering.engine
    message.translation_status, message.translation_note = rendering.status, rendering.note


def render_staff_reply(english: str, guardian: Guardian, school: School) -> Rendering:
    """What the guardian will receive for a staff reply (shown to staff before sending)."""
    return machine_translate(english, school.staff_language, parent_language(guardian, school),
                             current_app.extensions["translator"])


def queue_staff_reply(session: Session, guardian: Guardian, conversation: Conversation, school: School,
                      staff_author_id: int | None, english: str, urgent: bool = False) -> Message:
    """Store a staff reply, rendered in the guardian's language; enqueue it after commit.

    A member of staff writing in pauses any question flow: the conversation is theirs now.
    """
    from bot.flow_runs import pause_for_staff

    pause_for_staff(session, guardian.id)
    return queue_message(session, guardian, conversation, body=english,
                         rendering=render_staff_reply(english, guardian, school), kind="staff_reply",
                         language=parent_language(guardian, school), staff_author_id=staff_author_id,
                         urgent=urgent)


def enqueue_delivery(message_id: int) -> bool:
    """Hand a stored message to the worker (the sweep catches it if Redis is down)."""
    from bot.jobs import deliver_message

    return enqueue(deliver_message, message_id, retry=DELIVERY_RETRY)
