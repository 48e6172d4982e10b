"""Operations (superusers): RQ workers and their current job and run, queue lengths, failed jobs
(retry, delete), periodic-task heartbeats, stuck site locks, and the health check.

Everything about jobs and workers is read from RQ's own registries and APIs (``Worker.all``,
``Queue.count``, ``FailedJobRegistry``, ``StartedJobRegistry``…); nothing is kept on the side.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from rq import Queue, Worker
from rq.job import Job
from rq.registry import (DeferredJobRegistry, FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry)
from sqlmodel import Session

from igny8_app.db import read_session, within
from igny8_app.domain.enums import EventLevel, RunStatus
from igny8_app.domain.errors import Conflict, NotFound
from igny8_app.models import AutomationRun, Site, SiteLock, User, utcnow
from igny8_app.services.automation import control as automation
from igny8_app.services.automation import events as run_events
from igny8_app.services.automation import scheduler
from igny8_app.services.automation.transitions import transition

log = logging.getLogger(__name__)
FAILED_LIMIT = 50
HEALTH_TIMEOUT_S = 2  # the drivers' connect/statement/socket timeouts of the health check
HEALTH_DEADLINE_S = 2.5  # the whole check: past it a part is reported down even if its driver still waits
WORKER_STALE_S = 480  # RQ's default worker TTL (420 s) plus a margin: an idle worker beats that rarely


def _queue() -> Queue:
    from igny8_app.queue import get_queue

    return get_queue()


def _run_for_job(job: Job | None) -> dict[str, Any] | None:
    """The automation run a job serves (jobs.run_automation takes the run's primary key)."""
    if job is None or not job.func_name.endswith("run_automation") or not job.args:
        return None
    with read_session() as s:
        run = s.get(AutomationRun, int(job.args[0]))
        if run is None:
            return None
        site = s.get(Site, run.site_id)
        return {"run_id": run.run_id, "status": run.status, "site": site.name if site else str(run.site_id),
                "stage": run.current_stage}


def workers(connection: Any = None, *, with_runs: bool = True) -> list[dict[str, Any]]:
    out = []
    now = utcnow()
    for w in sorted(Worker.all(connection=connection or _queue().connection), key=lambda w: w.name):
        job = w.get_current_job()
        beat = w.last_heartbeat.replace(tzinfo=now.tzinfo) if w.last_heartbeat and w.last_heartbeat.tzinfo is None \
            else w.last_heartbeat
        out.append({
            "name": w.name, "hostname": w.hostname or "", "pid": w.pid or 0, "state": w.get_state(),
            "queues": ", ".join(w.queue_names()),
            "job_id": job.id if job else "", "job": job.description if job else "",
            "run": _run_for_job(job) if with_runs else None,
            "last_heartbeat": beat.isoformat() if beat else "",
            "alive": bool(beat and now - beat < timedelta(seconds=WORKER_STALE_S)),
            "successful_jobs": w.successful_job_count, "failed_jobs": w.failed_job_count,
        })
    return out


def queues() -> list[dict[str, Any]]:
    q = _queue()
    return [{"name": q.name, "queued": q.count,
             "started": StartedJobRegistry(queue=q).count, "failed": FailedJobRegistry(queue=q).count,
             "scheduled": ScheduledJobRegistry(queue=q).count, "deferred": DeferredJobRegistry(queue=q).count}]


def failed_jobs(limit: int = FAILED_LIMIT) -> list[dict[str, Any]]:
    q = _queue()
    reg = FailedJobRegistry(queue=q)
    ids = reg.get_job_ids(0, limit - 1, desc=True)
    out = []
    for job_id, job in zip(ids, Job.fetch_many(ids, connection=q.connection), strict=True):
        if job is None:
            continue
        exc = (job.exc_info or "").strip().splitlines()
        out.append({"id": job_id, "description": job.description or job.func_name,
                    "error": exc[-1][:300] if exc else "", "ended_at": job.ended_at.isoformat() if job.ended_at else "",
                    "run": _run_for_job(job)})
    return out


def retry_failed_job(job_id: str) -> None:
    reg = FailedJobRegistry(queue=_queue())
    if job_id not in reg.get_job_ids():
        raise NotFound(f"No failed job {job_id}.")
    reg.requeue(job_id)


def delete_failed_job(job_id: str) -> None:
    reg = FailedJobRegistry(queue=_queue())
    if job_id not in reg.get_job_ids():
        raise NotFound(f"No failed job {job_id}.")
    reg.remove(job_id, delete_job=True)


# --- site locks -----------------------------------------------------------------------------------

def site_locks() -> list[dict[str, Any]]:
    now = utcnow()
    with read_session() as s:
        rows = s.execute(sa.select(SiteLock, AutomationRun, Site)
                         .join(AutomationRun, AutomationRun.id == SiteLock.run_pk)
                         .join(Site, Site.id == SiteLock.site_id).order_by(SiteLock.acquired_at)).all()
        return [{"site_id": site.id, "site": site.name, "run_id": run.run_id, "status": run.status,
                 "acquired_at": lock.acquired_at.isoformat(),
                 "heartbeat_at": run.heartbeat_at.isoformat() if run.heartbeat_at else "",
                 "lease_owner": run.lease_owner or "", "live": automation.worker_active(run, now)}
                for lock, run, site in rows]


def release_site_lock(*, site_id: int, actor: User, now: datetime | None = None,
                      session: Session | None = None) -> dict[str, Any]:
    """Free a site whose lock is stuck. Refused while a worker holds a live lease on its run. The
    run is ended (cancelled), and the release is recorded on the run's log with who did it."""
    now = now or utcnow()
    with within(session) as s:
        lock = s.get(SiteLock, site_id)
        if lock is None:
            raise NotFound("That site has no lock.")
        run = s.execute(sa.select(AutomationRun).where(AutomationRun.id == lock.run_pk).with_for_update()).scalars().one()
        if automation.worker_active(run, now):
            raise Conflict(f"Run {run.run_id} has a live worker lease ({run.lease_owner}, heartbeat "
                           f"{run.heartbeat_at:%H:%M:%S} UTC): the lock is not stuck. Pause or cancel the run instead.")
        previous = run.status
        if run.status in (RunStatus.RUNNING.value, RunStatus.PAUSED.value):
            transition(s, run, RunStatus.CANCELLED, f"Cancelled: the site lock was released by platform admin "
                                                     f"{actor.email} (the run had no live worker).",
                       actor=actor.email, now=now)
            run.lease_fence += 1
            run.lease_owner = None
        s.execute(sa.delete(SiteLock).where(SiteLock.site_id == site_id))
        run_events.record(s, run, f"Site lock released by platform admin {actor.email} (run was {previous}).",
                          level=EventLevel.WARNING, kind="lock_released", actor=actor.email)
        s.add(run)
        run_id = run.run_id
    log.warning("site %s lock released by %s (run %s was %s)", site_id, actor.email, run_id, previous)
    return {"site_id": site_id, "run_id": run_id, "previous_status": previous}


# --- overview and health --------------------------------------------------------------------------

def overview() -> dict[str, Any]:
    return {"workers": workers(), "queues": queues(), "failed": failed_jobs(), "heartbeats": scheduler.last_beats(),
            "locks": site_locks(), "next_runs": scheduler.next_runs(limit=10)}


def _error(exc: BaseException) -> str:
    return f"error: {type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:200]}"


def _health_engine(url: str) -> sa.Engine:
    """The health check's own engine: no pool (each probe opens one connection and closes it, so a
    hung one is never handed to the app) and the driver's own 2 s timeouts."""
    engine = _HEALTH_ENGINES.get(url)
    if engine is None:
        if url.startswith("sqlite"):  # sqlite3's timeout is its busy timeout: how long a lock is waited for
            args: dict[str, Any] = {"timeout": HEALTH_TIMEOUT_S, "check_same_thread": False}
        else:  # libpq's connect_timeout covers the whole connection setup (TCP, TLS, startup, auth)
            args = {"connect_timeout": HEALTH_TIMEOUT_S}
        engine = _HEALTH_ENGINES[url] = sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args=args)
    return engine


