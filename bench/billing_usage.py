"""Usage history and CSV export at volume: 1,000,000 ledger rows in one account (SQLite or
DATABASE_URL). Rows are bulk-inserted (with their usage-log rows and the daily rollup the ledger
would keep), then the first page, a filtered page and the totals are timed (median of 30), and
the whole CSV is streamed while peak Python memory is traced.

    python bench/billing_usage.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._results import emit, row, verdict  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="igny8-bench-"))
    os.environ.setdefault("IGNY8_DATA_DIR", str(tmp))
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp / 'bench.db'}")
    import sqlalchemy as sa

    from igny8_app import db
    from igny8_app.models import Account, CreditTransaction, CreditUsageDaily, CreditUsageLog, Site
    from igny8_app.services.billing import usage

    db.upgrade_database()
    with db.write_session() as s:
        acct = Account(name="Bench", credits=0)
        s.add(acct)
        s.flush()
        sites = [Site(account_id=acct.id, name=f"Site {i}", domain=f"s{i}.example.com") for i in range(3)]
        s.add_all(sites)
        s.flush()
        aid, site_ids = acct.id, [x.id for x in sites]
    ops = ["clustering", "ideas", "content", "image_prompts", "images"]
    start = datetime.now(timezone.utc) - timedelta(days=30)
    t0 = time.perf_counter()
    batch = 20_000
    balance = args.rows * 10
    engine = db.get_engine()
    with engine.begin() as conn:
        conn.execute(sa.insert(CreditTransaction.__table__), [{
            "account_id": aid, "amount": balance, "balance_after": balance, "type": "grant",
            "idempotency_key": "bench-grant", "description": "bench", "created_at": start}])
        for lo in range(0, args.rows, batch):
            txs, logs = [], []
            for i in range(lo, min(lo + batch, args.rows)):
                balance -= 2
                txs.append({"id": i + 2, "account_id": aid, "amount": -2, "balance_after": balance,
                            "type": "deduction", "operation_type": ops[i % 5], "idempotency_key": f"b{i}",
                            "run_id": f"run_{i // 500:06d}", "site_id": site_ids[i % 3], "object_type": "keyword",
                            "object_id": i, "description": "", "created_at": start + timedelta(seconds=i * 2)})
                logs.append({"account_id": aid, "transaction_id": i + 2, "operation_type": ops[i % 5],
                             "credits_used": 2, "tokens_in": 300, "tokens_out": 500, "cost_usd": 0.0,
                             "site_id": site_ids[i % 3], "run_id": f"run_{i // 500:06d}",
                             "created_at": start + timedelta(seconds=i * 2)})
            conn.execute(sa.insert(CreditTransaction.__table__), txs)
            conn.execute(sa.insert(CreditUsageLog.__table__), logs)
        day = "date(created_at)" if engine.dialect.name == "sqlite" else "(created_at AT TIME ZONE 'UTC')::date"
        conn.exec_driver_sql(
            f"INSERT INTO {CreditUsageDaily.__tablename__} SELECT account_id, {day}, type, "
            f"coalesce(operation_type, ''), coalesce(site_id, 0), count(*), sum(amount) FROM credit_transaction "
            f"GROUP BY 1, 2, 3, 4, 5")
        conn.execute(sa.update(Account).where(Account.id == aid).values(credits=balance))
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("ANALYZE")
    if engine.dialect.name != "sqlite":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("ANALYZE")
    print(f"loaded {args.rows:,} rows in {time.perf_counter() - t0:.1f}s ({engine.dialect.name})")

    medians: dict[str, float] = {}

    def timed(label: str, f: usage.UsageFilter, page: int = 1) -> None:
        times = []
        for _ in range(30):
            t = time.perf_counter()
            with db.read_session() as s:
                rows, totals = usage.history_page(session=s, account_id=aid, f=f, page=page, per_page=50)
            times.append((time.perf_counter() - t) * 1000)
        medians[label] = statistics.median(times)
        print(f"{label:<38} median {medians[label]:6.1f} ms  (rows {len(rows)}, total {totals.rows:,})")

    today = datetime.now(timezone.utc).date()
    timed("first page, no filter", usage.UsageFilter())
    timed("first page, operation=ideas", usage.UsageFilter(operation="ideas"))
    timed("first page, site", usage.UsageFilter(site_id=site_ids[1]))
    timed("first page, run", usage.UsageFilter(run_id="run_000500"))
    timed("first page, last 7 days", usage.UsageFilter(date_from=today - timedelta(days=7), date_to=today))
    timed("page 100, no filter", usage.UsageFilter(), page=100)

    tracemalloc.start()
    t = time.perf_counter()
    size = chunks = 0
    for part in usage.export_csv(account_id=aid, f=usage.UsageFilter()):
        size += len(part)
        chunks += 1
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"CSV export: {size / 1e6:.0f} MB in {chunks} chunks, {time.perf_counter() - t:.1f}s, "
          f"peak traced Python memory {peak / 1e6:.1f} MB")
    http = http_export(aid)
    slowest = max(medians, key=medians.get)
    emit({"rows": args.rows, "dialect": engine.dialect.name, "median_ms": medians, "export_mb": size / 1e6,
          "export_peak_traced_mb": peak / 1e6, "http": http}, [
        row("usage_first_page", verdict=verdict(medians[slowest] <= 50),
            target="<= 50 ms" + (" at 1,000,000 rows" if args.rows >= 1_000_000 else f" (run at {args.rows:,} rows)"),
            measured=f"{min(medians.values()):.1f}-{medians[slowest]:.1f} ms over {len(medians)} cases at "
                     f"{args.rows:,} rows, slowest '{slowest}' ({engine.dialect.name})"),
        row("csv_export_rss", verdict=verdict(http["peak_mb"] < 200),
            measured=f"{http['mb']:.0f} MB streamed over HTTP in {http['seconds']:.1f} s; server RSS idle "
                     f"{http['idle_mb']:.0f} MB, peak {http['peak_mb']:.0f} MB"),
    ])


def http_export(account_id: int) -> dict:
    """The same export through its real HTTP route (GET /files/usage.csv, session cookie), served by
    granian in its own process; that process tree's RSS is sampled every 50 ms while the body streams."""
    import subprocess
    import threading

    import httpx
    import psutil

    from igny8_app import db
    from igny8_app.services.accounts import access as accounts
    from tests.conftest import free_port

    with db.write_session() as s:
        user = accounts.create_user(session=s, email="bench-owner@example.com", password="bench-password-1")
        accounts.add_membership(session=s, user_id=user.id, account_id=account_id, role="owner")
        cookie = accounts.open_session(session=s, user=user)
    port = free_port()
    # the Starlette app Reflex mounts (api_transformer), served by granian as in production
    server = subprocess.Popen([sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1",
                               "--port", str(port), "--workers", "1", "--log-level", "warning",
                               "igny8_app.igny8_app:api"], env=dict(os.environ), cwd=str(Path(__file__).parent.parent))
    proc = psutil.Process(server.pid)
    try:
        for _ in range(600):
            try:
                httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)

        def rss() -> int:  # granian's supervisor and its worker process
            return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)])

        idle = rss()
        peak = [idle]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.05):
                peak.append(rss())

        threading.Thread(target=sample, daemon=True).start()
        t = time.perf_counter()
        size = 0
        with httpx.stream("GET", f"http://127.0.0.1:{port}/files/usage.csv", params={"account_id": account_id},
                          cookies={"igny8_session": cookie}, timeout=600) as r:
            assert r.status_code == 200, r.read()[:300]
            for part in r.iter_bytes():
                size += len(part)
        done.set()
        took = time.perf_counter() - t
        print(f"CSV export over HTTP (granian, GET /files/usage.csv): {size / 1e6:.0f} MB in "
              f"{took:.1f}s; server RSS idle {idle / 1e6:.0f} MB, peak {max(peak) / 1e6:.0f} MB")
        return {"mb": size / 1e6, "seconds": took, "idle_mb": idle / 1e6, "peak_mb": max(peak) / 1e6}
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
