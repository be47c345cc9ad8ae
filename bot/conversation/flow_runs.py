"""The host side of guided question flows: runs stored in the database, driven by the pure engine.

One active (or paused) run per guardian. Every change to a guardian's run happens with the
guardian's row locked (SELECT ... FOR UPDATE on PostgreSQL), so two messages from one parent
arriving together are handled one after the other, never both as answers to one question.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlmodel import Session, select

from bot.conversation import checkin_answers
from bot.guardians import lock_guardian
from bot.language.i18n import base_language
from bot.messaging.outbound import parent_language, queue_catalogue_message
from flows import Answer, Event, FlowStateError, Outcome, Repeat, Start, Timeout, advance, load_flows, words_for
from storage.models import FlowAnswer, FlowRun, Guardian, Message, School, utcnow
from storage.queries import conversation_for

LIVE = ("active", "paused")
SILENCE = "(no answer on the phone)"
# A reminder's one-tap question gives way to a real conversation; a real one is never interrupted.
INTERRUPTIBLE_FLOWS = {"review_reminder"}


def init_app(app: Flask) -> None:
    """Load and validate every flow; an invalid flow stops the app from starting."""
    app.extensions["flows"] = load_flows()


def live_run(session: Session, guardian_id: int) -> FlowRun | None:
    """The guardian's active or paused flow run, if any."""
    return session.exec(select(FlowRun).where(FlowRun.guardian_id == guardian_id,
                                              FlowRun.status.in_(LIVE))).first()


def start_flow(session: Session, guardian: Guardian, school: School, flow_id: str, values: dict, *,
               review_id: int | None = None, staff_id: int | None = None) -> tuple[FlowRun | None, list[int]]:
    """Start a flow for a guardian; returns the run (None if another flow is under way) and messages to send."""
    flows = current_app.extensions["flows"]
    if flow_id not in flows:
        raise KeyError(f"unknown flow {flow_id!r}: known flows are {', '.join(sorted(flows))}")
    guardian = lock_guardian(session, guardian.id)
    current = live_run(session, guardian.id)
    if current is not None:
        if current.flow_id not in INTERRUPTIBLE_FLOWS:
            return None, []
        _finish(current, "cancelled")
    language = parent_language(guardian, school)
    run = FlowRun(school_id=school.id, guardian_id=guardian.id, review_id=review_id, flow_id=flow_id,
                  language=language, started_by_id=staff_id, state={})
    session.add(run)
    session.flush()
    return run, _apply(session, run, guardian, school, Start(values), inbound=None, urgent=False)[1]


def answer(session: Session, message: Message, guardian: Guardian, school: School) -> tuple[bool, list[int]]:
    """Give a parent's message to their active flow. Returns (consumed as an answer, messages to send).

    The caller holds the guardian's row lock (bot.conversation.turn.process_guardian takes it).
    """
    run = live_run(session, guardian.id)
    if run is None or run.status != "active":
        return False, []
    follow_script(run, guardian, school)
    outcome, to_send = _apply(session, run, guardian, school, Answer(message.body), inbound=message, urgent=True)
    return outcome is not None and not outcome.not_an_answer, to_send


def follow_script(run: FlowRun, guardian: Guardian, school: School) -> None:
    """Carry on in the script the parent now writes: a mother who answers the Urdu questions in
    English letters gets the next ones in Roman Urdu (the language itself never changes mid-flow)."""
    language = parent_language(guardian, school)
    if language != run.language and base_language(language) == base_language(run.language):
        run.language = language


def repeat_question(session: Session, guardian: Guardian, school: School, in_call: int | None = None) -> list[int]:
    """Ask the current question of an active flow again (after HELP, or silence on a call)."""
    run = live_run(session, lock_guardian(session, guardian.id).id)
    if run is None or run.status != "active":
        return []
    return _apply(session, run, guardian, school, Repeat(), inbound=None, urgent=True, in_call=in_call)[1]


def skip_question(session: Session, guardian: Guardian, school: School, in_call: int | None = None) -> list[int]:
    """Skip the current question, as a parent who says "skip" would (silence on a call, asked twice)."""
    run = live_run(session, lock_guardian(session, guardian.id).id)
    if run is None or run.status != "active":
        return []
    step_id = (run.state or {}).get("current")
    skip_word = "skip"  # English answer words are understood from every parent (flows/matching.py)
    to_send = _apply(session, run, guardian, school, Answer(skip_word), inbound=None, urgent=True, in_call=in_call)[1]
    session.flush()
    skipped = session.exec(select(FlowAnswer).where(FlowAnswer.flow_run_id == run.id, FlowAnswer.step_id == step_id)
                           .order_by(FlowAnswer.id.desc())).first()
    if skipped is not None and skipped.status == "skipped" and skipped.message_id is None:
        skipped.value = SILENCE  # so staff read "Skipped", not "no longer applies"
    return to_send


