"""The check-in schedule with a controlled clock: term time and holidays, pausing a child, re-planning
when the rhythm moves, and no lost or repeated check-in when a worker dies mid-send."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlmodel import select

from bot.conversation import flow_runs
from bot.targets import checkins
from bot.targets.rhythm import Holiday, next_checkin_at
from storage.db import session_scope
from storage.models import (CheckIn, CheckInRhythm, Child, ChildCheckInSetting, FlowRun, Guardian, Message, School,
                            SchoolHoliday, Target, TargetShare)
from tests.support.factories import make_guardian, make_school
from tests.support.services import run_jobs

LONDON = "Europe/London"
UTC = timezone.utc


def at(year, month, day, hour=12, minute=0) -> datetime:
    """A UTC moment (the clock the tests control)."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# -- the rhythm alone (pure) ---------------------------------------------------------------------

def test_three_weeks_after_the_last_contact_on_a_school_day_at_four():
    # Shared Monday 2 November 2026 (GMT): the check-in is Monday 23 November, 16:00 London = 16:00 UTC.
    assert next_checkin_at(at(2026, 11, 2, 10), 3, 16, [], LONDON, at(2026, 11, 2, 10)) == at(2026, 11, 23, 16)
    # In British Summer Time 16:00 London is 15:00 UTC.
    assert next_checkin_at(at(2026, 5, 4, 10), 3, 16, [], LONDON, at(2026, 5, 4, 10)) == at(2026, 5, 25, 15)


def test_none_in_the_holidays_and_none_at_weekends():
    christmas = [Holiday(date(2026, 12, 21), date(2027, 1, 1))]
    # Three weeks after 7 December is 28 December, in the holidays: the first school day after is Monday 4 January.
    assert next_checkin_at(at(2026, 12, 7, 10), 3, 16, christmas, LONDON, at(2026, 12, 7, 10)) == at(2027, 1, 4, 16)
    # A Saturday moves to the Monday.
    assert next_checkin_at(at(2026, 11, 7, 10), 3, 16, [], LONDON, at(2026, 11, 7, 10)) == at(2026, 11, 30, 16)


def test_an_overdue_check_in_is_the_next_school_day_never_in_the_past():
    now = at(2026, 11, 25, 17)  # Wednesday, after 16:00
    assert next_checkin_at(at(2026, 9, 1, 10), 3, 16, [], LONDON, now) == at(2026, 11, 26, 16)
    assert next_checkin_at(at(2026, 9, 1, 10), 3, 16, [], LONDON, at(2026, 11, 25, 9)) == at(2026, 11, 25, 16)


def test_an_impossible_rhythm_is_refused():
    with pytest.raises(ValueError, match="every_weeks"):
        next_checkin_at(at(2026, 11, 2), 0, 16, [], LONDON, at(2026, 11, 2))


# -- the schedule in the database ---------------------------------------------------------------

@pytest.fixture
def shared(app, db):
    """A school, a Polish mother and her child, two active targets shared with her on Mon 2 Nov 2026."""
    school = make_school(db, name="Oakfield Primary School")
    mother = make_guardian(db, school, "+447700900751", name="Anna", language="pl", child="Kuba Kowalski")
    child = db.exec(select(Child).where(Child.school_id == school.id)).one()
    for number, text in enumerate(("Kuba will use his now/next card", "Kuba will put on his coat"), start=1):
        target = Target(school_id=school.id, child_id=child.id, text=text, starts_on=date(2026, 11, 2))
        db.add(target)
        db.flush()
        db.add(TargetShare(school_id=school.id, target_id=target.id, guardian_id=mother.id, revision=1,
                           number=number, language="pl", text=f"(pl) {text}", created_at=at(2026, 11, 2, 10)))
    db.commit()
    return school, mother, child


def planned(db) -> list[CheckIn]:
    db.expire_all()
    return db.exec(select(CheckIn).where(CheckIn.status == "planned")).all()


def test_the_sweep_plans_one_check_in_per_carer_and_child(app, shared, db):
    school, mother, child = shared
    with app.app_context(), session_scope() as session:
        assert checkins.sweep_checkins(session, at(2026, 11, 3)) == {"checkins_planned": 1, "due_checkins": 0}
    with app.app_context(), session_scope() as session:
        assert checkins.sweep_checkins(session, at(2026, 11, 4)) == {"checkins_planned": 0, "due_checkins": 0}
    [row] = planned(db)
    assert (row.guardian_id, row.child_id, row.due_at) == (mother.id, child.id, at(2026, 11, 23, 16))


