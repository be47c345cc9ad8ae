"""Placing calls: the `place_call` job, retries inside allowed hours, and the calls sweep.

The Call row is the schedule. The job claims a planned call (planned → dialing, committed)
before asking the provider to ring, so a job that runs twice rings once. The provider's status
callback carries our call id, so a worker killed after the provider accepted the call but before
the sid was stored is still recognised when the provider reports it, and nothing is placed
again; only a call nobody has heard of for DISPATCH_RECOVERY_MINUTES goes back to planned.
Busy, unanswered, failed and machine-answered calls are tried again at most MAX_RETRIES times,
CALL_RETRY_MINUTES apart, moved out of quiet hours; then staff are told in words.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import update
from sqlmodel import Session, select

from bot.calls.prompts import missing_recordings, no_voice_note, voice_url
from bot.messaging.channel import ChannelError, OutboundCall, get_channel
from bot.messaging.quiet_hours import effective_quiet_hours, next_allowed_time
from bot.tasks import defer
from storage.db import session_scope
from storage.models import Call, Guardian, Message, School, utcnow
from storage.queries import school_sender

log = logging.getLogger(__name__)

MAX_RETRIES = 3
ON_A_CALL_WAIT = timedelta(minutes=2)
# A call still "live" after this long lost its final report; it no longer holds the next one back.
LIVE_CALL_LIMIT = timedelta(hours=1)
LIVE_STATUSES = ("dialing", "queued", "ringing", "in-progress")
WAITING = ("calling",)  # a message waiting on its call


def call_messages(session: Session, call_id: int, statuses=WAITING) -> list[Message]:
    """The messages a call is to speak, in the order they were written."""
    return list(session.exec(select(Message).where(Message.call_id == call_id, Message.status.in_(statuses))
                             .order_by(Message.id)).all())


def place(call_id: int) -> str | None:
    """Ring the guardian for a planned call, once; the provider's sid, or None when not (yet) placed."""
    now = utcnow()
    with session_scope() as session:
        call = session.get(Call, call_id)
        if call is None or call.status != "planned":
            return None  # placed already, or finished: a second run rings nobody
        if call.purpose == "prompt":  # a member of staff who asked to be rung now
            outbound = _staff_call(session, call)
            if outbound is None or not _claim(session, call.id):
                return None
            return _ring(call_id, outbound)
        guardian = session.get(Guardian, call.guardian_id)
        school = session.get(School, call.school_id)
        if call.next_attempt_at and call.next_attempt_at > now:
            defer(session, "place_call", call.id, at=call.next_attempt_at)
            return None
        if guardian.opted_out:
            finish(session, call, "blocked", "The parent has opted out: no call was made.", message_status="blocked")
            return None
        if _on_another_call(session, call, now):
            call.next_attempt_at = now + ON_A_CALL_WAIT  # one call at a time: ring after this one ends
            defer(session, "place_call", call.id, at=call.next_attempt_at)
            return None
        allowed = next_allowed_time(now, school.timezone, *effective_quiet_hours(school, guardian))
        if allowed > now and not _urgent(session, call):
            call.next_attempt_at = allowed  # quiet hours hold a call exactly as they hold a text
            defer(session, "place_call", call.id, at=allowed)
            return None
        language = call.language or guardian.preferred_language or school.staff_language
        missing = missing_recordings(session, school.id, language, call_messages(session, call.id))
        if missing:
            finish(session, call, "cannot_call", no_voice_note(language, missing))
            return None
        sender = school_sender(session, school.id, "sms")
        if sender is None:
            finish(session, call, "failed", "The school has no phone number set up for calls.")
            return None
        if not _claim(session, call.id):
            return None
        outbound = OutboundCall(to=guardian.phone, sender=sender,
                                answer_url=voice_url("/twilio/voice/answer", c=call.id),
                                status_callback=voice_url("/twilio/voice/status", c=call.id))
    return _ring(call_id, outbound)


def _staff_call(session: Session, call: Call) -> OutboundCall | None:
    sender = school_sender(session, call.school_id, "sms")
    if sender is None or not call.phone:
        finish(session, call, "failed", "The school has no phone number set up for calls.")
        return None
    return OutboundCall(to=call.phone, sender=sender, answer_url=voice_url("/twilio/voice/answer", c=call.id),
                        status_callback=voice_url("/twilio/voice/status", c=call.id), machine_detection=False)


def _on_another_call(session: Session, call: Call, now: datetime) -> bool:
    """Whether the family is being rung, or is on the phone with us, right now (another call)."""
    return session.exec(select(Call.id).where(Call.guardian_id == call.guardian_id, Call.id != call.id,
                                              Call.status.in_(LIVE_STATUSES),
                                              Call.updated_at > now - LIVE_CALL_LIMIT)).first() is not None


