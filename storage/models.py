"""Every table of the product, in one place (SQLModel).

Times are timezone-aware UTC datetimes (`utcnow()`), converted to the school's timezone only
for display. Phone numbers are E.164 strings ("+447700900123").
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Optional

from sqlalchemy import JSON, Column, LargeBinary, Text, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy import true as sa_true
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Current time, timezone-aware, in UTC (what every column stores)."""
    return datetime.now(timezone.utc)


class School(SQLModel, table=True):
    """A school: its timezone, default phone region and the language its staff read."""

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str
    timezone: str = "Europe/London"
    default_region: str = "GB"
    staff_language: str = "en"
    # Local hours between which non-urgent messages wait (20:00–08:00 by default).
    quiet_start_hour: int = 20
    quiet_end_hour: int = 8
    # The reminder plan: [{"kind": ..., "days_before": N, "hour": H}], school-local hours.
    reminder_plan: Optional[list] = Field(default=None, sa_column=Column(JSON))
    # Message bodies (and translations, media) older than this many days are deleted by the sweep;
    # the rows stay, so counts and delivery history remain. None: kept until a SENDCo sets it.
    retention_days: Optional[int] = None
    # Approved WhatsApp templates set on the settings page: catalogue key → language → content SID
    # (added to, and taking precedence over, the WHATSAPP_TEMPLATES setting).
    whatsapp_templates: Optional[dict] = Field(default=None, sa_column=Column(JSON))
    trust_id: Optional[int] = Field(default=None, foreign_key="trust.id", index=True)  # several schools, one trust
    created_at: datetime = Field(default_factory=utcnow)


class SchoolNumber(SQLModel, table=True):
    """A Twilio number (SMS and/or WhatsApp sender) that belongs to a school."""

    id: Optional[int] = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    phone: str = Field(unique=True)
    whatsapp: bool = False


class StaffUser(SQLModel, table=True):
    """A member of a school's SEND team who uses the staff inbox."""

    id: Optional[int] = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    email: str = Field(unique=True)
    name: str
    password_hash: str
    # Every signed-in session carries the version it was signed in with; signing out or a new
    # password moves it on, which ends every session (and every copied cookie) at once.
    session_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # sendco: everything in the school; staff: conversations and reviews only (no settings,
    # no staff management, no export).
    role: str = Field(default="sendco", sa_column_kwargs={"server_default": "sendco"})
    # A deactivated colleague cannot sign in; their name stays on what they wrote.
    active: bool = Field(default=True, sa_column_kwargs={"server_default": sa_true()})
    # A one-time set-password link (only its hash is kept) and when it stops working.
    password_token_hash: Optional[str] = Field(default=None, index=True)
    password_token_expires_at: Optional[datetime] = None
    created_at: datetime = Field(default_factory=utcnow)


