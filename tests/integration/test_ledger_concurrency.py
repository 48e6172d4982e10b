"""Many writers charging ONE account at once: exactly-once per key, never below zero, no lock errors.

Threads share the engine (settings come from the environment the ``db`` fixture set); processes
each build their own. Every attempt is its own unit of work: ``write_session()`` + ``charge``.
"""

from __future__ import annotations

import multiprocessing as mp
import random
import threading
import traceback
from collections import Counter

import sqlalchemy as sa

from igny8_app import db as dbmod
from igny8_app.domain.costs import Usage
from igny8_app.domain.errors import InsufficientCredits
from igny8_app.models import CreditTransaction, CreditUsageLog
from igny8_app.services.billing import ledger as billing

COST = 2  # the seeded "ideas" cost: 2 credits per item
THREADS = 50
DISTINCT_KEYS = 30
INITIAL = 41  # enough for 20 charges of 2, not for 30


def attempt(account_id: int, key: str) -> tuple[str, str, int | None, str | None]:
    """One charge in its own transaction -> (key, outcome, transaction id, error text)."""
    try:
        with dbmod.write_session() as s:
            tx = billing.charge(session=s, account_id=account_id, operation_type="ideas", usage=Usage(items=1),
                                idempotency_key=key, run_id="concurrency")
            tx_id = tx.id
        return key, "charged", tx_id, None
    except InsufficientCredits:
        return key, "insufficient", None, None
    except Exception:  # noqa: BLE001  anything else is a failure the test reports
        return key, "error", None, traceback.format_exc()


def _keys(n: int, distinct: int, seed: int) -> list[str]:
    keys = [f"run:r1:stage:2:item:{i}" for i in range(distinct)]
    keys += [random.Random(seed).choice(keys) for _ in range(n - distinct)]  # repeats
    random.Random(seed + 1).shuffle(keys)
    return keys


def _setup_account() -> int:
    from tests.factories import make_account  # not at import time: spawned children skip argon2 set-up

    with dbmod.write_session() as s:
        return make_account(s, "Contended", credits=INITIAL).id


def _check(account_id: int, results: list[tuple[str, str, int | None, str | None]], attempts: int) -> None:
    errors = [err for _, outcome, _, err in results if outcome == "error"]
    assert not errors, f"{len(errors)} unexpected errors, first:\n{errors[0]}"
    assert len(results) == attempts

    # each key maps to at most one transaction, however many times it was attempted
    tx_by_key: dict[str, set[int]] = {}
    for key, outcome, tx_id, _ in results:
        if outcome == "charged":
            tx_by_key.setdefault(key, set()).add(tx_id)
    assert all(len(ids) == 1 for ids in tx_by_key.values()), tx_by_key

    with dbmod.read_session() as s:
        t = CreditTransaction.__table__
        rows = s.execute(
            sa.select(t.c.id, t.c.idempotency_key, t.c.amount).where(
                t.c.account_id == account_id, t.c.type == "deduction")
        ).all()
        balance = billing.balance(session=s, account_id=account_id)
        usage_logs = s.execute(sa.select(sa.func.count()).select_from(CreditUsageLog)).scalar_one()
        report = billing.reconcile(session=s)

    per_key = Counter(k for _, k, _ in rows)
    assert all(n == 1 for n in per_key.values()), "a key was charged twice"
    assert {k: {i} for i, k, _ in rows} == tx_by_key  # the database agrees with what callers were told
    assert len(rows) == len(tx_by_key) == usage_logs
    charged = -sum(a for _, _, a in rows)
    assert balance >= 0
    assert balance == INITIAL - charged
    assert charged == COST * len(rows)
    # the balance ran out: every distinct key either charged or was refused for credits
    assert len(rows) == INITIAL // COST
    assert balance == INITIAL % COST
    refused = {k for k, o, _, _ in results if o == "insufficient"}
    assert refused and not refused & set(tx_by_key)
    assert refused | set(tx_by_key) == {k for k, *_ in results}
    assert report.ok, report.as_dict()


def test_threads_charging_one_account(db) -> None:
    account_id = _setup_account()
    keys = _keys(THREADS, DISTINCT_KEYS, seed=7)
    assert len(set(keys)) == DISTINCT_KEYS
    barrier = threading.Barrier(THREADS)
    results: list = [None] * THREADS

    def run(i: int) -> None:
        barrier.wait()
        results[i] = attempt(account_id, keys[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert not any(th.is_alive() for th in threads), "a charging thread hung"
    _check(account_id, results, THREADS)


# --- processes ----------------------------------------------------------------------------------

PROCESSES = 8
PER_PROCESS = 7


def _process_main(env: dict[str, str], account_id: int, keys: list[str], barrier, queue) -> None:  # noqa: ANN001
    import os

    from igny8_app.settings import reset_settings

    os.environ.update(env)  # the test's DATABASE_URL, data dir and secret key
    reset_settings()
    dbmod.dispose_engines()
    dbmod.get_engine().connect().close()  # connect before the start line, so the attempts really overlap
    barrier.wait(60)
    out = [attempt(account_id, k) for k in keys]
    dbmod.dispose_engines()
    queue.put(out)


def _context() -> mp.context.BaseContext:
    """Fresh interpreters (no inherited connections or threads), cheaply: a fork server that has
    imported this module once forks each worker, instead of 8 cold 'spawn' imports on a small box."""
    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload([__name__])
    return ctx


def test_processes_charging_one_account(db) -> None:
    import os

    account_id = _setup_account()
    keys = _keys(PROCESSES * PER_PROCESS, DISTINCT_KEYS, seed=11)
    env = {k: os.environ[k] for k in ("DATABASE_URL", "IGNY8_DATA_DIR", "SECRET_KEY")}
    ctx = _context()
    barrier = ctx.Barrier(PROCESSES)
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=_process_main,
                    args=(env, account_id, keys[i * PER_PROCESS:(i + 1) * PER_PROCESS], barrier, queue))
        for i in range(PROCESSES)
    ]
    for p in procs:
        p.start()
    try:
        results = []
        for _ in procs:
            results.extend(queue.get(timeout=180))
    finally:
        for p in procs:
            p.join(30)
            if p.is_alive():
                p.kill()
    assert all(p.exitcode == 0 for p in procs)
    _check(account_id, results, PROCESSES * PER_PROCESS)
