"""Check-ins as rows: planned per carer and child, sent by the sweep when due, each exactly once.

A carer gets check-ins about a child once the child's targets have been shared with them. The
next one is planned `every_weeks` after the last (or after the share) in term time; changing the
rhythm, the holidays or a child's pause cancels what is planned and plans again. Sending claims
the row with a compare-and-set (as reminders do), so a worker killed mid-way neither loses a
check-in (the transaction rolls back, the row stays planned) nor repeats it.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import func, update
from sqlmodel import Session, select

from bot.conversation import flow_runs
from bot.language.i18n import render_template
from bot.targets.rhythm import DEFAULT_EVERY_WEEKS, DEFAULT_HOUR, Holiday, next_checkin_at
from bot.targets.sharing import latest_shares
from bot.tasks import defer
from storage.models import (CheckIn, CheckInRhythm, Child, ChildCheckInSetting, Guardian, GuardianChild, School,
                            SchoolHoliday, Target, TargetShare)

CHECKIN_FLOW = "checkin"
HUMAN_ENGINES = (None, "human", "none")  # none: no engine could translate, the staff's own English went
MAX_TARGETS = 6  # slots in flows/checkin.yaml
CHECKIN_BATCH = 100
BUSY_RETRY = timedelta(days=1)
BUSY_NOTE = "Put back a day: the carer was answering other questions."


def rhythm_for(session: Session, school_id: int) -> CheckInRhythm:
    """The school's rhythm (the default, unsaved, when it has none)."""
    found = session.exec(select(CheckInRhythm).where(CheckInRhythm.school_id == school_id)).first()
    return found or CheckInRhythm(school_id=school_id, every_weeks=DEFAULT_EVERY_WEEKS, hour=DEFAULT_HOUR)


def holidays_for(session: Session, school_id: int) -> list[SchoolHoliday]:
    """The school's holidays, earliest first."""
    return list(session.exec(select(SchoolHoliday).where(SchoolHoliday.school_id == school_id)
                             .order_by(SchoolHoliday.first_day)).all())


def child_setting(session: Session, child_id: int) -> ChildCheckInSetting | None:
    """A child's pause or own rhythm, if staff set one."""
    return session.exec(select(ChildCheckInSetting).where(ChildCheckInSetting.child_id == child_id)).first()


def shared_pairs(session: Session, school_id: int) -> list[tuple[int, int]]:
    """(guardian id, child id) for every carer who has been sent a child's active targets."""
    query = (select(TargetShare.guardian_id, Target.child_id).join(Target, Target.id == TargetShare.target_id)
             .join(GuardianChild, (GuardianChild.guardian_id == TargetShare.guardian_id)
                   & (GuardianChild.child_id == Target.child_id))
             .where(TargetShare.school_id == school_id, Target.status == "active").distinct())
    return sorted(session.exec(query).all())


def plan_school(session: Session, school: School, now: datetime) -> int:
    """Plan the next check-in for every carer and child that has none planned; how many were planned.

    Runs every minute for every school with shared targets, so what is already planned, paused or
    opted out is found in one query each; only the pairs that need a new row cost more.
    """
    rhythm = rhythm_for(session, school.id)
    if not rhythm.enabled:
        return 0
    pairs = shared_pairs(session, school.id)
    already = set(session.exec(select(CheckIn.guardian_id, CheckIn.child_id).where(
        CheckIn.school_id == school.id, CheckIn.status == "planned")).all())
    settings = {row.child_id: row for row in session.exec(
        select(ChildCheckInSetting).where(ChildCheckInSetting.school_id == school.id)).all()}
    opted_out = set(session.exec(select(Guardian.id).where(Guardian.school_id == school.id,
                                                           Guardian.opted_out.is_(True))).all())
    holidays = None
    planned = 0
    for guardian_id, child_id in pairs:
        setting = settings.get(child_id)
        if (guardian_id, child_id) in already or guardian_id in opted_out or (setting and setting.paused):
            continue
        if holidays is None:
            holidays = [Holiday(h.first_day, h.last_day) for h in holidays_for(session, school.id)]
        every = setting.every_weeks if setting and setting.every_weeks else rhythm.every_weeks
        due = next_checkin_at(_last_contact(session, guardian_id, child_id), every, rhythm.hour, holidays,
                              school.timezone, now)
        session.add(CheckIn(school_id=school.id, child_id=child_id, guardian_id=guardian_id, due_at=due))
        planned += 1
    return planned


def _last_contact(session: Session, guardian_id: int, child_id: int) -> datetime:
    """When this carer last heard about the child's targets: the last check-in sent, or the last share."""
    sent = session.exec(select(func.max(CheckIn.sent_at)).where(
        CheckIn.guardian_id == guardian_id, CheckIn.child_id == child_id, CheckIn.status == "sent")).one()
    shared = session.exec(select(func.max(TargetShare.created_at)).join(Target, Target.id == TargetShare.target_id)
                          .where(TargetShare.guardian_id == guardian_id, Target.child_id == child_id)).one()
    return _aware(max(moment for moment in (sent, shared) if moment is not None))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)  # SQLite: naive UTC


