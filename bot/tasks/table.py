"""Every background job by name: where the worker finds it and how RQ retries it.

Callers name a job ("deliver_message"); only the worker imports `bot.jobs`, through the dotted
paths here, so no domain module depends on the module that runs it. A job waiting to run with
the same arguments is never queued a second time (bot/tasks/queue.py).
"""
from __future__ import annotations

from dataclasses import dataclass

from rq import Retry


@dataclass(frozen=True)
class JobSpec:
    """A job's dotted path and its RQ retry policy."""

    path: str
    retry: Retry | None = None


JOBS: dict[str, JobSpec] = {
    # A parent's stored messages: keywords, language, flow answers, in arrival order.
    "process_guardian": JobSpec("bot.jobs.process_guardian", Retry(max=3, interval=[5, 30, 120])),
    "translate_message": JobSpec("bot.jobs.translate_message", Retry(max=3, interval=[5, 30, 120])),
    "deliver_message": JobSpec("bot.jobs.deliver_message", Retry(max=5, interval=[10, 30, 60, 300, 900])),
    "recover_send": JobSpec("bot.jobs.recover_send", Retry(max=5, interval=[30, 60, 300, 900, 3600])),
    "send_reminder_batch": JobSpec("bot.jobs.send_reminder_batch"),
    "send_checkin_batch": JobSpec("bot.jobs.send_checkin_batch"),
    # A planned phone call: rung once (the row is claimed first); provider hiccups retried.
    "place_call": JobSpec("bot.jobs.place_call", Retry(max=3, interval=[30, 120, 600])),
    # A prompt a member of staff recorded by phone: its audio fetched and kept as the school's prompt.
    "save_prompt_recording": JobSpec("bot.jobs.save_prompt_recording", Retry(max=5, interval=[5, 30, 60, 300, 900])),
    "sweep": JobSpec("bot.jobs.sweep"),
}


def spec_for(name: str) -> JobSpec:
    """The job called `name`; KeyError naming the known jobs otherwise."""
    try:
        return JOBS[name]
    except KeyError:
        raise KeyError(f"unknown job {name!r}: known jobs are {', '.join(sorted(JOBS))}") from None
