"""Scheduled runs with an injectable clock: exactly once per due time (two schedulers racing in
threads and in processes, a restart at the due time), skip rows with reasons, a DST transition,
the periodic runner's heartbeats. Real database (SQLite and PostgreSQL) and Redis."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlmodel import select

from igny8_app.db import read_session, write_session
from igny8_app.models import Account, AutomationConfig, AutomationRun, RunEvent
from igny8_app.services.automation import control as automation
from igny8_app.services.automation import config as automation_config
from igny8_app.services.automation import scheduler
from tests.engine_helpers import REPO, seed_site

pytestmark = pytest.mark.usefixtures("redis")
UTC = timezone.utc


def u(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def schedule(site_id: int, *, now: datetime, tz: str = "UTC", **changes) -> dict:
    with write_session() as s:
        site_account = s.execute(sa.text("select account_id from site where id = :i"), {"i": site_id}).scalar_one()
        s.get(Account, site_account).timezone = tz
    return automation_config.update_config(site_id=site_id, now=now, changes={"enabled": True, **changes})


def runs(site_id: int) -> list[AutomationRun]:
    with read_session() as s:
        rows = s.exec(select(AutomationRun).where(AutomationRun.site_id == site_id).order_by(AutomationRun.id)).all()
        for r in rows:
            s.expunge(r)
        return rows


@pytest.fixture
def site(db):
    return seed_site(n_keywords=24, credits=50_000)


def test_fires_once_when_due_and_moves_to_the_next_due_time(site):
    cfg = schedule(site.site_id, now=u(2026, 5, 1, 12), scheduled_time="02:00")
    assert cfg["next_run_at"] == "2026-05-02T02:00:00+00:00"
    assert scheduler.run_due(now=u(2026, 5, 2, 1, 59, 59)).as_dict() == {"started": [], "skipped": [], "existing": 0}
    r = scheduler.run_due(now=u(2026, 5, 2, 2, 0, 5))
    assert len(r.started) == 1
    (run,) = runs(site.site_id)
    assert (run.trigger, run.status, run.scheduled_for) == ("scheduled", "running", u(2026, 5, 2, 2))
    assert run.config_snapshot["stage_1_batch_size"] == 20
    assert automation_config.get_config(site_id=site.site_id)["next_run_at"] == "2026-05-03T02:00:00+00:00"
    # the same tick again (a restart at the due time, or a replay): nothing new
    assert scheduler.run_due(now=u(2026, 5, 2, 2, 0, 5)).as_dict() == {"started": [], "skipped": [], "existing": 0}
    assert scheduler.fire(site_id=site.site_id, due=u(2026, 5, 2, 2))[0] == "exists"
    assert len(runs(site.site_id)) == 1


def test_restart_at_the_due_time_with_stale_next_run_creates_no_second_run(site):
    schedule(site.site_id, now=u(2026, 5, 1, 12), scheduled_time="02:00")
    scheduler.run_due(now=u(2026, 5, 2, 2, 0, 1))
    # a scheduler that read the config before the advance (or crashed before advancing) retries
    with write_session() as s:
        s.execute(sa.update(AutomationConfig).where(AutomationConfig.site_id == site.site_id)
                  .values(next_run_at=u(2026, 5, 2, 2)))
    r = scheduler.run_due(now=u(2026, 5, 2, 2, 0, 30))
    assert r.started == [] and r.skipped == [] and r.existing == 1
    assert len(runs(site.site_id)) == 1


def test_after_downtime_missed_due_times_collapse_into_one_run(site):
    schedule(site.site_id, now=u(2026, 5, 1, 12), scheduled_time="02:00")
    r = scheduler.run_due(now=u(2026, 5, 5, 9))  # down for 4 due times
    assert len(r.started) == 1
    assert runs(site.site_id)[0].scheduled_for == u(2026, 5, 5, 2)  # the latest missed one
    assert automation_config.get_config(site_id=site.site_id)["next_run_at"] == "2026-05-06T02:00:00+00:00"


@pytest.mark.parametrize("rounds", [6])
def test_two_schedulers_racing_in_threads_fire_once_per_due_time(db, rounds):
    sites = [seed_site(n_keywords=0, credits=1000) for _ in range(3)]
    for ref in sites:
        schedule(ref.site_id, now=u(2026, 6, 1), scheduled_time="03:00")
    for day in range(rounds):
        now = u(2026, 6, 2 + day, 3, 0, 1)
        barrier = threading.Barrier(2)
        results: list[scheduler.TickResult] = []
        errors: list[BaseException] = []

        def tick(now=now, barrier=barrier):  # noqa: ANN001
            try:
                barrier.wait()
                results.append(scheduler.run_due(now=now))
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=tick) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
        fired = sum(len(r.started) + len(r.skipped) for r in results)
        assert fired == len(sites), (day, [r.as_dict() for r in results])
        # the runs (no keywords: they complete at once) must finish before the next day
        for ref in sites:
            for run in runs(ref.site_id):
                if run.status == "running":
                    automation.cancel_run(run_id=run.run_id)
    for ref in sites:
        due = [r.scheduled_for for r in runs(ref.site_id)]
        assert due == [u(2026, 6, 2 + d, 3) for d in range(rounds)]


def test_two_scheduler_processes_fire_once(db):
    """Two real processes (``igny8 scheduler tick --now``) on the same due time for 12 sites."""
    sites = [seed_site(n_keywords=0, credits=1000) for _ in range(12)]
    for ref in sites:
        schedule(ref.site_id, now=u(2026, 7, 1), tz="Europe/Berlin", scheduled_time="04:00")
    cmd = [sys.executable, "-m", "igny8_app.cli", "scheduler", "tick", "--now", "2026-07-02T02:00:10+00:00", "--json"]
    procs = [subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        outs.append(json.loads(out))
    assert sum(len(o["started"]) + len(o["skipped"]) for o in outs) == 12, outs
    for ref in sites:
        (run,) = runs(ref.site_id)
        assert run.scheduled_for == u(2026, 7, 2, 2)  # 04:00 CEST


def test_skip_rules_record_a_row_with_the_reason(site):
    poor = seed_site(n_keywords=24, credits=1)
    schedule(site.site_id, now=u(2026, 5, 1), scheduled_time="02:00")
    schedule(poor.site_id, now=u(2026, 5, 1), scheduled_time="02:00")
    manual = automation.start_run(site_id=site.site_id, enqueue=False)  # the site is busy
    automation.pause_run(run_id=manual.run_id)
    r = scheduler.run_due(now=u(2026, 5, 2, 2, 1))
    assert len(r.skipped) == 2 and r.started == []
    busy = runs(site.site_id)[-1]
    assert busy.status == "skipped" and busy.scheduled_for == u(2026, 5, 2, 2)
    assert busy.skip_reason == f"The site has a paused run ({manual.run_id}); a site runs one run at a time."
    (broke,) = runs(poor.site_id)
    assert broke.status == "skipped" and "Not enough credits" in broke.skip_reason
    with read_session() as s:
        hist = automation.history(session=s, site_id=poor.site_id)
        assert hist[0]["status"] == "skipped" and hist[0]["skip_reason"] == broke.skip_reason
        assert s.exec(select(RunEvent).where(RunEvent.run_pk == broke.id)).one().message.startswith(
            "Scheduled run skipped: Not enough credits")
    # the paused run is still the site's current run: skipping never touched it
    with read_session() as s:
        assert automation.current_run(session=s, site_id=site.site_id).run_id == manual.run_id
    # the next due time is skipped again (not silently dropped), then runs once the site is free
    automation.cancel_run(run_id=manual.run_id)
    r = scheduler.run_due(now=u(2026, 5, 3, 2, 1))
    assert len(r.started) == 1


def test_dst_spring_forward_in_the_accounts_timezone(site):
    # Europe/Berlin, daily at 02:30: on 2026-03-29 that wall time does not exist -> 03:30 CEST
    cfg = schedule(site.site_id, now=u(2026, 3, 28, 12), tz="Europe/Berlin", scheduled_time="02:30")
    assert cfg["next_run_local"] == "2026-03-29 03:30 CEST"
    assert scheduler.run_due(now=u(2026, 3, 29, 1, 29)).started == []
    r = scheduler.run_due(now=u(2026, 3, 29, 1, 30, 2))
    assert len(r.started) == 1
    automation.cancel_run(run_id=runs(site.site_id)[0].run_id)
    assert automation_config.get_config(site_id=site.site_id)["next_run_local"] == "2026-03-30 02:30 CEST"


def test_dst_fall_back_runs_once_on_the_repeated_hour(site):
    schedule(site.site_id, now=u(2026, 10, 24, 12), tz="Europe/Berlin", scheduled_time="02:30")
    ticks = [u(2026, 10, 25, 0, 30, 5), u(2026, 10, 25, 1, 30, 5), u(2026, 10, 25, 2, 0)]  # both 02:30s, after
    fired = sum(len(scheduler.run_due(now=t).started) for t in ticks)
    assert fired == 1
    assert runs(site.site_id)[0].scheduled_for == u(2026, 10, 25, 0, 30)


def test_periodic_runner_runs_tasks_and_writes_heartbeats(site, redis):
    schedule(site.site_id, now=u(2026, 5, 1), scheduled_time="02:00")
    clock = [u(2026, 5, 2, 2, 0, 3)]
    calls = []
    runner = scheduler.PeriodicRunner(clock=lambda: clock[0], tasks=[
        scheduler.Task("scheduler", 10, scheduler._scheduler_task),
        scheduler.Task("watchdog", 5, lambda now: calls.append(now) or {"recovered": 0}),
    ])
    assert runner.run_pending(100.0) == ["scheduler", "watchdog"]
    assert runner.run_pending(104.0) == []  # not yet due again
    assert runner.run_pending(105.0) == ["watchdog"]
    beats = scheduler.last_beats()
    assert beats["scheduler"]["started"] == 1  # the heartbeat itself is wall-clock time (for monitoring)
    assert datetime.fromisoformat(beats["scheduler"]["at"]).tzinfo is not None
    assert beats["watchdog"]["by"] == scheduler.owner_name() and beats["retention"] is None
    assert len(runs(site.site_id)) == 1 and calls == [clock[0], clock[0]]


def test_disabled_or_deactivated_sites_do_not_fire(site):
    schedule(site.site_id, now=u(2026, 5, 1), scheduled_time="02:00")
    automation_config.update_config(site_id=site.site_id, changes={"enabled": False})
    assert scheduler.run_due(now=u(2026, 5, 9)).as_dict() == {"started": [], "skipped": [], "existing": 0}
    assert runs(site.site_id) == []


def test_a_real_worker_fires_and_works_the_scheduled_run(site, tmp_path):
    """End to end on the real clock: the scheduler inside ``igny8 worker`` starts the due run and
    the same worker works it to completion."""
    from igny8_app.models import utcnow
    from tests.engine_helpers import start_workers, wait_until

    now = utcnow()
    due_at = (now - timedelta(minutes=2)).strftime("%H:%M")  # yesterday's config: the next due has passed
    schedule(site.site_id, now=now - timedelta(days=1), scheduled_time=due_at)
    workers = start_workers(1, log_dir=tmp_path / "logs", env={"IGNY8_SCHEDULER_TICK_S": "1"})
    try:
        run = wait_until(lambda: next(iter(runs(site.site_id)), None), timeout=60, what="the scheduled run")
        assert run.trigger == "scheduled" and run.scheduled_for <= now
        done = wait_until(lambda: (r := runs(site.site_id)[0]).status == "completed" and r, timeout=180,
                          what="the run to complete")
        assert done.total_credits_used > 0 and len(runs(site.site_id)) == 1
    finally:
        workers.stop()


def test_a_second_run_for_a_due_time_already_taken_is_a_conflict_not_a_database_error(site):
    """The scheduler race's loser: another process committed this due time's row (here a skip, so
    no site lock stops us earlier) between our lock check and our insert. start_run must refuse
    with Conflict (handled by fire), not leak the unique violation of (site_id, scheduled_for)."""
    due = u(2026, 12, 1, 9)
    assert scheduler.record_skip(site_id=site.site_id, due=due, reason="taken by the other scheduler") is not None
    with pytest.raises(automation.Conflict):
        automation.start_run(site_id=site.site_id, trigger="scheduled", scheduled_for=due, enqueue=False)
    assert [r.status for r in runs(site.site_id)] == ["skipped"]
