"""Inbound messages: from Twilio's form to a stored row, then keywords, language and jobs.

The message is committed before anything else is attempted, so nothing a parent sends is
lost if a later step fails: the sweep picks up whatever is still pending.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from flask import current_app
from sqlmodel import select
from werkzeug.datastructures import MultiDict

from bot.keywords import match_keyword
from bot.language import detect
from bot import flow_runs
from bot.delivery import mark_opted_out
from bot.outbound import enqueue_delivery, queue_catalogue_message
from bot.phones import InvalidPhoneNumber, parse_address
from bot.queue import enqueue
from storage.db import session_scope
from storage.models import Guardian, Message, School, utcnow
from storage.queries import conversation_for, find_or_create_guardian, insert_message_once, school_for_number

log = logging.getLogger(__name__)

MESSAGE_SID = re.compile(r"^(SM|MM|IM)[0-9a-fA-F]{32}$")
MAX_BODY_CHARS = 1600
MAX_MEDIA = 10
# A detection this sure, on a message this long, teaches us a guardian's language.
LEARN_LANGUAGE_CONFIDENCE, LEARN_LANGUAGE_MIN_CHARS = 0.8, 12


class BadWebhook(ValueError):
    """The webhook's fields are missing or malformed (answered 400, nothing stored)."""


class UnknownSchoolNumber(LookupError):
    """No school owns the number the message was sent to."""


@dataclass(frozen=True)
class InboundText:
    """A parent's message as Twilio posted it, checked but not yet normalised."""

    sid: str
    sender: str
    recipient: str
    body: str
    media: list[dict]


def parse_inbound(form: MultiDict) -> InboundText:
    """Check Twilio's form fields; raise BadWebhook with a readable reason."""
    sid = form.get("MessageSid", "")
    if not MESSAGE_SID.match(sid):
        raise BadWebhook("MessageSid is missing or malformed")
    if not form.get("From") or not form.get("To"):
        raise BadWebhook("From and To are required")
    # A NUL cannot be stored in PostgreSQL text; refusing the message would lose it on every
    # Twilio retry, so it becomes U+FFFD, the standard mark for a character that could not be kept.
    body = form.get("Body", "").replace("\x00", "\ufffd")
    if len(body) > MAX_BODY_CHARS:
        raise BadWebhook(f"Body is longer than {MAX_BODY_CHARS} characters")
    try:
        num_media = int(form.get("NumMedia", "0") or 0)
    except ValueError:
        raise BadWebhook("NumMedia is not a number") from None
    if not 0 <= num_media <= MAX_MEDIA:
        raise BadWebhook(f"NumMedia must be between 0 and {MAX_MEDIA}")
    media = [{"url": form.get(f"MediaUrl{i}", ""), "content_type": form.get(f"MediaContentType{i}", "")}
             for i in range(num_media)]
    return InboundText(sid=sid, sender=form["From"], recipient=form["To"], body=body, media=media)


def receive(inbound: InboundText) -> None:
    """Store a parent's message (once per sid), then act on it.

    Once the message is stored, Twilio gets its 200 whatever happens next: a failure while
    acting on it is left to the sweep (the message stays "received"), not to a Twilio retry.
    """
    guardian_id = _store(inbound)
    try:
        process_received(guardian_id)
    except Exception as error:  # the type only: a message's text must never reach the logs
        log.error("processing a stored message failed (%s); the sweep will retry it", type(error).__name__)


def _store(inbound: InboundText) -> int:
    """Insert the message untouched (once per sid: a Twilio retry inserts nothing); its guardian's id."""
    with session_scope() as session:
        try:
            recipient = parse_address(inbound.recipient)
        except InvalidPhoneNumber as error:
            raise BadWebhook(f"To: {error}") from None
        school = school_for_number(session, recipient.phone)
        if school is None:
            raise UnknownSchoolNumber("no school uses the number this message was sent to")
        try:
            sender = parse_address(inbound.sender, school.default_region)
        except InvalidPhoneNumber as error:
            raise BadWebhook(f"From: {error}") from None
        guardian = find_or_create_guardian(session, school.id, sender.phone)
        conversation = conversation_for(session, guardian)
        now = utcnow()
        message = Message(
            school_id=school.id, conversation_id=conversation.id, guardian_id=guardian.id,
            direction="inbound", channel=sender.channel, body=inbound.body,
            num_media=len(inbound.media), media=inbound.media or None,
            provider_sid=inbound.sid, status="received", created_at=now,
        )
        if insert_message_once(session, message) is None:
            return guardian.id
        guardian.last_inbound_at = now
        conversation.last_message_at = now
        return guardian.id


