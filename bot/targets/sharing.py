"""Sharing a child's active targets with a carer, in their language, exactly as staff approved.

The framing is the catalogue's human wording (`target.share.*`); each target and its "how you
can help at home" line is the staff's English, machine-translated with names, dates and numbers
kept as written (`render_staff_reply`), labelled once as an automatic translation, and checked
by a translation back into English on the preview. The approval code fingerprints the whole
text a carer gets: a send goes through only for exactly what staff saw.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from datetime import datetime

from flask import current_app
from sqlalchemy import func
from sqlmodel import Session, select

from bot.language.i18n import render_template
from bot.messaging.outbound import back_translate, parent_language, queue_message, render_staff_reply
from bot.messaging.rendering import Rendering, approval_code, render_catalogue
from bot.messaging.segments import count_segments
from storage.models import AuditEvent, Child, Guardian, School, Target, TargetShare
from storage.queries import conversation_for

MAX_SHARE_CHARS = 1600  # one SMS body at most (Twilio's limit); longer is refused, not cut


@dataclass(frozen=True)
class SharedLine:
    """One target as this carer gets it: the English, its rendering, and (on demand) the check back."""

    target: Target
    number: int
    english: str
    rendering: Rendering
    help_english: str | None
    help_rendering: Rendering | None

    @property
    def parent_text(self) -> str:
        """The target alone in the carer's language (no label): what the check-in quotes back."""
        return _bare(self.rendering)

    @property
    def parent_help(self) -> str | None:
        """The help line alone in the carer's language."""
        return _bare(self.help_rendering) if self.help_rendering else None


@dataclass
class ShareDraft:
    """Everything one carer would receive, built fresh for the preview and again for the send."""

    guardian: Guardian
    school: School
    language: str
    english: str  # the same message in the staff language (stored as the message body)
    text: str  # exactly what the carer receives
    lines: list[SharedLine]
    machine: bool  # some of it is machine translation (labelled for the carer)
    unavailable: bool  # no engine could translate: English with a notice

    @property
    def approval(self) -> str:
        """The fingerprint of exactly this text, carried by the approve form."""
        rendering = Rendering(text=self.text, engine=self.engine, status=self.status)
        return approval_code(self.english, rendering, self.language)

    @property
    def engine(self) -> str:
        """How the carer's text was made: human, or the machine engine used for the targets."""
        engines = {line.rendering.engine for line in self.lines if line.rendering.status == "done"}
        return sorted(engines)[0] if engines else ("none" if self.unavailable else "human")

    @property
    def status(self) -> str:
        """Message.translation_status for the stored message."""
        if self.unavailable:
            return "unavailable"
        return "done" if self.machine else ("not_needed" if self.language == self.school.staff_language else "human")

    @property
    def segments(self):
        """SMS segments the text takes (shown, so staff see the cost of a long message)."""
        return count_segments(self.text)

    @cached_property
    def checks(self) -> dict[int, tuple[str | None, str | None]]:
        """target id -> (target, help line) translated back into English: worked out only when shown."""
        return {line.target.id: (back_translate(line.rendering, self.guardian, self.school),
                                 back_translate(line.help_rendering, self.guardian, self.school)
                                 if line.help_rendering else None) for line in self.lines}


def _bare(rendering: Rendering) -> str:
    if rendering.status == "done" and rendering.translated:
        return rendering.translated
    if rendering.status == "unavailable":
        return rendering.text.split("\n")[0]  # the English, without the notice (said once below)
    return rendering.text or ""


def _framing(key: str, language: str, values: dict) -> str:
    return render_catalogue(key, language, values, current_app.extensions["translator"]).text or ""


