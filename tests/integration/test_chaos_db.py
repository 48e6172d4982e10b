"""Chaos, CI tier, database faults: three sites at once on two real RQ workers while

* a private PostgreSQL cluster (started by the test, never the machine's) is restarted under them,
  ``pg_ctl restart -m fast`` and ``pg_ctl stop -m immediate`` + start (every backend killed mid-item,
  crash recovery on start);
* a second process storms SQLite's write lock: in bursts it holds ``BEGIN IMMEDIATE`` longer than the
  workers' busy timeout, so their writes fail with "database is locked".

Every run completes with every item written and charged exactly once, equal to a crash-free run
of the same keywords; the ledger reconciles; no lock or lease is left (tests/chaos.py)."""

from __future__ import annotations

import os
import random

import pytest

from igny8_app.queue import reset_redis
from igny8_app.settings import reset_settings
from tests.chaos import run_chaos
from tests.chaos_db import Storm, pg_faults, sqlite_lock_storm, worker_log_count
from tests.conftest import free_port
from tests.private_pg import private_database

SITES, KEYWORDS = 3, 12
BURSTS = 3


def _seed() -> int:
    return int(os.environ.get("CHAOS_SEED", "0")) or random.randrange(1, 1 << 30)


@pytest.fixture
def private_pg(tmp_path, monkeypatch):
    with private_database(tmp_path / "data", monkeypatch) as pg:
        yield pg


@pytest.fixture
def chaos_redis_env(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # replaced by run_chaos; restored after
    yield
    reset_settings()
    reset_redis()


def test_postgres_restarts_mid_run_lose_nothing_and_double_nothing(private_pg, chaos_redis_env, tmp_path):
    seed = _seed()
    modes = ["immediate", "fast-restart", "immediate"]
    result = run_chaos(tmp=tmp_path, redis_port=free_port(), n_sites=SITES, kills=0, redis_restarts=0,
                       n_keywords=KEYWORDS, db_faults=pg_faults(private_pg, random.Random(seed), modes), seed=seed)
    print("\n" + result.summary())
    assert [f.split(" ")[0] for f in result.db_faults] == modes, result.summary()
    # the restarts hit the workers: their connections broke under them
    assert worker_log_count(tmp_path / "workers", "OperationalError") >= 1


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # SQLite's write lock; PostgreSQL has none like it
def test_sqlite_lock_storms_lose_nothing_and_double_nothing(db, chaos_redis_env, tmp_path):
    seed = _seed()
    busy_timeout_s = 1  # the workers' (IGNY8_SQLITE_BUSY_TIMEOUT_S); the storm holds the lock longer
    path = db.removeprefix("sqlite:///")
    log = tmp_path / "storm.log"
    result = run_chaos(tmp=tmp_path, redis_port=free_port(), n_sites=SITES, kills=0, redis_restarts=0,
                       n_keywords=KEYWORDS, worker_env={"IGNY8_SQLITE_BUSY_TIMEOUT_S": str(busy_timeout_s)},
                       during=lambda: sqlite_lock_storm(path, log=log, hold_s=(1.3 * busy_timeout_s, 2.5 * busy_timeout_s),
                                                        burst_s=3.0, quiet_s=1.5, bursts=BURSTS, seed=seed),
                       seed=seed)
    holds = Storm(log).holds()
    print(f"\n{result.summary()}; storm: {len(holds)} holds of {min(holds):.1f}-{max(holds):.1f} s")
    assert len(holds) >= BURSTS and min(holds) > busy_timeout_s, holds
    # the storms hit the workers: writes failed with "database is locked"
    assert worker_log_count(tmp_path / "workers", "database is locked") >= 1
