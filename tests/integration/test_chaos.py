"""Chaos, CI tier: three sites at once on two real RQ workers; 30 work horses SIGKILLed at random
moments spread over the runs and one restart of Redis (no persistence: the queue, worker
registrations and heartbeats are gone) in the middle. Every run completes with every item
written and charged exactly once, equal to a crash-free run, and no lock is left.
The long tier (4 sites, 100+ kills, 2 restarts) is ``python bench/chaos.py``. SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from igny8_app.queue import reset_redis
from igny8_app.settings import reset_settings
from tests.chaos import run_chaos
from tests.conftest import free_port

KILLS = 30


def test_kills_and_a_redis_restart_lose_nothing_and_double_nothing(db, tmp_path, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # replaced by run_chaos; restored after
    try:
        result = run_chaos(tmp=tmp_path, redis_port=free_port(), n_sites=3, kills=KILLS, redis_restarts=1)
    finally:
        reset_settings()
        reset_redis()
    print("\n" + result.summary())
    assert result.redis_restarts == 1
    assert len(result.kills) >= KILLS * 0.8, result.summary()
    assert len({k["run"] for k in result.kills}) == 3, "every site's run was hit"
