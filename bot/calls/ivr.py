"""Each step of a call, as voice verbs: the message, the menu, recordings, call-backs, flows by phone.

The step rides in the URL the provider posts next (`s`), with how many times a step has met
silence or a wrong key (`t`): the database holds the call, the URL holds where in it we are.
Menu: 1 hear it again, 2 leave a message (recorded, stored as an inbound message with its
recording), 3 ask for a call back (an inbound note staff see). Silence re-asks twice, then says
goodbye. A flow running for the parent is asked question by question: keys for choices, speech
for free text where the provider hears the language, else a recording.
"""
from __future__ import annotations

from flask import current_app
from sqlmodel import Session, select

from bot.calls import staff_prompts
from bot.calls.placing import call_messages
from bot.calls.prompts import message_prompts, prompt, voice_url
from bot.calls.status import classify_answered_by, find_call
from bot.conversation import flow_runs
from bot.conversation.turn import process_guardian
from bot.guardians import lock_guardian, mark_opted_out
from bot.messaging.channel import get_channel
from bot.messaging.outbound import parent_language
from bot.messaging.voice import Gather, Hangup, Record, VoiceEvent
from flows.model import TEXT
from storage.db import session_scope
from storage.models import Call, Guardian, Message, School, VoiceRecording, utcnow
from storage.queries import conversation_for

MAX_TRIES = 2  # silence or a wrong key re-asks twice, as a text flow does
MACHINE = "machine"
CALLBACK_NOTE = "Asked for a call back (pressed 3 on a phone call)."
STOP_NOTE = "Asked for no more calls or messages (pressed 9 on a phone call): opted out."
CALLS_NOTE = "Asked to get the school's messages as phone calls (pressed 4 when calling the school)."
VOICE_MESSAGE_NOTE = "Voice message left on a phone call: play the recording."
FLOW_RECORDING_NOTE = "Answered by voice recording: play the recording."


def step_url(call: Call, step: str, tries: int = 0) -> str:
    """Where the provider posts the next step of this call."""
    return voice_url("/twilio/voice/step", c=call.id, s=step, t=tries)


class _Step:
    """One webhook's work on one call: its rows, and the verbs to answer with."""

    def __init__(self, session: Session, call: Call):
        self.session, self.call = session, call
        self.school = session.get(School, call.school_id)
        self.guardian = session.get(Guardian, call.guardian_id) if call.guardian_id else None
        self.language = call.language or (parent_language(self.guardian, self.school) if self.guardian
                                          else self.school.staff_language)

    def prompt(self, key: str, **values):
        """A fixed prompt in the call's language (voice or recording), as a list (empty if neither)."""
        found = prompt(self.session, self.school.id, key, self.language, school=self.school.name, **values)
        return [found] if found is not None else []

    def goodbye(self, *keys: str) -> list:
        """These prompts, goodbye, and hang up."""
        verbs = [p for key in keys + ("voice.goodbye",) for p in self.prompt(key)]
        return verbs + [Hangup()]

    def menu(self, before: list, tries: int = 0, step: str = "menu", key: str = "voice.menu") -> list:
        """What was said, then the menu's keys, waiting for one (silence comes back with tries + 1)."""
        options = self.prompt(key)
        if step == "imenu" and self.guardian.preferred_channel != "voice":
            options += self.prompt("voice.calls_option")
        options += self.prompt("voice.stop_option")
        return [Gather(tuple(before + options), action=step_url(self.call, step, tries),
                       on_silence=step_url(self.call, step, tries + 1))]

    def speak_waiting(self) -> list:
        """The messages waiting on this call, now spoken (and marked so)."""
        verbs = []
        for message in call_messages(self.session, self.call.id, ("calling", "in_call")):
            verbs += message_prompts(self.session, message)
            message.status, message.status_updated_at = "spoken", utcnow()
        return verbs

    def spoken_again(self) -> list:
        """Everything this call has already said to the parent, to hear again (menu key 1)."""
        spoken = self.session.exec(select(Message).where(Message.call_id == self.call.id,
                                                         Message.direction == "outbound",
                                                         Message.status == "spoken").order_by(Message.id)).all()
        return [p for message in spoken for p in message_prompts(self.session, message)]

    def carry_on(self, said: list, after_flow: bool = False) -> list:
        """After speaking: the running flow's question, else the menu (or goodbye once a flow ends)."""
        run = flow_runs.live_run(self.session, self.guardian.id)
        # A reminder's one-tap question is a text convenience: on a call the menu is offered instead.
        if run is not None and run.status == "active" and run.flow_id not in flow_runs.INTERRUPTIBLE_FLOWS:
            return self.ask_flow(run, said)
        if after_flow:
            return said + self.goodbye()
        flow_runs.close_one_tap_question(self.session, self.guardian.id)
        return self.menu(said)

    def ask_flow(self, run, said: list, tries: int = 0) -> list:
        """Wait for the answer to the flow's current question: keys, speech where heard, else a recording."""
        flow = current_app.extensions["flows"][run.flow_id]
        state = run.state or {}
        step = flow.steps.get(state.get("current") or "")
        free_text = state.get("phase") == "ask" and step is not None and step.type == TEXT
        if free_text and not get_channel().hears(self.language):
            return said + [Record(tuple(self.prompt("voice.answer_record")),
                                  action=step_url(self.call, "flowrec"),
                                  callback=voice_url("/twilio/voice/recording", c=self.call.id, s="flowrec"),
                                  max_seconds=120)]
        # The questions are written for texting ("send 1…"): on a call, the keypad is named.
        extra = self.prompt("voice.answer_speak") if free_text else self.prompt("voice.answer_keypad")
        return [Gather(tuple(said + extra), action=step_url(self.call, "flow", tries),
                       on_silence=step_url(self.call, "flow", tries + 1), num_digits=1,
                       speech_language=self.language if free_text else None,
                       timeout_seconds=8 if free_text else 6)]

    def note(self, body: str, kind: str) -> Message:
        """An inbound note from the call (a voice message, a call-back request): in the inbox, unread."""
        conversation = conversation_for(self.session, self.guardian)
        message = Message(school_id=self.school.id, conversation_id=conversation.id, guardian_id=self.guardian.id,
                          direction="inbound", channel="voice", kind=kind, body=body, call_id=self.call.id,
                          language=self.school.staff_language, translation_status="not_needed",
                          translation_engine="none", status="processed", simulated=self.call.simulated)
        self.session.add(message)
        conversation.last_message_at = message.created_at
        self.session.flush()
        return message


