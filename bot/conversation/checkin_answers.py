"""What a check-in learned, stored per target and date, and when staff should step in.

Called by the flow host (flow_runs) for runs of the check-in flow. Step `target_N` is the Nth
target the check-in asked about (`CheckIn.target_ids`); its answer becomes a CheckInAnswer with
the trend (1 better, 2 about the same, 3 harder) and/or the parent's message (original +
English live on the message). Staff are prompted (the conversation is flagged as needing a
reply) when a family reports "harder" twice in a row for a target, asks a question mid-way, or
tells the school something in the open question.
"""
from __future__ import annotations

from sqlmodel import Session, select

from flows import Outcome, words_for
from flows.matching import match_option
from storage.models import CheckIn, CheckInAnswer, ConversationFlag, FlowRun, Message, utcnow

CHECKIN_FLOW = "checkin"
OPEN_STEP = "anything_else"
TRENDS = {"better": 1, "same": 2, "harder": 3}
HARDER_TWICE = "Said a target is getting harder at home twice in a row"
ASKED_SOMETHING = "Asked the school something during a check-in"
TOLD_SOMETHING = "Told the school something in a check-in"


def record(session: Session, run: FlowRun, outcome: Outcome, inbound: Message | None) -> None:
    """Store this turn's check-in answers and flag the conversation when staff should reply."""
    if inbound is not None and outcome.not_an_answer:
        flag(session, inbound.conversation_id, run.school_id, ASKED_SOMETHING, inbound.id)
    checkin = session.exec(select(CheckIn).where(CheckIn.flow_run_id == run.id)).first()
    if checkin is None or inbound is None:
        return  # a run started without the scheduler (tests of the flow alone): nothing to file
    for learned in outcome.answers:
        if learned.status == "skipped" or learned.source == "flow":
            continue
        if learned.step_id == OPEN_STEP:
            _open_answer(session, checkin, run, learned.value, inbound)
            continue
        target_id = _target_for(checkin, learned.step_id)
        if target_id is None:
            continue
        trend = TRENDS.get(learned.value or "") if learned.status == "answered" else None
        if trend == 3 and _last_trend(session, target_id, checkin.guardian_id) == 3:
            flag(session, inbound.conversation_id, run.school_id, HARDER_TWICE, inbound.id)
        session.add(CheckInAnswer(school_id=checkin.school_id, target_id=target_id, child_id=checkin.child_id,
                                  guardian_id=checkin.guardian_id, check_in_id=checkin.id, message_id=inbound.id,
                                  trend=trend, answered_on=utcnow().date()))


def _target_for(checkin: CheckIn, step_id: str) -> int | None:
    prefix, _, number = step_id.partition("_")
    ids = checkin.target_ids or []
    if prefix != "target" or not number.isdigit() or not 1 <= int(number) <= len(ids):
        return None
    return ids[int(number) - 1]


def _last_trend(session: Session, target_id: int, guardian_id: int) -> int | None:
    return session.exec(select(CheckInAnswer.trend).where(
        CheckInAnswer.target_id == target_id, CheckInAnswer.guardian_id == guardian_id,
        CheckInAnswer.trend.is_not(None)).order_by(CheckInAnswer.id.desc())).first()


def _open_answer(session: Session, checkin: CheckIn, run: FlowRun, value: str | None, inbound: Message) -> None:
    session.add(CheckInAnswer(school_id=checkin.school_id, target_id=None, child_id=checkin.child_id,
                              guardian_id=checkin.guardian_id, check_in_id=checkin.id, message_id=inbound.id,
                              trend=None, answered_on=utcnow().date()))
    # "No" / "nie" to "anything the school should know?" needs no reply; anything else might.
    if match_option(value or "", None, ("yes", "no"), words_for(run.language)) != "no":
        flag(session, inbound.conversation_id, run.school_id, TOLD_SOMETHING, inbound.id)


def flag(session: Session, conversation_id: int, school_id: int, reason: str, message_id: int | None) -> None:
    """Mark a conversation as needing a reply from staff, saying why."""
    session.add(ConversationFlag(school_id=school_id, conversation_id=conversation_id, reason=reason,
                                 message_id=message_id))


def clear_flags(session: Session, conversation_id: int) -> None:
    """Staff have replied: the conversation no longer waits for them."""
    for row in session.exec(select(ConversationFlag).where(ConversationFlag.conversation_id == conversation_id,
                                                           ConversationFlag.cleared_at.is_(None))):
        row.cleared_at = utcnow()