def draft_share(session: Session, school: School, child: Child, guardian: Guardian,
                targets: list[Target]) -> ShareDraft:
    """What this carer would receive for these targets (TranslationFailed if an engine is down)."""
    language = parent_language(guardian, school)
    values = {"school": school.name, "child": child.name.split()[0]}
    lines = []
    for number, target in enumerate(targets, start=1):
        help_rendering = render_staff_reply(target.help_at_home, guardian, school) if target.help_at_home else None
        lines.append(SharedLine(target, number, target.text, render_staff_reply(target.text, guardian, school),
                                target.help_at_home, help_rendering))
    renderings = [line.rendering for line in lines] + [line.help_rendering for line in lines if line.help_rendering]
    machine = any(r.status == "done" for r in renderings)
    unavailable = any(r.status == "unavailable" for r in renderings)
    help_word = _framing("target.share.help", language, {})
    parts = [_framing("target.share.intro", language, values)]
    if machine:
        parts.append(render_template("machine_translation.label", language)
                     or render_template("machine_translation.label", "en"))
    for line in lines:
        parts.append(f"{line.number}. {line.parent_text}")
        if line.parent_help:
            parts.append(f"   {help_word} {line.parent_help}")
    if unavailable:
        parts.append(render_template("translation.unavailable_notice", language)
                     or render_template("translation.unavailable_notice", "en"))
    parts.append(_framing("target.share.outro", language, {}))
    english = _english(values, lines)
    return ShareDraft(guardian=guardian, school=school, language=language, english=english,
                      text="\n".join(parts), lines=lines, machine=machine, unavailable=unavailable)


def _english(values: dict, lines: list[SharedLine]) -> str:
    parts = [render_template("target.share.intro", "en", **values)]
    for line in lines:
        parts.append(f"{line.number}. {line.english}")
        if line.help_english:
            parts.append(f"   {render_template('target.share.help', 'en')} {line.help_english}")
    parts.append(render_template("target.share.outro", "en"))
    return "\n".join(parts)


def send_share(session: Session, draft: ShareDraft, child: Child, staff_id: int | None) -> int:
    """Store exactly the approved text for the carer and remember what each target was sent as.

    Returns the message id; delivery (quiet hours, opt-out, rate limit, failover) follows the commit.
    """
    guardian = draft.guardian
    if guardian.opted_out:
        raise ValueError("This carer has opted out (texted STOP): nothing can be sent until they text START.")
    if len(draft.text) > MAX_SHARE_CHARS:
        raise ValueError(f"The message would be {len(draft.text)} characters, more than one text can carry "
                         f"({MAX_SHARE_CHARS}). Share fewer targets, or make them shorter.")
    rendering = Rendering(text=draft.text, engine=draft.engine, status=draft.status)
    message = queue_message(session, guardian, conversation_for(session, guardian), body=draft.english,
                            rendering=rendering, kind="staff_reply", language=draft.language,
                            staff_author_id=staff_id)
    for line in draft.lines:
        session.add(TargetShare(school_id=draft.school.id, target_id=line.target.id, guardian_id=guardian.id,
                                revision=line.target.revision, number=line.number, language=draft.language,
                                text=line.parent_text, engine=line.rendering.engine, message_id=message.id,
                                staff_user_id=staff_id))
    session.add(AuditEvent(school_id=draft.school.id, staff_user_id=staff_id, action="target.share",
                           target=f"message:{message.id}"))
    return message.id


def latest_shares(session: Session, guardian_id: int, target_ids: list[int]) -> dict[int, TargetShare]:
    """target id -> the last time this carer was sent it (what they know it as)."""
    if not target_ids:
        return {}
    rows = session.exec(select(TargetShare).where(TargetShare.guardian_id == guardian_id,
                                                  TargetShare.target_id.in_(target_ids))
                        .order_by(TargetShare.id)).all()
    return {row.target_id: row for row in rows}


def shares_by_carer(session: Session, guardian_ids: list[int], targets: list[Target]) -> dict[int, datetime]:
    """guardian id -> when they were last sent any of these targets (for "last shared" on the page)."""
    if not guardian_ids or not targets:
        return {}
    rows = session.exec(select(TargetShare.guardian_id, func.max(TargetShare.created_at))
                        .where(TargetShare.guardian_id.in_(guardian_ids),
                               TargetShare.target_id.in_([t.id for t in targets]))
                        .group_by(TargetShare.guardian_id)).all()
    return dict(rows)


def not_yet_shared(session: Session, guardian_id: int, targets: list[Target]) -> list[int]:
    """Numbers (1 = the first active target) of targets this carer has not been sent as they now read."""
    shares = latest_shares(session, guardian_id, [target.id for target in targets])
    return [number for number, target in enumerate(targets, start=1)
            if target.id not in shares or shares[target.id].revision < target.revision]