def test_pausing_a_child_cancels_what_is_planned_and_resuming_plans_again(app, shared, db):
    school, mother, child = shared
    with app.app_context(), session_scope() as session:
        checkins.plan_school(session, session.get(School, school.id), at(2026, 11, 3))
        session.add(ChildCheckInSetting(school_id=school.id, child_id=child.id, paused=True))
        session.flush()
        checkins.replan(session, session.get(School, school.id), at(2026, 11, 3), "paused", child_id=child.id)
    assert planned(db) == []
    assert db.exec(select(CheckIn)).one().status == "cancelled"
    with app.app_context(), session_scope() as session:
        setting = checkins.child_setting(session, child.id)
        setting.paused, setting.every_weeks = False, 1  # more frequent for this child
        checkins.replan(session, session.get(School, school.id), at(2026, 11, 3), "resumed", child_id=child.id)
    assert [row.due_at for row in planned(db)] == [at(2026, 11, 9, 16)]


def test_moving_the_rhythm_or_adding_a_holiday_re_plans(app, shared, db):
    school, _, _ = shared
    with app.app_context(), session_scope() as session:
        checkins.plan_school(session, session.get(School, school.id), at(2026, 11, 3))
    with app.app_context(), session_scope() as session:
        session.add(CheckInRhythm(school_id=school.id, every_weeks=2, hour=10))
        session.flush()
        checkins.replan(session, session.get(School, school.id), at(2026, 11, 3), "rhythm")
    assert [row.due_at for row in planned(db)] == [at(2026, 11, 16, 10)]
    with app.app_context(), session_scope() as session:
        session.add(SchoolHoliday(school_id=school.id, name="Staff training", first_day=date(2026, 11, 16),
                                  last_day=date(2026, 11, 17)))
        session.flush()
        checkins.replan(session, session.get(School, school.id), at(2026, 11, 3), "holiday")
    assert [row.due_at for row in planned(db)] == [at(2026, 11, 18, 10)]
    assert len(db.exec(select(CheckIn).where(CheckIn.status == "cancelled")).all()) == 2


def test_a_worker_killed_mid_send_neither_loses_nor_repeats_the_check_in(app, shared, db):
    school, mother, _ = shared
    with app.app_context(), session_scope() as session:
        checkins.plan_school(session, session.get(School, school.id), at(2026, 11, 3))
    [row] = planned(db)
    due = row.due_at + timedelta(minutes=1)
    # A worker claims the check-in and starts the questions, then dies before committing.
    with app.app_context():
        with pytest.raises(RuntimeError):
            with session_scope() as session:
                assert checkins.send_checkins(session, [row.id], due)
                raise RuntimeError("worker killed")
    assert [r.id for r in planned(db)] == [row.id]
    assert db.exec(select(FlowRun)).all() == [] and db.exec(select(Message)).all() == []
    # The next worker sends it; a second batch for the same row (a retry, or another worker) sends nothing.
    with app.app_context():
        for _ in range(2):
            with session_scope() as session:
                checkins.send_checkins(session, [row.id], due)  # its messages are queued on commit
    run_jobs(app)
    db.expire_all()
    sent = db.get(CheckIn, row.id)
    assert sent.status == "sent" and sent.flow_run_id is not None and sent.target_ids
    assert [m.template_key for m in db.exec(select(Message).order_by(Message.id)).all()] == [
        "checkin.intro", "checkin.target.ask"]
    assert db.exec(select(FlowRun)).one().state["values"]["target_1"] == "(pl) Kuba will use his now/next card"


def test_a_check_in_never_interrupts_other_questions_and_tries_again_next_day(app, shared, db):
    school, mother, _ = shared
    with app.app_context(), session_scope() as session:
        checkins.plan_school(session, session.get(School, school.id), at(2026, 11, 3))
        flow_runs.start_flow(session, session.get(Guardian, mother.id), session.get(School, school.id),
                             "pre_review", {"child": "Kuba", "school": "Oakfield", "date": "1 grudnia"})
    [row] = planned(db)
    due = row.due_at + timedelta(minutes=1)
    with app.app_context(), session_scope() as session:
        assert checkins.send_checkins(session, [row.id], due) == []
    [again] = planned(db)
    assert again.id == row.id and again.due_at == due + checkins.BUSY_RETRY
    assert [r.flow_id for r in db.exec(select(FlowRun)).all()] == ["pre_review"]


def test_an_opted_out_carer_is_not_asked(app, shared, db):
    school, mother, _ = shared
    with app.app_context(), session_scope() as session:
        checkins.plan_school(session, session.get(School, school.id), at(2026, 11, 3))
        session.get(Guardian, mother.id).opted_out = True
    [row] = planned(db)
    with app.app_context(), session_scope() as session:
        assert checkins.send_checkins(session, [row.id], row.due_at) == []
    db.expire_all()
    assert db.get(CheckIn, row.id).status == "skipped" and db.exec(select(FlowRun)).all() == []
    with app.app_context(), session_scope() as session:
        assert checkins.plan_school(session, session.get(School, school.id), at(2026, 11, 30)) == 0
