"""Background work: the table of jobs, deferring a job until its transaction commits, the queue.

Nothing here knows what a job does; `bot/jobs.py` (run only by the worker) does.
"""
from bot.tasks.deferred import defer, pending_jobs
from bot.tasks.queue import QUEUE_NAME, get_queue, get_redis, init_app
from bot.tasks.table import JOBS

__all__ = ["JOBS", "QUEUE_NAME", "defer", "get_queue", "get_redis", "init_app", "pending_jobs"]