def _with_call(call_id: int | None, event: VoiceEvent, work, staff_call_ok: bool = False) -> list:
    with session_scope() as session:
        call = find_call(session, call_id, event.call_sid)
        if call is None or (call.guardian_id is None and not staff_call_ok):
            return [Hangup()]
        if call.provider_sid is None and event.call_sid:
            call.provider_sid = event.call_sid
        return work(_Step(session, call))


def answered(call_id: int | None, event: VoiceEvent) -> list:
    """The parent (or their voicemail) picked up our call."""
    def work(step: _Step) -> list:
        call = step.call
        call.answered_by = classify_answered_by(event.answered_by) or call.answered_by
        call.status, call.updated_at = "in-progress", utcnow()
        if call.purpose == staff_prompts.PROMPT:
            return staff_prompts.instructions(step.session, call)
        if call.answered_by == MACHINE:
            return step.prompt("voice.voicemail") + [Hangup()]
        return step.carry_on(step.speak_waiting())
    return _with_call(call_id, event, work, staff_call_ok=True)


def next_step(call_id: int | None, name: str, tries: int, event: VoiceEvent) -> list:
    """A key, speech, a recording or silence at step `name` of the call."""
    if name == "flow":
        return _flow_answer(call_id, tries, event)
    if name == "flowrec":
        return _flow_recording(call_id, event)
    if name == "promptrec":
        with session_scope() as session:
            call = find_call(session, call_id, event.call_sid)
            if call is None or call.purpose != staff_prompts.PROMPT:
                return [Hangup()]
            return staff_prompts.recorded_verbs(session, call, event)

    def work(step: _Step) -> list:
        digits = (event.digits or "").strip()
        if name == "recorded":
            store_recording(step, event, VOICE_MESSAGE_NOTE)
            return step.goodbye("voice.recorded")
        menu_step, menu_key = ("imenu", "voice.inbound_menu") if name == "imenu" else ("menu", "voice.menu")
        if digits == "1":
            again = step.spoken_again() if name == "menu" else latest_for(step)
            return step.menu(again, step=menu_step, key=menu_key)
        if digits == "2":
            return [Record(tuple(step.prompt("voice.record")), action=step_url(step.call, "recorded"),
                           callback=voice_url("/twilio/voice/recording", c=step.call.id))]
        if digits == "3":
            step.note(CALLBACK_NOTE, "callback_request")
            return step.goodbye("voice.callback")
        if digits == "9":  # as STOP: no more calls or messages, and any questions end
            mark_opted_out(lock_guardian(step.session, step.guardian.id))
            flow_runs.end_for_opt_out(step.session, step.guardian.id)
            step.note(STOP_NOTE, "call_event")
            return step.prompt("voice.stopped") + [Hangup()]
        if digits == "4" and name == "imenu":
            step.guardian.preferred_channel = "voice"
            step.note(CALLS_NOTE, "call_event")
            return step.goodbye("voice.calls_on")
        if tries > MAX_TRIES:
            return step.goodbye()
        return step.menu([], tries=tries, step=menu_step, key=menu_key)
    return _with_call(call_id, event, work)


