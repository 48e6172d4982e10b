"""Scheduler tick cost and exactly-once under contention, on SQLite and PostgreSQL.

N sites are scheduled daily at the same wall time (a third each in UTC, Europe/Berlin and
America/New_York, so every due time is computed in its own zone); at the due time K scheduler
processes race to fire them. They must race for real: each process starts (spawned, its own
imports and database connections), warms up with a tick at a moment when nothing is due, then
waits on one ``multiprocessing.Barrier``; the barrier releases them together and each runs one
tick (``scheduler.run_due``, what ``igny8 scheduler tick`` calls) on the same due sites.
Reported: how far apart the processes left the barrier, the race's wall time and per-site cost,
how many sites each process won (started or recorded as skipped) and how many it found already
recorded by the other, and the check that every site got exactly one run or skip row for that
due time. Exit code 1 if that check fails.

Who wins depends on the database. Both processes walk the due sites in the same order. SQLite
takes one writer at a time: while one process commits a site the other waits in its busy
handler, and the one holding the lead often asks for the lock again before the waiter wakes, so
the split on SQLite is often lopsided and changes from run to run. PostgreSQL locks rows, so the
two interleave; a loser there can also meet the unique ``(site_id, scheduled_for)`` index inside
``start_run``, which ``run_due`` logs as an error and moves past (counted as "error logged"; the
row is still exactly one).

Half the accounts have too few credits, so half the rows are ``skipped`` (the skip path is timed
too). Runs are queued on a private Redis with no worker (only the firing is measured).

    python bench/scheduler_tick.py [--sites 300] [--procs 2] [--backend sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing as mp
import os
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _harness as h  # noqa: E402
from bench._results import emit, row, verdict  # noqa: E402

ZONES = ["UTC", "Europe/Berlin", "America/New_York"]


def seed(n: int) -> list[int]:
    import sqlalchemy as sa

    from igny8_app.db import write_session
    from igny8_app.models import Account
    from igny8_app.services.automation import config as automation_config

    sites = h.seed_sites(n, 8)  # 8 keywords: a small estimate, so credits decide start vs skip
    for i, ref in enumerate(sites):
        with write_session() as s:
            s.execute(sa.update(Account).where(Account.id == ref.account_id)
                      .values(timezone=ZONES[i % 3], credits=0 if i % 2 else 50_000_000))
        automation_config.update_config(site_id=ref.site_id, now=datetime(2026, 6, 1, tzinfo=timezone.utc),
                                        changes={"enabled": True, "scheduled_time": "06:00"})
    return [r.site_id for r in sites]


def _ticker(env: dict[str, str], now_iso: str, barrier, results) -> None:  # noqa: ANN001 - mp objects
    """One scheduler process: warm up, wait on the barrier, then one tick (``scheduler.run_due``, the
    function ``igny8 scheduler tick`` calls) at the same instant as the other processes."""
    os.environ.update(env)
    from igny8_app.services.automation import scheduler

    errors = _ErrorCounter()
    scheduler.log.addHandler(errors)
    scheduler.log.propagate = False  # counted (and the first one kept) instead of a traceback per site
    now = datetime.fromisoformat(now_iso)
    scheduler.run_due(now=datetime(2026, 6, 1, 0, 0, tzinfo=timezone.utc))  # nothing due yet: connects, compiles
    barrier.wait(timeout=300)
    t0 = time.monotonic()  # CLOCK_MONOTONIC: one clock for every process on this machine
    tick = scheduler.run_due(now=now).as_dict()
    results.put({"pid": os.getpid(), "t0": t0, "t1": time.monotonic(), "started": len(tick["started"]),
                 "skipped": len(tick["skipped"]), "existing": tick["existing"], "errors": errors.count,
                 "first_error": errors.first})


class _ErrorCounter(logging.Handler):
    """Counts the sites ``run_due`` logged as 'could not fire' (an exception it caught and moved past)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count, self.first = 0, None

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if self.first is None and record.exc_info:
            exc = record.exc_info[1]
            self.first = f"{type(exc).__module__}.{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"


def race(procs: int, now: str) -> dict:
    """``procs`` processes (spawned: nothing inherited from this one) wait on one barrier, then tick."""
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(procs), ctx.Queue()
    env = {k: os.environ[k] for k in ("DATABASE_URL", "REDIS_URL", "IGNY8_DATA_DIR")}
    ps = [ctx.Process(target=_ticker, args=(env, now, barrier, results)) for _ in range(procs)]
    for p in ps:
        p.start()
    outs = [results.get(timeout=3600) for _ in ps]
    for p in ps:
        p.join(60)
        if p.exitcode:
            raise SystemExit(f"a scheduler process exited with {p.exitcode}")
    outs.sort(key=lambda o: o["t0"])
    return {"procs": outs, "release_skew_ms": (outs[-1]["t0"] - outs[0]["t0"]) * 1000,
            "wall_s": max(o["t1"] for o in outs) - min(o["t0"] for o in outs)}