_HEALTH_ENGINES: dict[str, sa.Engine] = {}


def _check_database() -> str:
    from igny8_app.settings import get_settings

    with _health_engine(get_settings().database_url).connect() as conn:
        if conn.dialect.name == "sqlite":  # reads the schema page: needs the file's read lock, unlike SELECT 1
            conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar_one()
        else:
            conn.exec_driver_sql(f"SET statement_timeout = {HEALTH_TIMEOUT_S * 1000}")
            conn.exec_driver_sql("SELECT 1").scalar_one()
    return "ok"


def _check_redis() -> tuple[str, str, int]:
    """(redis, workers, live worker count)."""
    from redis import Redis

    from igny8_app.settings import get_settings

    # its own client with short timeouts: a load balancer's probe must not hang on a dead host
    with Redis.from_url(get_settings().redis_url, socket_connect_timeout=HEALTH_TIMEOUT_S,
                        socket_timeout=HEALTH_TIMEOUT_S) as client:
        try:
            client.ping()
        except Exception as exc:  # noqa: BLE001
            return _error(exc), "error: unknown (Redis is unreachable)", 0
        alive = [w for w in workers(client, with_runs=False) if w["alive"]]
        return "ok", "ok" if alive else "error: no live RQ worker", len(alive)


class _Probe:
    """Runs one check in a daemon thread so the caller can stop waiting at the deadline. While a
    previous probe of the same check still hangs, no new one starts: at most one stuck thread per check."""

    _running: dict[str, threading.Thread] = {}
    _lock = threading.Lock()

    def __init__(self, name: str, fn: Any):
        self.name, self.result, self.error = name, None, None
        self._done = threading.Event()
        with self._lock:
            previous = self._running.get(name)
            self.busy = previous is not None and previous.is_alive()
            if not self.busy:
                thread = self._running[name] = threading.Thread(target=self._run, args=(fn,), daemon=True,
                                                                name=f"igny8-health-{name}")
                thread.start()

    def _run(self, fn: Any) -> None:
        try:
            self.result = fn()
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            self.error = _error(exc)
        finally:
            self._done.set()

    def wait(self, deadline: float) -> Any:
        """fn's result, or the error text when it raised, hung past the deadline or is still hung."""
        if self.busy:
            return f"error: the previous {self.name} check has not answered yet"
        if not self._done.wait(max(0.0, deadline - time.monotonic())):
            return f"error: no answer within {HEALTH_DEADLINE_S:g} s"
        return self.error if self.error is not None else self.result


