"""A run's lease: one job at a time works a run, proven by a fence that every write checks.

``acquire`` takes a running run nobody live holds and bumps its fence; ``fenced_run`` loads the run
in a write transaction and raises ``LeaseLost`` unless the caller still holds it; a ``Heartbeat``
thread keeps the lease fresh during long AI calls (crash detection comes from heartbeats). Also the
interruptible waits of the run loop (``stop_checker``, ``wait``).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from igny8_app.db import read_session, write_session
from igny8_app.domain.enums import RunStatus
from igny8_app.models import AutomationRun, utcnow
from igny8_app.settings import get_settings

log = logging.getLogger(__name__)


class LeaseLost(Exception):
    """Another job owns the run now (or it was paused/cancelled under us): stop, write nothing."""


@dataclass
class Lease:
    run_pk: int
    owner: str
    fence: int


def acquire(run_pk: int, owner: str) -> Lease | None:
    """Take the run if it is running and nobody live holds it. Returns None otherwise."""
    timeout = timedelta(seconds=get_settings().heartbeat_timeout_s)
    now = utcnow()
    t = AutomationRun.__table__
    with write_session() as s:
        fence = s.execute(
            sa.update(t).where(
                t.c.id == run_pk, t.c.status == RunStatus.RUNNING.value,
                sa.or_(t.c.lease_owner.is_(None), t.c.heartbeat_at.is_(None), t.c.heartbeat_at < now - timeout),
            ).values(lease_owner=owner, lease_fence=t.c.lease_fence + 1, heartbeat_at=now)
            .returning(t.c.lease_fence)
        ).scalar_one_or_none()
    return Lease(run_pk, owner, fence) if fence is not None else None


def fenced_run(s: Session, lease: Lease) -> AutomationRun:
    """Load the run inside a write transaction and prove we still hold it (else LeaseLost)."""
    run = s.exec(select(AutomationRun).where(AutomationRun.id == lease.run_pk).with_for_update()).one()
    if run.lease_fence != lease.fence or run.lease_owner != lease.owner or run.status != RunStatus.RUNNING.value:
        raise LeaseLost(run.run_id)
    run.heartbeat_at = utcnow()
    return run


def release(lease: Lease) -> None:
    t = AutomationRun.__table__
    with write_session() as s:
        s.execute(sa.update(t).where(t.c.id == lease.run_pk, t.c.lease_fence == lease.fence,
                                     t.c.lease_owner == lease.owner).values(lease_owner=None))


class Heartbeat(threading.Thread):
    """Refreshes the lease while the loop works (including long AI calls)."""

    def __init__(self, lease: Lease) -> None:
        super().__init__(name=f"heartbeat-{lease.run_pk}", daemon=True)
        self.lease = lease
        self.stopped = threading.Event()
        self.lost = threading.Event()
        self.interval = max(0.5, get_settings().heartbeat_timeout_s / 4)

    def run(self) -> None:
        t = AutomationRun.__table__
        while not self.stopped.wait(self.interval):
            try:
                with write_session() as s:
                    n = s.execute(sa.update(t).where(t.c.id == self.lease.run_pk, t.c.lease_fence == self.lease.fence,
                                                     t.c.lease_owner == self.lease.owner)
                                  .values(heartbeat_at=utcnow())).rowcount
                if not n:
                    self.lost.set()
                    return
            except Exception:  # noqa: BLE001 - a missed beat is retried; the timeout is several beats
                log.warning("heartbeat failed for run %s", self.lease.run_pk, exc_info=True)


def default_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def stop_checker(lease: Lease):
    """A cheap read of requested_action, for interruptible delays."""
    t = AutomationRun.__table__

    def check() -> bool:
        with read_session() as s:
            row = s.execute(sa.select(t.c.requested_action, t.c.lease_fence, t.c.status)
                            .where(t.c.id == lease.run_pk)).one()
        return bool(row.requested_action) or row.lease_fence != lease.fence or row.status != "running"

    return check


def wait(seconds: float, should_stop) -> bool:  # noqa: ANN001
    """Sleep up to ``seconds``, checking for pause/cancel every 100 ms. True if interrupted."""
    if seconds <= 0:
        return False
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if should_stop():
            return True
        time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
    return False