def latest_for(step: _Step) -> list:
    """The school's latest message to this parent, spoken (inbound calls' option 1)."""
    latest = step.session.exec(select(Message).where(
        Message.guardian_id == step.guardian.id, Message.direction == "outbound",
        Message.status.in_(("sent", "delivered", "read", "spoken"))).order_by(Message.id.desc())).first()
    if latest is None:
        return step.prompt("voice.no_message")
    return message_prompts(step.session, latest) or step.prompt("voice.no_message")


def _flow_answer(call_id: int | None, tries: int, event: VoiceEvent) -> list:
    answer = (event.speech or "").strip() or (event.digits or "").strip()
    guardian_id = None
    with session_scope() as session:
        call = find_call(session, call_id, event.call_sid)
        if call is None:
            return [Hangup()]
        step = _Step(session, call)
        guardian_id = call.guardian_id
        if answer:
            conversation = conversation_for(session, step.guardian)
            session.add(Message(school_id=call.school_id, conversation_id=conversation.id, guardian_id=guardian_id,
                                direction="inbound", channel="voice", body=answer, call_id=call.id,
                                simulated=call.simulated, status="received"))
        elif tries <= MAX_TRIES:
            flow_runs.repeat_question(session, step.guardian, step.school, in_call=call.id)
        else:
            flow_runs.skip_question(session, step.guardian, step.school, in_call=call.id)
    if answer:
        process_guardian(guardian_id)  # inline: the next question must be in this answer's TwiML
    # After an answer or a skip the next question starts afresh; a re-ask keeps counting.
    return _continue_flow(call_id, event, tries if not answer and tries <= MAX_TRIES else 0)


def _continue_flow(call_id: int | None, event: VoiceEvent, tries: int) -> list:
    def work(step: _Step) -> list:
        said = step.speak_waiting()
        run = flow_runs.live_run(step.session, step.guardian.id)
        if run is not None and run.status == "active":
            return step.ask_flow(run, said, tries)
        return said + step.goodbye()
    return _with_call(call_id, event, work)


def _flow_recording(call_id: int | None, event: VoiceEvent) -> list:
    guardian_id = None
    with session_scope() as session:
        call = find_call(session, call_id, event.call_sid)
        if call is None:
            return [Hangup()]
        step = _Step(session, call)
        guardian_id = call.guardian_id
        if event.recording_sid:
            message = store_recording(step, event, FLOW_RECORDING_NOTE, answer=True)
            if message is not None and message.status != "received":
                guardian_id = None  # stored before (the recording callback came first): answered already
    if guardian_id:
        process_guardian(guardian_id)
    return _continue_flow(call_id, event, 0)


def store_recording(step: _Step, event: VoiceEvent, body: str, answer: bool = False) -> Message | None:
    """A parent's recording, once per recording sid, as an inbound message staff can play."""
    if not event.recording_sid:
        return None
    existing = step.session.exec(select(VoiceRecording).where(
        VoiceRecording.provider_sid == event.recording_sid)).first()
    if existing is not None:
        existing.url = event.recording_url or existing.url
        existing.duration_seconds = event.recording_seconds or existing.duration_seconds
        return step.session.get(Message, existing.message_id) if existing.message_id else None
    message = step.note(body, "voice_message")
    if answer:  # a free-text answer: through the flow like a typed one (process_guardian)
        message.status, message.kind = "received", "text"
    step.session.add(VoiceRecording(school_id=step.school.id, call_id=step.call.id, message_id=message.id,
                                    provider_sid=event.recording_sid, url=event.recording_url,
                                    duration_seconds=event.recording_seconds))
    return message


def recording_ready(call_id: int | None, step_name: str | None, event: VoiceEvent) -> bool:
    """The provider says a recording is ready: stored (once) if the action did not store it first."""
    guardian_id = None
    with session_scope() as session:
        call = find_call(session, call_id, event.call_sid)
        if call is None:
            return False
        if call.purpose == staff_prompts.PROMPT:
            staff_prompts.store_recording(session, call, event)
            return True
        step = _Step(session, call)
        answer = step_name == "flowrec"
        message = store_recording(step, event, FLOW_RECORDING_NOTE if answer else VOICE_MESSAGE_NOTE, answer=answer)
        if message is not None and message.status == "received":
            guardian_id = call.guardian_id
    if guardian_id:
        process_guardian(guardian_id)
    return True
