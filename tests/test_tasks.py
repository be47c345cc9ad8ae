"""Background work: jobs by name, queued only after commit, never stacked, one sweep at a time."""
from __future__ import annotations

import importlib
import inspect
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import Session

from bot.tasks import JOBS, defer, pending_jobs
from bot.tasks.queue import enqueue_job
from bot.tasks.ticker import LEASE_KEY, exclusive, tick
from tests.support.factories import make_school


def _queued(app) -> list[tuple[str, tuple]]:
    return [(job.func_name, job.args) for job in app.extensions["queue"].get_jobs()]


def test_every_named_job_is_a_function_of_bot_jobs_and_every_job_there_is_named():
    jobs = importlib.import_module("bot.jobs")
    for name, spec in JOBS.items():
        module, _, function = spec.path.rpartition(".")
        assert module == "bot.jobs" and function == name and callable(getattr(jobs, function))
    public = {name for name, value in vars(jobs).items()
              if inspect.isfunction(value) and value.__module__ == "bot.jobs" and not name.startswith("_")}
    assert public == set(JOBS)


def test_deferred_work_is_queued_only_once_the_transaction_commits(app):
    with app.app_context(), Session(app.extensions["db_engine"]) as session:
        defer(session, "deliver_message", 41)
        defer(session, "deliver_message", 41)  # recorded twice in one transaction: queued once
        assert _queued(app) == [] and len(pending_jobs(session)) == 1
        session.commit()
        assert _queued(app) == [("bot.jobs.deliver_message", (41,))]


def test_deferred_work_is_dropped_when_the_transaction_rolls_back(app):
    with app.app_context(), Session(app.extensions["db_engine"]) as session:
        make_school(session)
        defer(session, "deliver_message", 42)
        session.rollback()
        make_school(session)
        session.commit()  # a later commit on the same session does not resurrect it
    assert _queued(app) == []


def test_an_unknown_job_name_fails_in_the_callers_transaction(app):
    with app.app_context(), Session(app.extensions["db_engine"]) as session:
        with pytest.raises(KeyError, match="unknown job 'deliver_mesage'"):
            defer(session, "deliver_mesage", 1)


def test_a_job_already_waiting_is_not_queued_again(app):
    queue = app.extensions["queue"]
    assert enqueue_job(queue, "process_guardian", (7,)) is True
    assert enqueue_job(queue, "process_guardian", (7,)) is False  # a second sweep, the same row
    assert enqueue_job(queue, "process_guardian", (8,)) is True
    later = datetime.now(timezone.utc) + timedelta(hours=1)
    assert enqueue_job(queue, "deliver_message", (9,), at=later) is True  # held for quiet hours
    assert enqueue_job(queue, "deliver_message", (9,)) is False  # the scheduled one will run it
    assert sorted(_queued(app)) == [("bot.jobs.process_guardian", (7,)), ("bot.jobs.process_guardian", (8,))]
    assert queue.scheduled_job_registry.count == 1


def test_a_finished_job_does_not_block_new_work(app):
    from tests.support.services import run_jobs

    queue = app.extensions["queue"]
    assert enqueue_job(queue, "process_guardian", (999,))
    run_jobs(app)  # no such guardian: the job finishes (or fails) and is no longer waiting
    assert enqueue_job(queue, "process_guardian", (999,)) is True


def test_one_worker_per_interval_queues_the_sweep(app):
    queue = app.extensions["queue"]
    results = [tick(queue, 60) for _ in range(3)]  # three workers' tickers in the same minute
    assert results == [True, False, False]
    assert _queued(app) == [("bot.jobs.sweep", ())]
    queue.connection.delete(LEASE_KEY)  # the next interval
    assert tick(queue, 60) is False  # the sweep queued last minute has not run yet: not stacked
    assert len(_queued(app)) == 1


def test_one_sweep_runs_at_a_time(app):
    from bot.sweep import run_sweep

    connection = app.extensions["redis"]
    with app.app_context():
        with exclusive(connection) as first:
            assert first is True
            assert run_sweep() is None  # another worker's sweep while this one runs: nothing done
        assert isinstance(run_sweep(), dict)  # released: the next sweep runs


def test_a_worker_started_before_redis_waits_instead_of_dying():
    import threading

    import redis
    from rq import Queue

    from bot.tasks.runner import run_worker
    from tests.support.prism import free_port

    queue = Queue("default", connection=redis.Redis(port=free_port(), socket_connect_timeout=0.2))
    stop = threading.Event()
    threading.Timer(1.0, stop.set).start()
    run_worker(queue, stop, pause=0.1)  # returns when told to stop; a RedisError would have escaped
    assert stop.is_set()
