"""Chaos harness shared by the CI tier (tests/integration/test_chaos.py) and the long tier
(bench/chaos.py): several sites run at once on real RQ workers while work horses are SIGKILLed at
random moments and the Redis server is restarted (without persistence: queued jobs, worker
registrations and heartbeats are lost). Afterwards every invariant must hold:

* every run completed (the watchdog re-queued what the kills and the restart orphaned);
* every item exactly once: outputs and charges equal a crash-free reference run of the same
  keywords, nothing duplicated, the ledger reconciles, the balance is the sum of transactions;
* no site lock left behind, no lease held.

The caller provides the database (the ``db`` fixture, a private PostgreSQL cluster or a bench
database); this module owns its own redis-server so it can restart it. Database faults
(tests/chaos_db.py) come in as ``db_faults`` (callables fired while work horses are mid-item, like
the Redis restarts) and ``during`` (a context entered once the runs are under way, e.g. a second
SQLite writer's lock storm); the watcher here rides out the outages they cause.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from igny8_app.db import read_session
from igny8_app.models import AutomationRun, SiteLock
from igny8_app.queue import reset_redis
from igny8_app.services.automation import control as automation
from igny8_app.services.automation.run_loop import execute_run
from igny8_app.settings import reset_settings
from tests.engine_helpers import (all_pending_done, check_exactly_once, check_images_on_disk, committed_items,
                                  get_run, percentile, seed_site, start_workers)


class RedisProc:
    """A redis-server without persistence on a fixed port that can be stopped and started again."""

    def __init__(self, port: int, workdir: Path) -> None:
        self.port, self.workdir, self.proc = port, workdir, None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis as redis_lib

        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--save", "", "--appendonly", "no", "--dir", str(self.workdir)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis_lib.Redis(port=self.port)
        for _ in range(200):
            try:
                client.ping()
                return
            except redis_lib.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@dataclass
class ChaosResult:
    seed: int
    sites: int
    kills: list[dict] = field(default_factory=list)
    redis_restarts: int = 0
    db_faults: list[str] = field(default_factory=list)
    db_outage_s: float = 0.0  # time this watcher could not read the database
    recoveries: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    outputs: dict[int, int] = field(default_factory=dict)

    def summary(self) -> str:
        stages = dict(sorted(Counter(k["stage"] for k in self.kills).items()))
        rec = (f"recovery p50 {percentile(self.recoveries, 50):.1f} s, max {max(self.recoveries):.1f} s"
               if self.recoveries else "no recoveries timed")
        return (f"chaos (seed {self.seed}): {self.sites} sites, {len(self.kills)} SIGKILLs (stages {stages}), "
                f"{self.redis_restarts} Redis restarts, {len(self.db_faults)} database faults {self.db_faults}, "
                f"{self.elapsed:.0f} s; {rec}; outputs per site {self.outputs}")


def _holders(run_pks: list[int]) -> dict[int, tuple[str, int, int, int]]:
    """run_pk -> (owner, fence, pid, stage) for runs whose lease is held."""
    t = AutomationRun.__table__
    with read_session() as s:
        rows = s.execute(sa.select(t.c.id, t.c.lease_owner, t.c.lease_fence, t.c.current_stage)
                         .where(t.c.id.in_(run_pks), t.c.lease_owner.is_not(None))).all()
    return {r.id: (r.lease_owner, r.lease_fence, int(r.lease_owner.split(":")[1]), r.current_stage) for r in rows}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (ProcessLookupError, FileNotFoundError):
        return False


def reference_outputs(n_keywords: int) -> tuple[dict[int, int], int, int]:
    """A crash-free run of the same keywords, in-process: (outputs per stage, credits, items)."""
    ref = seed_site(n_keywords=n_keywords, in_article_images=1)
    run = automation.start_run(site_id=ref.site_id, enqueue=False)
    assert execute_run(run.id) == "completed"
    return (check_exactly_once(ref.site_id, ref.account_id)["outputs"], get_run(run.id).total_credits_used,
            committed_items(run.id))


#: the watcher gives up when it cannot read the database for this long in a row
DB_OUTAGE_LIMIT_S = 120


def run_chaos(*, tmp: Path, redis_port: int, n_sites: int, kills: int, redis_restarts: int, workers: int = 2,
              n_keywords: int = 24, delay_ms: int = 120, heartbeat_timeout_s: int = 2, deadline_s: float = 900,
              db_faults: list[Callable[[], str]] = (), during: Callable[[], AbstractContextManager] | None = None,
              worker_env: dict[str, str] | None = None, seed: int | None = None, log=print) -> ChaosResult:  # noqa: ANN001
    """``db_faults``: each is called once (in order, spread over the middle of the runs, while work
    horses hold leases) and returns a label for the summary. ``during``: entered after the runs
    start, left before the invariants are checked. ``worker_env`` is added to the workers' env."""
    seed = seed or int(os.environ.get("CHAOS_SEED", "0")) or random.randrange(1, 1 << 30)
    rng = random.Random(seed)
    result = ChaosResult(seed=seed, sites=n_sites)
    log(f"chaos seed {seed} (CHAOS_SEED={seed} replays the schedule)")
    ref_outputs, ref_credits, ref_items = reference_outputs(n_keywords)

    redis_proc = RedisProc(redis_port, tmp)
    redis_proc.start()
    os.environ["REDIS_URL"] = redis_proc.url
    reset_settings()
    reset_redis()
    sites = [seed_site(n_keywords=n_keywords, in_article_images=1) for _ in range(n_sites)]
    pool = start_workers(workers, log_dir=tmp / "workers", env={
        "OFFLINE_AI_DELAY_MS": str(delay_ms), "RUN_HEARTBEAT_TIMEOUT_S": str(heartbeat_timeout_s),
        **(worker_env or {})})
    background = nullcontext()
    try:
        runs = [automation.start_run(site_id=s.site_id) for s in sites]
        pks = [r.id for r in runs]
        total_items = ref_items * n_sites
        started = time.monotonic()
        background = during() if during else nullcontext()
        background.__enter__()
        # kills and restarts spread over the whole run: each fires once that many items are committed
        kill_at = sorted(int(rng.uniform(0.0, 0.95) * total_items) for _ in range(kills))
        restart_at = sorted(int(rng.uniform(0.15, 0.7) * total_items) for _ in range(redis_restarts))
        fault_at = [int((0.15 + 0.7 * (i + rng.uniform(0.2, 0.8)) / len(db_faults)) * total_items)
                    for i in range(len(db_faults))]
        faults = list(db_faults)
        pending_kill: dict[tuple[int, int], float] = {}  # (run, fence) killed -> when, until a new holder shows up
        unreadable_since: float | None = None
        while True:
            elapsed = time.monotonic() - started
            assert elapsed < deadline_s, f"not finished after {deadline_s}s: {result.summary()}"
            pool.assert_alive()
            try:
                statuses = {pk: get_run(pk).status for pk in pks}
                done = sum(committed_items(pk) for pk in pks)
                holders = _holders([pk for pk, s in statuses.items() if s == "running"])
            except sa.exc.DBAPIError:  # a database fault of this test: wait for the database
                now = time.monotonic()
                unreadable_since = unreadable_since or now
                assert now - unreadable_since < DB_OUTAGE_LIMIT_S, f"database unreadable for {DB_OUTAGE_LIMIT_S}s"
                time.sleep(0.1)
                continue
            if unreadable_since is not None:
                result.db_outage_s += time.monotonic() - unreadable_since
                unreadable_since = None
            bad = {pk: s for pk, s in statuses.items() if s not in ("running", "completed")}
            assert not bad, f"runs left running/completed: {bad}"
            if all(s == "completed" for s in statuses.values()):
                break
            for key, when in list(pending_kill.items()):
                holder = holders.get(key[0])
                if holder is not None and holder[1] > key[1]:  # a new lease on that run
                    result.recoveries.append(time.monotonic() - when)
                    pending_kill.pop(key)
            live = [(pk, h) for pk, h in holders.items() if pool.is_horse(h[2]) and _alive(h[2])]
            if restart_at and done >= restart_at[0] and live:  # while work horses are busy
                restart_at.pop(0)
                redis_proc.stop()
                time.sleep(rng.uniform(0.5, 2.0))
                redis_proc.start()
                result.redis_restarts += 1
                log(f"redis restarted at {elapsed:.1f} s ({done} items committed)")
            if faults and done >= fault_at[0] and live:  # while work horses are mid-item
                fault_at.pop(0)
                label = faults.pop(0)()
                result.db_faults.append(label)
                log(f"database fault {label!r} at {elapsed:.1f} s ({done} items committed, {len(live)} horses busy)")
                continue
            if live and len(result.kills) < kills and done >= kill_at[len(result.kills)]:
                time.sleep(rng.uniform(0.0, 0.4))
                pk, h = rng.choice(live)
                again = _holders([pk]).get(pk)
                if again and again[:2] == h[:2] and pool.is_horse(h[2]):
                    os.kill(h[2], signal.SIGKILL)
                    result.kills.append({"pid": h[2], "stage": again[3], "run": pk, "t": round(elapsed, 1)})
                    pending_kill[(pk, h[1])] = time.monotonic()
                continue
            time.sleep(0.05)
        result.elapsed = time.monotonic() - started
    except BaseException:
        log(pool.log_tail())
        raise
    finally:
        try:
            background.__exit__(None, None, None)
        finally:
            pool.stop()
            redis_proc.stop()

    for s, pk in zip(sites, pks):
        final = get_run(pk)
        assert final.status == "completed", (final.run_id, final.status, final.error)
        assert final.lease_owner is None
        all_pending_done(s.site_id)
        outputs = check_exactly_once(s.site_id, s.account_id)["outputs"]
        assert outputs == ref_outputs, (final.run_id, outputs, ref_outputs)
        assert final.total_credits_used == ref_credits, (final.run_id, final.total_credits_used, ref_credits)
        assert check_images_on_disk(s.site_id) == outputs[6]
        result.outputs = outputs
    with read_session() as s:
        assert s.execute(sa.select(sa.func.count()).select_from(SiteLock)).scalar_one() == 0, "a site lock is stuck"
    return result
