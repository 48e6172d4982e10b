"""Crash recovery: a run that is ``running`` but whose heartbeat is stale has lost its worker
(killed, machine gone, Redis restarted and the job lost). Queue a new job for it. The new job's
lease acquisition is what makes this safe to run from every worker at once.

An entry point (a turn of the worker's periodic loop): it opens its own unit of work."""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa

from igny8_app.db import write_session
from igny8_app.domain.enums import EventLevel, RunStatus
from igny8_app.domain.run_state import WATCHDOG
from igny8_app.models import AutomationRun, utcnow
from igny8_app.queue import enqueue_run
from igny8_app.services.automation import events as run_events
from igny8_app.settings import get_settings

log = logging.getLogger(__name__)


def recover_stale_runs() -> list[int]:
    """Queue a job for every running run with a stale heartbeat; returns their ids.

    The claim (bumping heartbeat_at) is a conditional update, so of several watchdogs only one
    queues a job per timeout window."""
    timeout = timedelta(seconds=get_settings().heartbeat_timeout_s)
    now = utcnow()
    t = AutomationRun.__table__
    with write_session() as s:
        stale = s.execute(sa.select(t.c.id).where(t.c.status == RunStatus.RUNNING.value,
                                                  sa.or_(t.c.heartbeat_at.is_(None), t.c.heartbeat_at < now - timeout))
                          ).scalars().all()
        claimed = []
        for run_pk in stale:
            n = s.execute(sa.update(t).where(t.c.id == run_pk, t.c.status == RunStatus.RUNNING.value,
                                             sa.or_(t.c.heartbeat_at.is_(None), t.c.heartbeat_at < now - timeout))
                          .values(heartbeat_at=now, lease_owner=None)).rowcount
            if n:
                claimed.append(run_pk)
                run_events.record(s, s.get(AutomationRun, run_pk), "Worker lost (no heartbeat for "
                                  f"{int(timeout.total_seconds())} s); recovery job queued by {WATCHDOG}.",
                                  level=EventLevel.WARNING, kind="recovery", actor=WATCHDOG)
    for run_pk in claimed:
        log.warning("run %s: heartbeat stale; queuing a recovery job", run_pk)
        enqueue_run(run_pk)
    return claimed
