"""Scheduled runs and the periodic jobs (scheduler tick, crash watchdog, retention).

Exactly once per due time comes from the DATABASE, not from the scheduler process: a scheduled run
(or the ``skipped`` row recording why it did not start) is inserted with ``scheduled_for`` = the
due time, and ``automation_run`` has a unique ``(site_id, scheduled_for)``. Any number of scheduler
processes (one in every worker), a restart exactly at the due time, or a replayed tick insert at
most one row per site and due time; the losers see the row (or the unique violation) and move on.

RQ 3 has a cron scheduler (``rq.cron.CronScheduler``) but it keeps next-run times in the memory
of one process and takes no lock across processes, so it cannot give this guarantee; RQ's
``Worker(with_scheduler=True)`` only moves already-enqueued delayed jobs. So the periodic loop is
ours: a daemon thread in every ``igny8 worker`` (``PeriodicRunner``), also runnable on its own
(``igny8 scheduler run``), with a heartbeat per task in Redis for the System page. The tick
(``run_due``) is an entry point: it opens its own units of work, one per due site.

Due times are computed per site in the account's timezone (``domain.schedule``): daily, weekly,
monthly, DST-correct. The config's ``next_run_at`` is the next pending due time; when the clock
passes it, the latest due time at or before now fires (after downtime, missed due times collapse
into one run, never a burst), then ``next_run_at`` moves to the next due time after now.

Skips are rows, never silence: a due site that has a running or paused run, or whose account has
too few credits (1.2 × the estimate), gets a run row with status ``skipped`` and the reason.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import select

from igny8_app.db import read_session, write_session
from igny8_app.domain.enums import RunStatus, Trigger
from igny8_app.domain.errors import Conflict, DomainError, InsufficientCredits, NotFound
from igny8_app.domain.run_state import SCHEDULER
from igny8_app.domain.schedule import ScheduleError
from igny8_app.models import Account, AutomationConfig, AutomationRun, Site, utcnow
from igny8_app.services.automation import control as automation
from igny8_app.services.automation import events as run_events
from igny8_app.services.automation.config import schedule_of
from igny8_app.settings import get_settings

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]

HEARTBEAT_KEY = "igny8:heartbeat:{task}"
HEARTBEAT_TASKS = ("scheduler", "watchdog", "retention")


# --- firing due runs ------------------------------------------------------------------------------

@dataclass
class TickResult:
    started: list[str] = field(default_factory=list)  # run ids
    skipped: list[str] = field(default_factory=list)  # run ids of skip rows
    existing: int = 0  # due times another scheduler (or an earlier tick) already recorded

    def as_dict(self) -> dict[str, Any]:
        return {"started": self.started, "skipped": self.skipped, "existing": self.existing}


def _due_configs(now: datetime) -> list[tuple[int, int, datetime, datetime | None]]:
    """(config id, site id, due time, old next_run_at) for every enabled config that is due."""
    out = []
    with read_session() as s:
        rows = s.execute(
            sa.select(AutomationConfig, Account.timezone)
            .join(Site, Site.id == AutomationConfig.site_id).join(Account, Account.id == Site.account_id)
            .where(AutomationConfig.enabled.is_(True), Site.is_active.is_(True),
                   AutomationConfig.next_run_at.is_not(None), AutomationConfig.next_run_at <= now)
            .order_by(AutomationConfig.next_run_at)
        ).all()
        for cfg, tz in rows:
            try:
                latest = schedule_of(cfg, tz or "UTC").latest_due(now)
            except ScheduleError:
                log.warning("site %s: invalid schedule; not fired", cfg.site_id)
                continue
            due = latest if latest is not None and latest >= cfg.next_run_at else cfg.next_run_at
            out.append((cfg.id, cfg.site_id, due, cfg.next_run_at))
    return out


def _advance(config_id: int, old_next: datetime | None, due: datetime, now: datetime) -> None:
    """Move next_run_at past ``now`` (compare-and-set: a concurrent scheduler may have done it)."""
    with write_session() as s:
        cfg = s.get(AutomationConfig, config_id)
        if cfg is None or cfg.next_run_at != old_next:
            return
        site = s.get(Site, cfg.site_id)
        tz = s.get(Account, site.account_id).timezone or "UTC"
        try:
            cfg.next_run_at = schedule_of(cfg, tz).next_due(max(now, due))
        except ScheduleError:
            cfg.next_run_at = None
        s.add(cfg)


def _exists(site_id: int, due: datetime) -> bool:
    with read_session() as s:
        return s.execute(sa.select(AutomationRun.id).where(AutomationRun.site_id == site_id,
                                                          AutomationRun.scheduled_for == due)).first() is not None


def record_skip(*, site_id: int, due: datetime, reason: str, now: datetime | None = None) -> AutomationRun | None:
    """Insert the ``skipped`` row for this due time; None when one (run or skip) already exists."""
    now = now or utcnow()
    try:
        with write_session() as s:
            site = s.get(Site, site_id)
            run = AutomationRun(
                run_id=automation.new_run_id(Trigger.SCHEDULED, now), site_id=site_id, account_id=site.account_id,
                trigger=Trigger.SCHEDULED.value, scheduled_for=due, status=RunStatus.SKIPPED.value,
                started_at=now, completed_at=now, skip_reason=reason[:2000],
                config_snapshot=automation.config_snapshot(
                    s.exec(select(AutomationConfig).where(AutomationConfig.site_id == site_id)).one_or_none()),
            )
            s.add(run)
            s.flush()
            run_events.record(s, run, f"Scheduled run skipped: {reason}", kind="run_skipped", actor=SCHEDULER)
        return run
    except sa.exc.IntegrityError:
        return None


def fire(*, site_id: int, due: datetime, now: datetime | None = None) -> tuple[str, AutomationRun | None]:
    """Start the scheduled run of ``site_id`` for ``due``, or record why it is skipped.

    Returns ('started' | 'skipped' | 'exists', run). Safe to call from any number of processes."""
    if _exists(site_id, due):
        return "exists", None
    try:
        run = automation.start_run(site_id=site_id, trigger=Trigger.SCHEDULED, scheduled_for=due, actor=SCHEDULER)
        return "started", run
    except InsufficientCredits as exc:
        reason = f"Not enough credits. {exc.message}"
    except NotFound:
        return "exists", None
    except Conflict as exc:  # an active run, or another scheduler's row for this due time
        if _exists(site_id, due):
            return "exists", None
        with read_session() as s:
            active = automation.current_run(session=s, site_id=site_id)
            reason = (f"The site has a {active.status} run ({active.run_id}); a site runs one run at a time."
                      if active is not None else exc.message)
    run = record_skip(site_id=site_id, due=due, reason=reason, now=now)
    return ("skipped", run) if run is not None else ("exists", None)


def run_due(*, now: datetime | None = None) -> TickResult:
    """One scheduler tick at ``now`` (injectable for tests): fire every due site once."""
    now = now or utcnow()
    result = TickResult()
    for config_id, site_id, due, old_next in _due_configs(now):
        try:
            outcome, run = fire(site_id=site_id, due=due, now=now)
        except DomainError as exc:  # e.g. a deactivated site: recorded like any skip
            outcome, run = "skipped", record_skip(site_id=site_id, due=due, reason=exc.message, now=now)
            outcome = outcome if run is not None else "exists"
        except Exception:  # noqa: BLE001 - one site's failure must not stop the others
            log.exception("site %s: could not fire the run due at %s", site_id, due)
            continue
        if outcome == "started":
            result.started.append(run.run_id)
            log.info("site %s: scheduled run %s started (due %s)", site_id, run.run_id, due)
        elif outcome == "skipped":
            result.skipped.append(run.run_id)
            log.info("site %s: scheduled run due %s skipped: %s", site_id, due, run.skip_reason)
        else:
            result.existing += 1
        _advance(config_id, old_next, due, now)
    return result


# --- heartbeats -----------------------------------------------------------------------------------

def owner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def beat(task: str, *, ttl_s: int, detail: dict[str, Any] | None = None, now: datetime | None = None) -> None:
    from igny8_app.queue import get_redis

    value = json.dumps({"at": (now or utcnow()).isoformat(), "by": owner_name(), **(detail or {})})
    get_redis().set(HEARTBEAT_KEY.format(task=task), value, ex=max(ttl_s, 10))


def last_beats() -> dict[str, dict[str, Any] | None]:
    """The last heartbeat of each periodic task (None: none within its TTL)."""
    from igny8_app.queue import get_redis

    values = get_redis().mget([HEARTBEAT_KEY.format(task=t) for t in HEARTBEAT_TASKS])
    return {t: (json.loads(v) if v else None) for t, v in zip(HEARTBEAT_TASKS, values, strict=True)}


# --- the periodic runner --------------------------------------------------------------------------

@dataclass
class Task:
    name: str
    interval_s: float
    fn: Callable[[datetime], Any]
    next_at: float = 0.0


#: Held while a periodic task runs. The worker process forks a work horse per job (RQ); a fork taken
#: while this thread is inside SQLite or a driver copies their held mutexes into the child, whose
#: first connect then waits forever (seen: a horse stuck in sqlite3.connect on a futex). The worker
#: registers an at-fork handler (igny8_app.worker) that takes this lock around every fork.
FORK_GUARD = threading.Lock()


class PeriodicRunner(threading.Thread):
    """Runs the periodic tasks (scheduler tick, crash watchdog, retention) in one daemon thread,
    each at its own interval, writing a heartbeat after every successful turn. One runs in every
    worker process; the database makes their work idempotent, so more runners only add safety."""

    def __init__(self, *, tasks: list[Task], clock: Clock = utcnow) -> None:
        super().__init__(name="igny8-periodic", daemon=True)
        self.clock = clock
        self.stopped = threading.Event()
        self.tasks = tasks  # the entry point wires them (services.system.periodic.periodic_tasks)

    def run_pending(self, monotonic_now: float) -> list[str]:
        ran = []
        for task in self.tasks:
            if monotonic_now < task.next_at:
                continue
            task.next_at = monotonic_now + task.interval_s
            try:
                with FORK_GUARD:
                    out = task.fn(self.clock())
                    beat(task.name, ttl_s=int(task.interval_s * 4) + 30,
                         detail=out if isinstance(out, dict) else None)
                ran.append(task.name)
            except Exception:  # noqa: BLE001 - keep going; the next turn retries
                log.warning("periodic task %s failed", task.name, exc_info=True)
        return ran

    def run(self) -> None:
        import time

        while not self.stopped.is_set():
            self.run_pending(time.monotonic())
            nxt = min(t.next_at for t in self.tasks) - time.monotonic()
            self.stopped.wait(max(0.2, min(nxt, 5.0)))


def _scheduler_task(now: datetime) -> dict[str, Any]:
    r = run_due(now=now)
    return {"started": len(r.started), "skipped": len(r.skipped)}


def _watchdog_task(now: datetime) -> dict[str, Any]:
    from igny8_app.services.automation.watchdog import recover_stale_runs

    return {"recovered": len(recover_stale_runs())}


def automation_tasks() -> list[Task]:
    """The automation group's periodic tasks: the scheduler tick and the crash watchdog."""
    settings = get_settings()
    return [Task("scheduler", settings.scheduler_tick_s, _scheduler_task),
            Task("watchdog", max(1.0, settings.heartbeat_timeout_s / 3), _watchdog_task)]


def next_runs(*, limit: int = 20) -> list[dict[str, Any]]:
    """The next scheduled runs across all sites (for the System page)."""
    with read_session() as s:
        rows = s.execute(sa.select(AutomationConfig.site_id, Site.name, AutomationConfig.next_run_at)
                         .join(Site, Site.id == AutomationConfig.site_id)
                         .where(AutomationConfig.enabled.is_(True), AutomationConfig.next_run_at.is_not(None))
                         .order_by(AutomationConfig.next_run_at).limit(limit)).all()
    return [{"site_id": r[0], "site": r[1], "next_run_at": r[2].isoformat()} for r in rows]