def resume_flow(session: Session, guardian: Guardian, school: School) -> list[int]:
    """Staff hand a paused flow back: it carries on with the question it was waiting on."""
    run = live_run(session, lock_guardian(session, guardian.id).id)
    if run is None or run.status != "paused":
        return []
    run.status = "active"
    return _apply(session, run, guardian, school, Repeat(), inbound=None, urgent=False)[1]


def close_one_tap_question(session: Session, guardian_id: int) -> None:
    """A reminder's one-tap question was spoken on a call, where the call's own menu replaced it:
    it is closed, so no text chaser turns into another call."""
    run = live_run(session, guardian_id)
    if run is not None and run.flow_id in INTERRUPTIBLE_FLOWS:
        _finish(run, "cancelled")


def end_for_opt_out(session: Session, guardian_id: int) -> None:
    """STOP ends any flow: nothing more is asked."""
    run = live_run(session, guardian_id)
    if run is not None:
        _finish(run, "cancelled")


def pause_for_staff(session: Session, guardian_id: int) -> FlowRun | None:
    """A member of staff has stepped in: the flow waits (no questions, no chasers). The paused run, if any."""
    run = live_run(session, guardian_id)
    if run is None or run.status != "active":
        return None
    run.status = "paused"
    return run


def time_out_quiet_runs(session: Session, now: datetime) -> list[int]:
    """Chase runs left unanswered, and expire runs still silent after the chaser."""
    config = current_app.config
    chase_before = now - timedelta(hours=config["FLOW_CHASER_HOURS"])
    expire_before = now - timedelta(hours=config["FLOW_EXPIRY_HOURS"])
    runs = session.exec(select(FlowRun).where(FlowRun.status == "active",
                                              FlowRun.last_activity_at < chase_before)).all()
    to_send: list[int] = []
    for run in runs:
        if run.chaser_sent_at is not None and run.last_activity_at >= expire_before:
            continue  # chased already; not yet time to give up
        guardian = session.get(Guardian, run.guardian_id)
        if guardian.opted_out:
            _finish(run, "cancelled")
            continue
        to_send += _apply(session, run, guardian, session.get(School, run.school_id), Timeout(),
                          inbound=None, urgent=False, activity=False)[1]
        if run.status == "active":
            run.chaser_sent_at = now
    return to_send


def _apply(session: Session, run: FlowRun, guardian: Guardian, school: School, event: Event, *,
           inbound: Message | None, urgent: bool, activity: bool = True,
           in_call: int | None = None) -> tuple[Outcome | None, list[int]]:
    """Run the engine, store what it learned and queue what it says (the outcome, message ids).

    An answer given on a phone call is answered in that call: what the flow says next is spoken there.
    """
    if inbound is not None and inbound.channel == "voice" and inbound.call_id is not None:
        in_call = inbound.call_id
    flow = current_app.extensions["flows"][run.flow_id]
    try:
        outcome = advance(flow, run.state or None, event, run.language, words_for(run.language))
    except FlowStateError:
        _finish(run, "cancelled")  # the flow changed under a running conversation: end it cleanly
        return None, []
    run.state = outcome.state
    if activity:
        run.last_activity_at, run.chaser_sent_at = utcnow(), None
    for learned in outcome.answers:
        session.add(FlowAnswer(flow_run_id=run.id, review_id=run.review_id, guardian_id=guardian.id,
                               step_id=learned.step_id, value=learned.value, status=learned.status,
                               message_id=inbound.id if inbound is not None and learned.source != "flow" else None))
    if run.flow_id == checkin_answers.CHECKIN_FLOW:
        checkin_answers.record(session, run, outcome, inbound)
    if inbound is not None and not outcome.not_an_answer:
        inbound.kind = "flow_answer"  # part of the questions (even a re-asked one), not a note to staff
    if outcome.status in ("completed", "expired"):
        _finish(run, outcome.status)
    conversation = conversation_for(session, guardian)
    return outcome, [queue_catalogue_message(session, guardian, conversation, school, output.template_key,
                                             output.values, language=run.language, urgent=urgent,
                                             in_call=in_call).id
                     for output in outcome.outputs]


def _finish(run: FlowRun, status: str) -> None:
    run.status, run.finished_at = status, utcnow()


def latest_answers(session: Session, run_id: int) -> dict[str, FlowAnswer]:
    """The answer that counts for each step of a run (a later row replaces an earlier one)."""
    rows = session.exec(select(FlowAnswer).where(FlowAnswer.flow_run_id == run_id).order_by(FlowAnswer.id)).all()
    return {row.step_id: row for row in rows}


def sweep_flows(session: Session, now: datetime) -> dict[str, int]:
    """The flows part of the sweep: chase or expire runs left unanswered."""
    return {"flow_timeouts": len(time_out_quiet_runs(session, now))}