def one_tick_in_process(now: datetime) -> float:
    from igny8_app.services.automation import scheduler

    t0 = time.perf_counter()
    scheduler.run_due(now=now)
    return time.perf_counter() - t0


def check(site_ids: list[int]) -> dict:
    import sqlalchemy as sa

    from igny8_app.db import read_session
    from igny8_app.models import AutomationRun

    with read_session() as s:
        rows = s.execute(sa.select(AutomationRun.site_id, AutomationRun.scheduled_for, AutomationRun.status)
                         .where(AutomationRun.trigger == "scheduled")).all()
    per_site: dict[int, int] = {}
    for site_id, _, _ in rows:
        per_site[site_id] = per_site.get(site_id, 0) + 1
    return {"rows": len(rows), "started": sum(r[2] == "running" for r in rows),
            "skipped": sum(r[2] == "skipped" for r in rows),
            "sites_exactly_once": sum(1 for sid in site_ids if per_site.get(sid) == 1),
            "sites_missing": sum(1 for sid in site_ids if sid not in per_site),
            "sites_duplicated": sum(1 for sid in site_ids if per_site.get(sid, 0) > 1)}


def bench(backend: str, n: int, procs: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp, h.private_redis() as redis_url, \
            h.fresh_database(backend, Path(tmp)) as url:
        h.configure(url, redis_url, Path(tmp) / "data")
        site_ids = seed(n)
        # every zone's 06:00 on 2026-06-02 has passed by 12:00 UTC
        r = race(procs, "2026-06-02T12:00:00+00:00")
        counts = check(site_ids)
        # a quiet tick (nothing due) costs only the due-query
        quiet = one_tick_in_process(datetime(2026, 6, 2, 12, 0, 5, tzinfo=timezone.utc))
    won = [o["started"] + o["skipped"] for o in r["procs"]]
    ok = counts["sites_exactly_once"] == n and counts["rows"] == n and sum(won) == n
    print(f"{backend:<10} sites={n} procs={procs}: released by one barrier within {r['release_skew_ms']:.1f} ms; "
          f"race {r['wall_s']:.2f} s wall, {r['wall_s'] / n * 1000:.1f} ms/site; quiet tick {quiet * 1000:.1f} ms")
    for i, o in enumerate(r["procs"]):
        print(f"{'':<10} process {i + 1}: won {won[i]:>4} (started {o['started']}, skipped {o['skipped']}), "
              f"lost {o['existing'] + o['errors']:>4} (found already recorded {o['existing']}, error logged "
              f"{o['errors']}), tick {o['t1'] - o['t0']:.2f} s")
    errors = sum(o["errors"] for o in r["procs"])
    if errors:
        first = next(o["first_error"] for o in r["procs"] if o["first_error"])
        print(f"{'':<10} {errors} lost sites were logged by run_due as 'could not fire' (not counted as already "
              f"recorded): {first}")
    print(f"{'':<10} rows {counts['rows']} (started {counts['started']}, skipped {counts['skipped']}); won in total "
          f"{sum(won)}; sites with exactly one row {counts['sites_exactly_once']}/{n} (missing "
          f"{counts['sites_missing']}, duplicated {counts['sites_duplicated']}) -> exactly once: "
          f"{'yes' if ok else 'NO'}", flush=True)
    return {"backend": backend, "sites": n, "won": won, "ok": ok, "errors_logged": errors,
            "quiet_tick_ms": quiet * 1000,
            "ms_per_site": r["wall_s"] / n * 1000, **counts, **r}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", type=int, default=300)
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--backend", default="both", choices=["sqlite", "postgresql", "both"])
    a = ap.parse_args()
    print(h.command_line())
    results = [bench(b, a.sites, a.procs) for b in (["sqlite", "postgresql"] if a.backend == "both" else [a.backend])]
    label = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    emit({"sites": a.sites, "procs": a.procs, "backends": results}, [row(
        "scheduler_exactly_once", verdict=verdict(all(r["ok"] for r in results)), measured="; ".join(
            f"{label[r['backend']]} {r['sites_exactly_once']}/{r['sites']} sites exactly once, won per process "
            f"{r['won']} (released within {r['release_skew_ms']:.1f} ms), {r['ms_per_site']:.1f} ms/site"
            + (f", {r['errors_logged']} losses logged as errors" if r["errors_logged"] else "")
            for r in results))])
    if not all(r["ok"] for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
