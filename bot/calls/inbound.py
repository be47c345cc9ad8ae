"""Calls to a school's number: a greeting in the caller's language, or a short language menu first.

A known caller hears the greeting in their language; an unknown one hears "for Polish press 1"
with each option in its own language (a voice, or staff's recording). Then: 1 the latest message
from the school, 2 leave a message, 3 ask for a call back (bot/calls/ivr.py answers those keys).
"""
from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select

from bot.calls.ivr import _Step, step_url
from bot.calls.prompts import prompt
from bot.language.i18n import spoken_languages
from bot.messaging.phones import normalise_phone
from bot.messaging.voice import Gather, Hangup, VoiceEvent
from storage.db import session_scope
from storage.models import Call, Guardian, School, SchoolNumber
from storage.queries import conversation_for, find_or_create_guardian

MAX_MENU_LANGUAGES = 9  # one key each


def menu_languages(session, school_id: int) -> list[str]:
    """The languages offered to an unknown caller (nine keys): the school's families' languages first,
    most spoken first, then the rest of the catalogue; only those that can be said (voice or recording)."""
    counts = session.exec(select(Guardian.preferred_language, func.count()).where(
        Guardian.school_id == school_id, Guardian.preferred_language != None)  # noqa: E711
        .group_by(Guardian.preferred_language).order_by(func.count().desc(), Guardian.preferred_language)).all()
    offered = []
    for language in dict.fromkeys([language for language, _ in counts] + spoken_languages()):
        if prompt(session, school_id, "voice.language_choice", language, digit="1") is not None:
            offered.append(language)
    return offered[:MAX_MENU_LANGUAGES]


def incoming(event: VoiceEvent) -> list:
    """A call to a school number: stored as a call, answered in the caller's language (or asked which)."""
    with session_scope() as session:
        try:
            recipient = normalise_phone(event.recipient or "")
        except ValueError:
            return [Hangup()]
        number = session.exec(select(SchoolNumber).where(SchoolNumber.phone == recipient)).first()
        if number is None or not event.sender:
            return [Hangup()]
        school = session.get(School, number.school_id)
        try:
            sender = normalise_phone(event.sender, school.default_region)
        except ValueError:
            return [Hangup()]  # a withheld number: nobody to greet or call back
        guardian = find_or_create_guardian(session, school.id, sender)
        conversation_for(session, guardian)
        call = session.exec(select(Call).where(Call.provider_sid == event.call_sid)).first()
        if call is None:
            call = Call(school_id=school.id, guardian_id=guardian.id, direction="inbound", purpose="inbound",
                        language=guardian.preferred_language, status="in-progress", answered_by="human",
                        provider_sid=event.call_sid, attempts=1)
            session.add(call)
            session.flush()
        if guardian.preferred_language:
            return _greeting(_Step(session, call))
        options = []
        for digit, language in enumerate(menu_languages(session, school.id), 1):
            options.append(prompt(session, school.id, "voice.language_choice", language, digit=str(digit)))
        return [Gather(tuple(options), action=step_url(call, "lang"), on_silence=step_url(call, "lang", 1))]


def _greeting(step: _Step) -> list:
    return step.menu(step.prompt("voice.greeting"), step="imenu", key="voice.inbound_menu")


def choose_language(call_id: int | None, tries: int, event: VoiceEvent) -> list:
    """The caller pressed a language's key: remembered for them, then greeted in it."""
    with session_scope() as session:
        call = session.get(Call, call_id) if call_id else None
        if call is None:
            return [Hangup()]
        languages = menu_languages(session, call.school_id)
        digits = (event.digits or "").strip()
        if not digits.isdigit() or not 1 <= int(digits) <= len(languages):
            if tries > 2:
                return [Hangup()]
            options = [prompt(session, call.school_id, "voice.language_choice", language, digit=str(digit))
                       for digit, language in enumerate(languages, 1)]
            return [Gather(tuple(options), action=step_url(call, "lang", tries),
                           on_silence=step_url(call, "lang", tries + 1))]
        step = _Step(session, call)
        chosen = languages[int(digits) - 1]
        call.language = step.language = chosen
        if step.guardian.preferred_language is None:
            step.guardian.preferred_language = chosen
        return _greeting(step)