def process_received(guardian_id: int) -> None:
    """Act on a guardian's stored, unprocessed messages, oldest first; then enqueue the jobs.

    The guardian's row lock makes two messages arriving together wait for each other, and
    taking every unprocessed message in id order keeps them in the order they came. A failure
    here loses nothing: the message stays "received" and the sweep runs this again.
    """
    to_translate, to_deliver = [], []
    with session_scope() as session:
        guardian = flow_runs.lock_guardian(session, guardian_id)
        received = session.exec(select(Message).where(
            Message.guardian_id == guardian_id, Message.direction == "inbound",
            Message.status == "received").order_by(Message.id)).all()
        for message in received:
            to_deliver += _process(session, message, guardian)
            message.status = "processed"
            if message.translation_status == "pending":
                to_translate.append(message.id)
    from bot.jobs import TRANSLATION_RETRY, translate_message

    for message_id in to_translate:
        enqueue(translate_message, message_id, retry=TRANSLATION_RETRY)
    for reply_id in to_deliver:
        enqueue_delivery(reply_id)


def _process(session, message: Message, guardian: Guardian) -> list[int]:
    """Language, keywords and the guardian's question flow for one message; returns replies to send."""
    school = session.get(School, message.school_id)
    detection = detect(message.body, prior=guardian.preferred_language)
    message.language, message.language_confidence = detection.language, detection.confidence
    _learn_language(guardian, message)
    if message.language == school.staff_language or not message.body.strip():
        message.translation_status, message.translation_engine = "not_needed", "none"
    keyword = _keyword_for(session, message, guardian)
    if keyword:
        message.kind, message.translation_status = "keyword", "not_needed"
        return _apply_keyword(session, keyword, guardian, school, message.channel)
    return flow_runs.answer(session, message, guardian, school)[1]


def _keyword_for(session, message: Message, guardian: Guardian):
    keyword = match_keyword(message.body)
    # "YES" is one of Twilio's opt-in words, but to a parent answering a question it means yes.
    if keyword and keyword.action == "start" and not guardian.opted_out and flow_runs.live_run(session, guardian.id):
        return None
    return keyword


def _learn_language(guardian: Guardian, message: Message) -> None:
    # Only a confident reading of a real sentence sets a guardian's language; staff can
    # always correct it, and a known language is never overwritten by one message.
    if (guardian.preferred_language is None and message.language
            and (message.language_confidence or 0) >= LEARN_LANGUAGE_CONFIDENCE
            and len(message.body.strip()) >= LEARN_LANGUAGE_MIN_CHARS):
        guardian.preferred_language = message.language


def _apply_keyword(session, keyword, guardian: Guardian, school: School, channel: str) -> list[int]:
    """Opt out, opt in or help; return the messages to send in reply."""
    if keyword.action == "stop":
        mark_opted_out(guardian)
        flow_runs.end_for_opt_out(session, guardian.id)
        key = "optout.confirm"
    elif keyword.action == "start":
        guardian.opted_out, guardian.opted_out_at = False, None
        key = "optin.confirm"
    else:
        key = "help.reply"
    replies = []
    # Twilio has already answered its own keywords on SMS (and would refuse our reply).
    if not (channel == "sms" and keyword.twilio_default and current_app.extensions["channel"].handles_sms_keywords):
        conversation = conversation_for(session, guardian)
        replies.append(queue_catalogue_message(session, guardian, conversation, school, key, {"school": school.name},
                                               language=_reply_language(keyword, guardian), urgent=True).id)
    if keyword.action == "help":
        replies += flow_runs.repeat_question(session, guardian, school)  # then carry on where they were
    return replies


def _reply_language(keyword, guardian: Guardian) -> str | None:
    # A keyword in a language of its own ("BAJA") is answered in that language; a global one
    # ("STOP"), or one the guardian's known language shares, in the language we know them by.
    own = [language for language in keyword.languages if language != "en"]
    if not own or guardian.preferred_language in own:
        return None
    return keyword.language or own[0]
