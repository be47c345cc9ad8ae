"""The sweep: every minute, whatever the database says is pending goes back to the worker.

One small function per area (messaging, reviews, flows, check-ins), each in its own transaction so one
area's failure does not hold back the others. However many workers run, one sweep runs at a
time (a lease in Redis), and work already waiting in the queue is not queued again.
"""
from __future__ import annotations

import logging

from bot.calls.placing import sweep_calls
from bot.conversation.flow_runs import sweep_flows
from bot.messaging.retention import sweep_retention
from bot.messaging.sweep import sweep_messaging
from bot.reviews.sweep import sweep_reviews
from bot.targets.checkins import sweep_checkins
from bot.tasks import get_redis
from bot.tasks.ticker import exclusive
from storage.db import session_scope
from storage.models import utcnow

log = logging.getLogger(__name__)

AREAS = (sweep_messaging, sweep_reviews, sweep_flows, sweep_checkins, sweep_calls, sweep_retention)


def run_sweep() -> dict[str, int] | None:
    """Run every area's sweep once; the counts of what each found, or None if another sweep is running."""
    with exclusive(get_redis()) as alone:
        if not alone:
            return None
        now, counts = utcnow(), {}
        for area in AREAS:
            with session_scope() as session:
                counts.update(area(session, now))
    if any(counts.values()):
        log.info("sweep: %s", counts)
    return counts