def replan(session: Session, school: School, now: datetime, note: str, child_id: int | None = None) -> int:
    """Cancel what is planned (for one child, or the whole school) and plan again; how many were planned."""
    query = update(CheckIn).where(CheckIn.school_id == school.id, CheckIn.status == "planned")
    if child_id is not None:
        query = query.where(CheckIn.child_id == child_id)
    session.execute(query.values(status="cancelled", status_note=note).execution_options(synchronize_session=False))
    session.expire_all()
    return plan_school(session, school, now)


def due_checkin_ids(session: Session, now: datetime) -> list[int]:
    """Planned check-ins whose time has come, oldest first."""
    return list(session.exec(select(CheckIn.id).where(CheckIn.status == "planned", CheckIn.due_at <= now)
                             .order_by(CheckIn.due_at, CheckIn.id)).all())


def send_checkins(session: Session, checkin_ids: list[int], now: datetime) -> list[int]:
    """Start each due check-in's questions, at most once; the messages to send."""
    rows = session.exec(select(CheckIn).where(CheckIn.id.in_(checkin_ids), CheckIn.status == "planned",
                                              CheckIn.due_at <= now)
                        .order_by(CheckIn.id).with_for_update(skip_locked=True)).all()
    to_send: list[int] = []
    for checkin in rows:
        to_send += _send(session, checkin, now)
    return to_send


def _send(session: Session, checkin: CheckIn, now: datetime) -> list[int]:
    # The compare-and-set keeps a check-in to one send even where row locks are not available (SQLite).
    claimed = session.execute(update(CheckIn).where(CheckIn.id == checkin.id, CheckIn.status == "planned")
                              .values(status="sent").execution_options(synchronize_session=False)).rowcount == 1
    if not claimed:
        return []
    checkin.status = "sent"
    school, guardian = session.get(School, checkin.school_id), session.get(Guardian, checkin.guardian_id)
    child = session.get(Child, checkin.child_id)
    setting = child_setting(session, child.id)
    targets = _asked_about(session, guardian.id, child.id)
    skip = ("The carer has opted out (STOP)." if guardian.opted_out
            else "Check-ins for this child are paused." if setting and setting.paused
            else "Check-ins are switched off for the school." if not rhythm_for(session, school.id).enabled
            else "No active targets have been shared with this carer." if not targets else None)
    if skip:
        checkin.status, checkin.status_note = "skipped", skip
        return []
    values = {"school": school.name, "child": child.name.split()[0],
              **{f"target_{n}": "" for n in range(1, MAX_TARGETS + 1)},
              **{f"target_{n}": text for n, (_, text) in enumerate(targets, start=1)}}
    run, to_send = flow_runs.start_flow(session, guardian, school, CHECKIN_FLOW, values)
    if run is None:  # never interrupt other questions (a pre-review flow, another check-in): try tomorrow
        checkin.status, checkin.status_note, checkin.due_at = "planned", BUSY_NOTE, now + BUSY_RETRY
        return []
    checkin.flow_run_id, checkin.sent_at = run.id, now
    checkin.target_ids = [target_id for target_id, _ in targets]
    checkin.message_id = to_send[0] if to_send else None
    return to_send


def _asked_about(session: Session, guardian_id: int, child_id: int) -> list[tuple[int, str]]:
    """(target id, the text this carer was sent) for the child's active targets they know, first six."""
    active = session.exec(select(Target).where(Target.child_id == child_id, Target.status == "active")
                          .order_by(Target.starts_on, Target.id)).all()
    shares = latest_shares(session, guardian_id, [target.id for target in active])
    return [(target.id, _labelled(shares[target.id])) for target in active if target.id in shares][:MAX_TARGETS]


def _labelled(share: TargetShare) -> str:
    """The target as the carer was sent it; a machine translation says so wherever it is quoted."""
    if share.engine in HUMAN_ENGINES:
        return share.text
    label = render_template("machine_translation.label", share.language) or render_template(
        "machine_translation.label", "en")
    return f"{label} {share.text}"


def sweep_checkins(session: Session, now: datetime) -> dict[str, int]:
    """The check-ins part of the sweep: plan what is missing, queue what is due (in batches)."""
    planned = sum(plan_school(session, school, now) for school in session.exec(
        select(School).where(School.id.in_(select(TargetShare.school_id).distinct()))).all())
    due = due_checkin_ids(session, now)
    for start in range(0, len(due), CHECKIN_BATCH):
        defer(session, "send_checkin_batch", due[start:start + CHECKIN_BATCH])
    return {"checkins_planned": planned, "due_checkins": len(due)}