class Guardian(SQLModel, table=True):
    """A parent or carer. `known` is False for a number nobody has registered yet."""

    __table_args__ = (UniqueConstraint("school_id", "phone"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    name: Optional[str] = None
    phone: str
    known: bool = True
    preferred_language: Optional[str] = None
    preferred_channel: str = "sms"  # sms | whatsapp | voice
    # ISO 15924 script the parent reads, when not the language's usual one ("Latn": Roman Urdu).
    preferred_script: Optional[str] = None
    script_source: Optional[str] = None  # learned | staff (a staff choice is never overwritten)
    opted_out: bool = False
    opted_out_at: Optional[datetime] = None
    opted_in_at: Optional[datetime] = None  # the last START: older opt-out reports are stale
    last_inbound_at: Optional[datetime] = None  # opens WhatsApp's 24-hour session window
    # A guardian's own quiet hours (e.g. a night-shift worker), overriding the school's.
    quiet_start_hour: Optional[int] = None
    quiet_end_hour: Optional[int] = None
    # Staff record consent to contact; "do not contact" stops every message staff could start.
    consent: bool = Field(default=True, sa_column_kwargs={"server_default": sa_true()})
    do_not_contact: bool = Field(default=False, sa_column_kwargs={"server_default": sa_false()})
    archived_at: Optional[datetime] = None  # archived: off the families page and out of bulk updates
    created_at: datetime = Field(default_factory=utcnow)


class Child(SQLModel, table=True):
    """A child on the school's SEND register."""

    id: Optional[int] = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    name: str
    year_group: Optional[str] = None
    send_status: Optional[str] = None  # e.g. "SEN support", "EHCP"
    archived_at: Optional[datetime] = None


class GuardianChild(SQLModel, table=True):
    """Links a guardian to a child (a child may have several carers and vice versa)."""

    guardian_id: int = Field(foreign_key="guardian.id", primary_key=True)
    child_id: int = Field(foreign_key="child.id", primary_key=True)
    relationship: Optional[str] = None


class Conversation(SQLModel, table=True):
    """The one running thread between a school and a guardian."""

    id: Optional[int] = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    guardian_id: int = Field(foreign_key="guardian.id", unique=True)
    last_message_at: Optional[datetime] = Field(default=None, index=True)
    staff_read_at: Optional[datetime] = None
    assigned_to_id: Optional[int] = Field(default=None, foreign_key="staffuser.id")


class Message(SQLModel, table=True):
    """One message in or out. The original text is never changed; a translation sits beside it.

    Inbound: `body` is what the parent wrote, `language` what was detected, `translation` the
    staff-language text. Outbound: `body` is what staff wrote (staff language) or the rendered
    system message, `translation` what the parent receives in `language`.
    """

    id: Optional[int] = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    guardian_id: int = Field(foreign_key="guardian.id", index=True)
    direction: str  # inbound | outbound
    channel: str  # sms | whatsapp | voice
    kind: str = "text"  # text | staff_reply | system | keyword
    body: str = Field(sa_column=Column(Text, nullable=False))
    num_media: int = 0
    media: Optional[list] = Field(default=None, sa_column=Column(JSON))
    language: Optional[str] = None
    language_confidence: Optional[float] = None
    script: Optional[str] = None  # ISO 15924 script written (inbound) or rendered (outbound) in
    translation: Optional[str] = Field(default=None, sa_column=Column(Text))
    translation_engine: Optional[str] = None  # argos | apertium | libretranslate | human | none
    translation_status: str = "pending"  # pending | done | human | unavailable | not_needed
    translation_note: Optional[str] = None  # why no translation is available (technical, for admins)
    # The same as a kind the inbox words for staff: no_engine | turned_off | romanised | unrecognised | mangled | other
    translation_gap: Optional[str] = None
    template_key: Optional[str] = None
    template_values: Optional[dict] = Field(default=None, sa_column=Column(JSON))
    provider_sid: Optional[str] = Field(default=None, unique=True)
    # The staff send form's one-time key: the same form posted twice stores one message.
    send_key: Optional[str] = Field(default=None, unique=True, index=True)
    # What happened on the way (an interrupted send found at the provider, or sent again): never cleared.
    delivery_note: Optional[str] = Field(default=None, sa_column=Column(Text))
    # Went through the parent simulator, not a real phone (CHANNEL=simulator): labelled wherever shown.
    simulated: bool = Field(default=False, sa_column_kwargs={"server_default": sa_false()})
    purged_at: Optional[datetime] = None  # its text was deleted under the school's retention setting
    status: str = "received"
    error_code: Optional[int] = None
    error_message: Optional[str] = None
    staff_author_id: Optional[int] = Field(default=None, foreign_key="staffuser.id")
    urgent: bool = False  # staff may bypass quiet hours
    not_before: Optional[datetime] = None  # held until then (quiet hours)
    failover_of_id: Optional[int] = Field(default=None, foreign_key="message.id")
    # The phone call that speaks (outbound) or recorded (inbound) this message, for voice.
    call_id: Optional[int] = Field(default=None, foreign_key="call.id", index=True)
    content_sid: Optional[str] = None  # approved WhatsApp template used outside the 24-hour window
    created_at: datetime = Field(default_factory=utcnow, index=True)
    sent_at: Optional[datetime] = None
    status_updated_at: Optional[datetime] = None


class Review(SQLModel, table=True):
    """A SEND review meeting for a child (SEN support review, EHCP annual review, other)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    child_id: int = Field(foreign_key="child.id", index=True)
    starts_at: datetime = Field(index=True)
    kind: str = "sen_support"  # sen_support | ehcp_annual | other
    location: Optional[str] = None  # a room, or a phone/video call link
    status: str = "scheduled"  # scheduled | cancelled | held
    created_by_id: Optional[int] = Field(default=None, foreign_key="staffuser.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Reminder(SQLModel, table=True):
    """One planned message about a review to one guardian. The database is the schedule."""

    id: Optional[int] = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    review_id: int = Field(foreign_key="review.id", index=True)
    guardian_id: int = Field(foreign_key="guardian.id", index=True)
    kind: str  # contribution_request | reminder (see the school's reminder plan)
    due_at: datetime = Field(index=True)
    status: str = Field(default="planned", index=True)  # planned | sent | skipped | cancelled
    status_note: Optional[str] = None
    message_id: Optional[int] = Field(default=None, foreign_key="message.id")
    created_at: datetime = Field(default_factory=utcnow)


class FlowRun(SQLModel, table=True):
    """A guided question flow in progress with one guardian (at most one active each)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    guardian_id: int = Field(foreign_key="guardian.id", index=True)
    review_id: Optional[int] = Field(default=None, foreign_key="review.id", index=True)
    flow_id: str
    language: str
    state: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="active", index=True)  # active | paused | completed | expired | cancelled
    started_by_id: Optional[int] = Field(default=None, foreign_key="staffuser.id")
    started_at: datetime = Field(default_factory=utcnow)
    last_activity_at: datetime = Field(default_factory=utcnow)
    chaser_sent_at: Optional[datetime] = None
    finished_at: Optional[datetime] = None


class FlowAnswer(SQLModel, table=True):
    """One answer in a flow: the parent's own message (original + translation) and its value."""

    id: Optional[int] = Field(default=None, primary_key=True)
    flow_run_id: int = Field(foreign_key="flowrun.id", index=True)
    review_id: Optional[int] = Field(default=None, foreign_key="review.id", index=True)
    guardian_id: int = Field(foreign_key="guardian.id")
    step_id: str
    message_id: Optional[int] = Field(default=None, foreign_key="message.id")
    value: Optional[str] = Field(default=None, sa_column=Column(Text))  # choice key, number, yes/no, text
    status: str = "answered"  # answered | skipped | not_understood
    created_at: datetime = Field(default_factory=utcnow)


class AuditEvent(SQLModel, table=True):
    """What a member of staff did, for the school's audit trail (never message bodies)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    staff_user_id: Optional[int] = Field(default=None, foreign_key="staffuser.id")
    action: str
    target: Optional[str] = None
    created_at: datetime = Field(default_factory=utcnow)


class Target(SQLModel, table=True):
    """One of a child's current targets (an outcome of the SEN support plan or EHCP), in English."""

    id: Optional[int] = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    child_id: int = Field(foreign_key="child.id", index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    help_at_home: Optional[str] = Field(default=None, sa_column=Column(Text))
    starts_on: date
    status: str = "active"  # active | achieved | changed
    # The school's own notes on how it is going in school (shown beside the family's view).
    school_notes: Optional[str] = Field(default=None, sa_column=Column(Text))
    revision: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class TargetRevision(SQLModel, table=True):
    """A target as it stood after each change: the history is never rewritten."""

    id: Optional[int] = Field(default=None, primary_key=True)
    target_id: int = Field(foreign_key="target.id", index=True)
    revision: int
    text: str = Field(sa_column=Column(Text, nullable=False))
    help_at_home: Optional[str] = Field(default=None, sa_column=Column(Text))
    starts_on: date
    status: str
    school_notes: Optional[str] = Field(default=None, sa_column=Column(Text))
    staff_user_id: Optional[int] = Field(default=None, foreign_key="staffuser.id")
    created_at: datetime = Field(default_factory=utcnow)


class TargetShare(SQLModel, table=True):
    """A target as one carer received it: the text staff approved, in the carer's language."""

    id: Optional[int] = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    target_id: int = Field(foreign_key="target.id", index=True)
    guardian_id: int = Field(foreign_key="guardian.id", index=True)
    revision: int
    number: int  # its number in the message ("1." ...), so a reply "1 ..." names it
    language: str
    text: str = Field(sa_column=Column(Text, nullable=False))  # the target in the carer's language
    engine: Optional[str] = None  # human | none | argos | apertium | libretranslate
    message_id: Optional[int] = Field(default=None, foreign_key="message.id")
    staff_user_id: Optional[int] = Field(default=None, foreign_key="staffuser.id")
    created_at: datetime = Field(default_factory=utcnow, index=True)


class CheckIn(SQLModel, table=True):
    """One planned (then sent) check-in with one carer about one child. The database is the schedule."""

    id: Optional[int] = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    child_id: int = Field(foreign_key="child.id", index=True)
    guardian_id: int = Field(foreign_key="guardian.id", index=True)
    due_at: datetime = Field(index=True)
    status: str = Field(default="planned", index=True)  # planned | sent | skipped | cancelled
    status_note: Optional[str] = None
    # The targets asked about, in question order (step target_1 is target_ids[0]).
    target_ids: Optional[list] = Field(default=None, sa_column=Column(JSON))
    flow_run_id: Optional[int] = Field(default=None, foreign_key="flowrun.id", index=True)
    message_id: Optional[int] = Field(default=None, foreign_key="message.id")
    sent_at: Optional[datetime] = None
    created_at: datetime = Field(default_factory=utcnow)


class CheckInAnswer(SQLModel, table=True):
    """What a family said about one target on one day: the trend (1-3) and/or their own words."""

    id: Optional[int] = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    target_id: Optional[int] = Field(default=None, foreign_key="target.id", index=True)  # None: "anything else"
    child_id: int = Field(foreign_key="child.id", index=True)
    guardian_id: int = Field(foreign_key="guardian.id", index=True)
    check_in_id: Optional[int] = Field(default=None, foreign_key="checkin.id", index=True)
    # The parent's message: its body is the original, its translation the English.
    message_id: Optional[int] = Field(default=None, foreign_key="message.id")
    trend: Optional[int] = None  # 1 better | 2 about the same | 3 harder; None for words only
    answered_on: date
    created_at: datetime = Field(default_factory=utcnow, index=True)


class CheckInRhythm(SQLModel, table=True):
    """A school's check-in rhythm: every N weeks in term time, at a local hour."""

    id: Optional[int] = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", unique=True)
    every_weeks: int = 3
    hour: int = 16  # after pick-up, while staff are still in school
    enabled: bool = True
    updated_at: datetime = Field(default_factory=utcnow)


class SchoolHoliday(SQLModel, table=True):
    """A school holiday (first and last day, inclusive): no check-ins are sent in it."""

    id: Optional[int] = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    name: str
    first_day: date
    last_day: date


class ChildCheckInSetting(SQLModel, table=True):
    """One child's exception to the school's rhythm: paused, or more frequent."""

    id: Optional[int] = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    child_id: int = Field(foreign_key="child.id", unique=True)
    paused: bool = False
    every_weeks: Optional[int] = None  # None: the school's rhythm
    updated_at: datetime = Field(default_factory=utcnow)


class ConversationFlag(SQLModel, table=True):
    """A conversation that needs a reply from staff, and why (cleared when staff reply)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    reason: str
    message_id: Optional[int] = Field(default=None, foreign_key="message.id")
    created_at: datetime = Field(default_factory=utcnow)
    cleared_at: Optional[datetime] = Field(default=None, index=True)


class Call(SQLModel, table=True):
    """One phone call to or from a guardian: the database is its schedule, like a message's.

    `purpose` says why we call (message | flow | inbound); the messages it speaks point at it
    (Message.call_id). Busy, unanswered, failed and machine-answered calls are tried again
    (`attempts`, `next_attempt_at`) up to the limit, then shown to staff in `status_note`.
    """

    id: Optional[int] = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    # A family's call; or, for `purpose` "prompt", a member of staff recording a prompt by phone.
    guardian_id: Optional[int] = Field(default=None, foreign_key="guardian.id", index=True)
    staff_user_id: Optional[int] = Field(default=None, foreign_key="staffuser.id")
    phone: Optional[str] = None  # the number rung for a staff call (a family's is on the guardian)
    prompt_key: Optional[str] = None  # what staff record on a "prompt" call (in `language`)
    direction: str = "outbound"  # outbound | inbound
    purpose: str = "message"  # message | flow | inbound | prompt
    flow_run_id: Optional[int] = Field(default=None, foreign_key="flowrun.id")
    language: Optional[str] = None
    # planned | dialing | queued | ringing | in-progress | completed | busy | no-answer | failed
    # | canceled | cannot_call | blocked
    status: str = Field(default="planned", index=True)
    answered_by: Optional[str] = None  # human | machine
    duration_seconds: Optional[int] = None
    attempts: int = 0
    next_attempt_at: Optional[datetime] = Field(default=None, index=True)
    provider_sid: Optional[str] = Field(default=None, unique=True)
    status_note: Optional[str] = Field(default=None, sa_column=Column(Text))
    simulated: bool = Field(default=False, sa_column_kwargs={"server_default": sa_false()})
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class VoicePrompt(SQLModel, table=True):
    """A member of staff's recording of one catalogue message in one language (played instead of a voice)."""

    __table_args__ = (UniqueConstraint("school_id", "key", "language"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    key: str
    language: str
    content_type: str = "audio/wav"
    audio: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    recorded_by_id: Optional[int] = Field(default=None, foreign_key="staffuser.id")
    created_at: datetime = Field(default_factory=utcnow)


class VoiceRecording(SQLModel, table=True):
    """What a parent said after the beep: the provider's recording, fetched through the app only."""

    id: Optional[int] = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", index=True)
    call_id: int = Field(foreign_key="call.id", index=True)
    message_id: Optional[int] = Field(default=None, foreign_key="message.id", index=True)
    provider_sid: str = Field(unique=True)
    url: Optional[str] = Field(default=None, sa_column=Column(Text))  # never shown to a browser
    duration_seconds: Optional[int] = None
    # Only simulated recordings keep their audio here; real ones stay at the provider.
    content_type: Optional[str] = None
    audio: Optional[bytes] = Field(default=None, sa_column=Column(LargeBinary))
    transcript: Optional[str] = Field(default=None, sa_column=Column(Text))  # typed by staff or the simulator
    created_at: datetime = Field(default_factory=utcnow)


class Trust(SQLModel, table=True):
    """A multi-academy trust: several schools whose trust admins set up schools and their SENDCos.

    A trust admin is a StaffUser with role "trust_admin": they read no conversations (only staff
    of a school do), they manage the trust's schools and SENDCo accounts.
    """

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    created_at: datetime = Field(default_factory=utcnow)