def _urgent(session: Session, call: Call) -> bool:
    return any(message.urgent for message in call_messages(session, call.id))


def _claim(session: Session, call_id: int) -> bool:
    """planned → dialing, committed before the provider is asked, so two runs cannot both ring."""
    claimed = session.connection().execute(
        update(Call).where(Call.id == call_id, Call.status == "planned")
        .values(status="dialing", attempts=Call.attempts + 1, updated_at=utcnow())).rowcount
    session.commit()
    return claimed == 1


def _ring(call_id: int, outbound: OutboundCall) -> str | None:
    try:
        result = get_channel().place_call(outbound)
    except ChannelError as error:
        with session_scope() as session:
            call = session.get(Call, call_id)
            if error.permanent:
                finish(session, call, "failed", f"The call could not be made: {error.error.explanation}")
                return None
            call.status = "planned"  # RQ's retry claims it again
        raise
    with session_scope() as session:
        call = session.get(Call, call_id)
        if call.provider_sid is None:  # the status callback may have recorded it first
            call.provider_sid = result.provider_sid
        if call.status == "dialing":
            call.status = result.status if result.status in ("queued", "ringing") else "queued"
        call.updated_at = utcnow()
    log.info("call %s placed", call_id)
    return result.provider_sid


def retry_or_give_up(session: Session, call: Call, what: str, now: datetime) -> bool:
    """After a busy / unanswered / failed / voicemail attempt: plan the next one, or tell staff. True if retried."""
    guardian = session.get(Guardian, call.guardian_id)
    school = session.get(School, call.school_id)
    if call.attempts > MAX_RETRIES or guardian.opted_out:
        finish(session, call, "failed", f"{what} The school phoned {call.attempts} times with no answer: "
                                        "please try another way (a colleague who speaks the language, or a letter).")
        return False
    wait = timedelta(minutes=current_app.config["CALL_RETRY_MINUTES"])
    at = next_allowed_time(now + wait, school.timezone, *effective_quiet_hours(school, guardian))
    call.status, call.next_attempt_at, call.updated_at = "planned", at, now
    call.status_note = f"{what} Trying again at {at:%H:%M} UTC (try {call.attempts + 1} of {MAX_RETRIES + 1})."
    for message in call_messages(session, call.id):
        message.delivery_note = call.status_note
    defer(session, "place_call", call.id, at=at)
    return True


def finish(session: Session, call: Call, status: str, note: str, message_status: str = "failed") -> None:
    """End a call that will not be (re)placed; its waiting messages say why, in the inbox."""
    call.status, call.status_note, call.updated_at = status, note, utcnow()
    for message in call_messages(session, call.id):
        message.status, message.error_message, message.status_updated_at = message_status, note, utcnow()


def sweep_calls(session: Session, now: datetime) -> dict[str, int]:
    """The calls part of the sweep: due planned calls queued, calls lost in a crash planned again."""
    due = session.exec(select(Call.id).where(Call.status == "planned", Call.direction == "outbound",
                                             (Call.next_attempt_at == None) | (Call.next_attempt_at <= now))  # noqa: E711
                       ).all()
    for call_id in due:
        defer(session, "place_call", call_id)
    # A claim nobody heard back about: the provider never took it (its callback would carry our id).
    stale = now - timedelta(minutes=current_app.config["DISPATCH_RECOVERY_MINUTES"])
    lost = session.exec(select(Call).where(Call.status == "dialing", Call.provider_sid == None,  # noqa: E711
                                           Call.updated_at < stale)).all()
    for call in lost:
        call.status, call.attempts = "planned", max(call.attempts - 1, 0)
        defer(session, "place_call", call.id)
    return {"due_calls": len(due), "recovered_calls": len(lost)}


def retry_unvoiced_calls(session: Session, school_id: int, language: str) -> int:
    """Staff recorded something in `language`: calls that could not be made for want of recordings
    are planned again (the job checks once more, and says what is still missing)."""
    waiting = session.exec(select(Call).where(Call.school_id == school_id, Call.status == "cannot_call",
                                              Call.language == language)).all()
    for call in waiting:
        call.status, call.next_attempt_at, call.status_note, call.updated_at = "planned", utcnow(), None, utcnow()
        for message in session.exec(select(Message).where(Message.call_id == call.id,
                                                          Message.status == "failed")).all():
            message.status, message.error_message = "calling", None
        defer(session, "place_call", call.id)
    return len(waiting)
