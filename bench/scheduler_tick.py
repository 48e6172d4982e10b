"""Scheduler tick cost and exactly-once under contention, on SQLite and PostgreSQL.

N sites are scheduled daily at the same wall time (a third each in UTC, Europe/Berlin and
America/New_York, so every due time is computed in its own zone); at the due time K scheduler
processes (``igny8 scheduler tick --now <due>``, started together) race to fire them. Reported:
the wall time of the race (slowest process), per-site firing cost, how many runs each process
won, and the check that every site got exactly one run (or skip row) for that due time.

Half the accounts have too few credits, so half the rows are ``skipped`` (the skip path is timed
too). Runs are queued on a private Redis with no worker (only the firing is measured).

    python bench/scheduler_tick.py [--sites 300] [--procs 2] [--backend sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _harness as h  # noqa: E402

ZONES = ["UTC", "Europe/Berlin", "America/New_York"]


def seed(n: int) -> list[int]:
    import sqlalchemy as sa

    from igny8_app.db import write_session
    from igny8_app.models import Account
    from igny8_app.services import automation_config

    sites = h.seed_sites(n, 8)  # 8 keywords: a small estimate, so credits decide start vs skip
    for i, ref in enumerate(sites):
        with write_session() as s:
            s.execute(sa.update(Account).where(Account.id == ref.account_id)
                      .values(timezone=ZONES[i % 3], credits=0 if i % 2 else 50_000_000))
        automation_config.update_config(site_id=ref.site_id, now=datetime(2026, 6, 1, tzinfo=timezone.utc),
                                        changes={"enabled": True, "scheduled_time": "06:00"})
    return [r.site_id for r in sites]


def race(procs: int, now: str) -> tuple[float, list[dict]]:
    cmd = [sys.executable, "-m", "igny8_app.cli", "scheduler", "tick", "--now", now, "--json"]
    # the processes start together; each pays its own import time (~1 s) before its tick
    t0 = time.perf_counter()
    ps = [subprocess.Popen(cmd, cwd=h.REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=dict(os.environ)) for _ in range(procs)]
    outs = []
    for p in ps:
        out, err = p.communicate(timeout=3600)
        if p.returncode:
            raise SystemExit(err)
        outs.append(json.loads(out))
    return time.perf_counter() - t0, outs


def one_tick_in_process(now: datetime) -> float:
    from igny8_app.services import scheduler

    t0 = time.perf_counter()
    scheduler.run_due(now=now)
    return time.perf_counter() - t0


def check(site_ids: list[int]) -> dict[str, int]:
    import sqlalchemy as sa

    from igny8_app.db import read_session
    from igny8_app.models import AutomationRun

    with read_session() as s:
        rows = s.execute(sa.select(AutomationRun.site_id, AutomationRun.scheduled_for, AutomationRun.status)
                         .where(AutomationRun.trigger == "scheduled")).all()
    per_site: dict[int, int] = {}
    for site_id, _, _ in rows:
        per_site[site_id] = per_site.get(site_id, 0) + 1
    assert all(per_site.get(s) == 1 for s in site_ids), "a site did not get exactly one row"
    return {"rows": len(rows), "started": sum(r[2] == "running" for r in rows),
            "skipped": sum(r[2] == "skipped" for r in rows)}


def bench(backend: str, n: int, procs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, h.private_redis() as redis_url, \
            h.fresh_database(backend, Path(tmp)) as url:
        h.configure(url, redis_url, Path(tmp) / "data")
        site_ids = seed(n)
        # every zone's 06:00 on 2026-06-02 has passed by 12:00 UTC
        wall, outs = race(procs, "2026-06-02T12:00:00+00:00")
        counts = check(site_ids)
        won = [len(o["started"]) + len(o["skipped"]) for o in outs]
        # a quiet tick (nothing due) costs only the due-query
        quiet = one_tick_in_process(datetime(2026, 6, 2, 12, 0, 5, tzinfo=timezone.utc))
        print(f"{backend:<10} sites={n} procs={procs}: race {wall:.2f} s wall (incl. ~1 s process start each), "
              f"{wall / n * 1000:.1f} ms/site; rows {counts['rows']} (started {counts['started']}, "
              f"skipped {counts['skipped']}), won per process {won}, exactly once: yes; "
              f"quiet tick {quiet * 1000:.1f} ms")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", type=int, default=300)
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--backend", default="both", choices=["sqlite", "postgresql", "both"])
    a = ap.parse_args()
    print(h.command_line())
    for backend in (["sqlite", "postgresql"] if a.backend == "both" else [a.backend]):
        bench(backend, a.sites, a.procs)


if __name__ == "__main__":
    main()
