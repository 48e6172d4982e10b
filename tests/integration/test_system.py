"""Operations: RQ workers with their current job and run, queues, failed jobs (retry, delete), the
periodic tasks' heartbeats, stuck site locks, and GET /api/v1/health (200, and 503 naming the
failing part). A real ``igny8 worker`` process, real Redis, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from igny8_app.api import system_routes
from igny8_app.db import read_session, write_session
from igny8_app.domain.errors import Conflict
from igny8_app.models import AutomationRun, RunEvent, SiteLock, User, utcnow
from igny8_app.queue import get_queue, reset_redis
from igny8_app.services.automation import control as automation
from igny8_app.services.automation import run_loop
from igny8_app.services.automation import scheduler
from igny8_app.services.system import operations as system
from igny8_app.settings import reset_settings
from tests.conftest import free_port
from tests.engine_helpers import seed_site, start_workers, wait_until
from tests.factories import make_user

API = Starlette(routes=system_routes.routes)


@pytest.fixture
def admin(db) -> User:
    with write_session() as s:
        user = make_user(s, superuser=True)
        s.expunge(user)
        return user


def test_health_workers_jobs_and_heartbeats_with_a_real_worker(db, redis, tmp_path):
    client = TestClient(API)
    r = client.get("/api/v1/health")
    assert r.status_code == 503 and r.json()["failing"] == ["workers"], r.json()
    assert r.json()["checks"]["database"] == "ok" and r.json()["checks"]["redis"] == "ok"

    ref = seed_site(n_keywords=24, credits=50_000)
    workers = start_workers(1, log_dir=tmp_path / "logs", env={"OFFLINE_AI_DELAY_MS": "400",
                                                                "IGNY8_SCHEDULER_TICK_S": "1"})
    try:
        r = client.get("/api/v1/health")
        assert r.status_code == 200 and r.json() == {
            "status": "ok", "failing": [], "checks": {"database": "ok", "redis": "ok", "workers": "ok"}, "workers": 1}
        # the worker's periodic runner beats for the scheduler and the watchdog
        beats = wait_until(lambda: (b := scheduler.last_beats())["scheduler"] and b["watchdog"] and b,
                           timeout=60, what="periodic heartbeats")
        assert beats["scheduler"]["by"].split(":")[1] == str(workers.pids[0])
        # a run in progress: the worker's current job and the run it serves
        run = automation.start_run(site_id=ref.site_id)
        busy = wait_until(lambda: [w for w in system.workers() if w["run"] and w["state"] == "busy"], timeout=60,
                          what="a busy worker")
        assert busy[0]["name"] == workers.names[0] and busy[0]["run"]["run_id"] == run.run_id, workers.log_tail()
        assert "automation run" in busy[0]["job"]
        automation.cancel_run(run_id=run.run_id)
        # a failing job lands in RQ's failed registry: retry puts it back, delete removes it
        job = get_queue().enqueue("os.path.join", 1, 2, description="a job that fails")
        wait_until(lambda: [f for f in system.failed_jobs() if f["id"] == job.id], timeout=60, what="the failure")
        (failed,) = [f for f in system.failed_jobs() if f["id"] == job.id]
        assert "TypeError" in failed["error"] and failed["description"] == "a job that fails"
        assert system.queues()[0]["failed"] >= 1
        system.retry_failed_job(job.id)
        wait_until(lambda: job.id in [f["id"] for f in system.failed_jobs()] and
                   job.fetch(job.id, connection=get_queue().connection).get_status() == "failed",
                   timeout=60, what="the retry to fail again")
        system.delete_failed_job(job.id)
        assert job.id not in [f["id"] for f in system.failed_jobs()]
    finally:
        workers.stop()


def test_health_names_a_dead_redis(db, redis, monkeypatch):
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    reset_settings()
    reset_redis()
    r = TestClient(API).get("/api/v1/health")
    body = r.json()
    assert r.status_code == 503 and body["status"] == "unhealthy"
    assert body["failing"] == ["redis", "workers"] and body["checks"]["database"] == "ok"
    assert body["checks"]["redis"] == "down"  # anonymous callers: which part, not why
    assert system.health()[1]["checks"]["redis"].startswith("error: ConnectionError")  # admins: why


def test_health_names_a_dead_database(db, redis, monkeypatch):
    from igny8_app import db as dbmod

    monkeypatch.setenv("DATABASE_URL", f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none")
    reset_settings()
    dbmod.dispose_engines()
    r = TestClient(API).get("/api/v1/health")
    assert r.status_code == 503 and "database" in r.json()["failing"]
    assert r.json()["checks"]["database"] == "down"
    assert system.health()[1]["checks"]["database"].startswith("error: OperationalError")


def test_release_stuck_lock_is_refused_under_a_live_lease_and_audited(admin, redis):
    ref = seed_site(n_keywords=24, credits=50_000)
    run = automation.start_run(site_id=ref.site_id, enqueue=False)
    lease = run_loop.acquire(run.id, "host:1:1")
    assert lease is not None
    locks = system.site_locks()
    assert [(lk["run_id"], lk["live"]) for lk in locks] == [(run.run_id, True)]
    with pytest.raises(Conflict, match="live worker lease"):
        system.release_site_lock(site_id=ref.site_id, actor=admin)
    with write_session() as s:  # the worker died: its heartbeat goes stale
        s.execute(sa.update(AutomationRun).where(AutomationRun.id == run.id)
                  .values(heartbeat_at=utcnow() - timedelta(minutes=10)))
    out = system.release_site_lock(site_id=ref.site_id, actor=admin)
    assert out == {"site_id": ref.site_id, "run_id": run.run_id, "previous_status": "running"}
    with read_session() as s:
        assert s.get(SiteLock, ref.site_id) is None
        done = s.get(AutomationRun, run.id)
        assert done.status == "cancelled"
        msgs = [e.message for e in s.exec(select(RunEvent).where(RunEvent.run_pk == run.id)).all()]
    assert any(f"Site lock released by platform admin {admin.email}" in m for m in msgs)
    # the stale lease can no longer write: its fence moved
    with pytest.raises(run_loop.LeaseLost):
        with write_session() as s:
            run_loop._fenced_run(s, lease)
    # the site runs again
    assert automation.start_run(site_id=ref.site_id, enqueue=False).status == "running"
