"""The provider's reports on a call (in any order): answered, finished, busy, unanswered, voicemail.

Our call id rides in the callback URL, so the report also finds a call whose sid a crash kept
us from storing. A finished call that nobody (or only a machine) answered is tried again
(bot/calls/placing.retry_or_give_up); a missed call shows in the inbox on the message it carried.
"""
from __future__ import annotations

from sqlmodel import Session, select

from bot.calls.placing import call_messages, retry_or_give_up
from bot.messaging.voice import VoiceEvent
from storage.models import Call, utcnow

ORDER = {"planned": 0, "dialing": 1, "queued": 2, "initiated": 2, "ringing": 3, "in-progress": 4}
FINAL = {"completed", "busy", "no-answer", "failed", "canceled"}
MISSED = {"busy": "The line was busy.", "no-answer": "Nobody answered the phone.",
          "failed": "The call did not go through.", "canceled": "The call was cancelled."}
VOICEMAIL_NOTE = "An answering machine took the call (a short message asked them to call the school)."


def classify_answered_by(raw: str | None) -> str | None:
    """The provider's AnsweredBy as human / machine / None (not known)."""
    if not raw:
        return None
    if raw == "human":
        return "human"
    return "machine" if raw.startswith("machine") or raw == "fax" else None


def find_call(session: Session, call_id: int | None, call_sid: str | None) -> Call | None:
    """The call a report is about: by our id (from the callback URL), else by the provider's sid."""
    call = session.get(Call, call_id) if call_id else None
    if call is None and call_sid:
        call = session.exec(select(Call).where(Call.provider_sid == call_sid)).first()
    return call


def apply_call_status(session: Session, call_id: int | None, event: VoiceEvent) -> Call | None:
    """Record a status report; retry or tell staff when the call ended without a person. None if unknown."""
    call = find_call(session, call_id, event.call_sid)
    if call is None:
        return None
    if call.provider_sid is None and event.call_sid:
        call.provider_sid = event.call_sid  # placed before a crash: known now, never placed again
    call.answered_by = classify_answered_by(event.answered_by) or call.answered_by
    status = event.status or ""
    if call.status in FINAL or call.status in ("cannot_call", "blocked", "planned"):
        return call  # settled already (a late or repeated report)
    if status in ORDER:
        if ORDER[status] > ORDER.get(call.status, 0):
            call.status, call.updated_at = status, utcnow()
        return call
    if status not in FINAL:
        return call
    now = utcnow()
    call.duration_seconds = event.duration_seconds
    if call.purpose == "prompt":  # a member of staff: never rung again by itself
        call.status, call.updated_at = status, now
        return call
    if status == "completed" and call.answered_by != "machine":
        call.status, call.updated_at = "completed", now
        for message in call_messages(session, call.id, ("calling", "in_call")):
            message.status, message.status_updated_at = "spoken", now
        return call
    what = VOICEMAIL_NOTE if status == "completed" else MISSED[status]
    call.status = status if status != "completed" else "machine"
    retry_or_give_up(session, call, what, now)
    return call