def health() -> tuple[bool, dict[str, Any]]:
    """Database, Redis and workers: (healthy, report). Each check says 'ok' or what failed, in detail
    (for admins: the System page). The database and Redis are checked at the same time, each with
    2 s driver timeouts and an overall deadline, so a hung server costs at most ~2.5 s."""
    deadline = time.monotonic() + HEALTH_DEADLINE_S
    db_probe, redis_probe = _Probe("database", _check_database), _Probe("redis", _check_redis)
    checks: dict[str, str] = {"database": db_probe.wait(deadline)}
    redis_result = redis_probe.wait(deadline)
    if isinstance(redis_result, tuple):
        checks["redis"], checks["workers"], worker_count = redis_result
    else:  # a malformed REDIS_URL, a hang past the deadline
        checks["redis"], checks["workers"], worker_count = redis_result, "error: unknown", 0
    failing = [k for k, v in checks.items() if v != "ok"]
    return not failing, {"status": "ok" if not failing else "unhealthy", "failing": failing, "checks": checks,
                         "workers": worker_count}


def public_health(report: dict[str, Any]) -> dict[str, Any]:
    """What anonymous callers (load balancers) see: which part failed, never why. Error texts name
    hosts, ports and users; admins read them on the System page."""
    return {**report, "checks": {k: "ok" if v == "ok" else "down" for k, v in report["checks"].items()}}
