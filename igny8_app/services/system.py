"""Operations (superusers): RQ workers and their current job and run, queue lengths, failed jobs
(retry, delete), periodic-task heartbeats, stuck site locks, and the health check.

Everything about jobs and workers is read from RQ's own registries and APIs (``Worker.all``,
``Queue.count``, ``FailedJobRegistry``, ``StartedJobRegistry``…); nothing is kept on the side.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from rq import Queue, Worker
from rq.job import Job
from rq.registry import (DeferredJobRegistry, FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry)

from igny8_app.db import read_session, write_session
from igny8_app.domain.enums import EventLevel, RunStatus
from igny8_app.domain.errors import Conflict, NotFound
from igny8_app.models import AutomationRun, Site, SiteLock, User, utcnow
from igny8_app.services import automation, run_events, scheduler

log = logging.getLogger(__name__)
FAILED_LIMIT = 50
HEALTH_TIMEOUT_S = 2
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


def release_site_lock(*, site_id: int, actor: User, now: datetime | None = None) -> dict[str, Any]:
    """Free a site whose lock is stuck. Refused while a worker holds a live lease on its run. The
    run is ended (cancelled), and the release is recorded on the run's log with who did it."""
    now = now or utcnow()
    with write_session() as s:
        lock = s.get(SiteLock, site_id)
        if lock is None:
            raise NotFound("That site has no lock.")
        run = s.execute(sa.select(AutomationRun).where(AutomationRun.id == lock.run_pk).with_for_update()).scalars().one()
        if automation.worker_active(run, now):
            raise Conflict(f"Run {run.run_id} has a live worker lease ({run.lease_owner}, heartbeat "
                           f"{run.heartbeat_at:%H:%M:%S} UTC): the lock is not stuck. Pause or cancel the run instead.")
        previous = run.status
        if run.status in (RunStatus.RUNNING.value, RunStatus.PAUSED.value):
            automation.mark_cancelled(s, run, now, f"Cancelled: the site lock was released by platform admin "
                                                   f"{actor.email} (the run had no live worker).")
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


def health() -> tuple[bool, dict[str, Any]]:
    """Database, Redis and workers: (healthy, report). Each check says 'ok' or what failed."""
    checks: dict[str, str] = {}
    worker_count = 0
    try:
        with read_session() as s:
            s.execute(sa.text("SELECT 1")).scalar_one()
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        checks["database"] = f"error: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    try:
        from redis import Redis

        from igny8_app.settings import get_settings

        # its own client with short timeouts: a load balancer's probe must not hang on a dead host
        with Redis.from_url(get_settings().redis_url, socket_connect_timeout=HEALTH_TIMEOUT_S,
                            socket_timeout=HEALTH_TIMEOUT_S) as client:
            try:
                client.ping()
            except Exception as exc:  # noqa: BLE001
                checks["redis"] = f"error: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
                checks["workers"] = "error: unknown (Redis is unreachable)"
            else:
                checks["redis"] = "ok"
                alive = [w for w in workers(client, with_runs=False) if w["alive"]]
                worker_count = len(alive)
                checks["workers"] = "ok" if alive else "error: no live RQ worker"
    except Exception as exc:  # noqa: BLE001 - e.g. a malformed REDIS_URL
        checks.setdefault("redis", f"error: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
        checks.setdefault("workers", "error: unknown")
    failing = [k for k, v in checks.items() if v != "ok"]
    return not failing, {"status": "ok" if not failing else "unhealthy", "failing": failing, "checks": checks,
                         "workers": worker_count}
