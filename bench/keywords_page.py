"""Benchmark: server time of the keywords page's first page at 100,000 keywords in one site.

    python bench/keywords_page.py [--rows 100000] [--database-url URL]

Builds a throwaway database (SQLite in a temp folder by default), imports N keywords through the
real import service, then times ``list_keywords`` (the exact call the page makes: filtered count,
sorted page of 50, status counts) for several filter/sort combinations. Prints medians in ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._results import NO_TARGET, emit, row  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--repeat", type=int, default=30)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="igny8-bench-")
    os.environ["IGNY8_DATA_DIR"] = tmp
    os.environ["DATABASE_URL"] = args.database_url or f"sqlite:///{tmp}/bench.db"

    from igny8_app.db import read_session, upgrade_database, write_session
    from igny8_app.services.content import keywords
    from igny8_app.services.accounts import sites
    from igny8_app.services.accounts.access import get_or_create_account

    upgrade_database()
    with write_session() as s:
        account, _ = get_or_create_account(session=s, name=f"bench-{time.time_ns()}")
        site = sites.create_site(session=s, account_id=account.id, name="Bench", domain="bench.example.com")
        site_id = site.id
    lines = ["keyword,volume,difficulty,intent"]
    topics = ["garden", "lawn", "rose", "tomato", "compost", "herb", "tree", "seed", "soil", "pest"]
    for i in range(args.rows):
        lines.append(f"{topics[i % 10]} tip {i} variant {i * 7919 % 1000},{i * 37 % 10000},{1 + i % 5},informational")
    t0 = time.perf_counter()
    with write_session() as s:
        res = keywords.import_keywords(session=s, site_id=site_id, data="\n".join(lines).encode())
    print(f"import: {res.imported:,} rows in {time.perf_counter() - t0:.2f} s")

    cases = {
        "default (newest first)": {},
        "sort by volume": {"sort": "volume"},
        "sort by keyword asc": {"sort": "keyword", "descending": False},
        "status=new": {"status": "new"},
        "search 'rose'": {"search": "rose"},
        "last page": {"page": args.rows // 50},
    }
    print(f"{'case':<26} {'median ms':>10} {'p95 ms':>8}")
    medians: dict[str, float] = {}
    for name, kw in cases.items():
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            with read_session() as s:
                keywords.list_keywords(session=s, site_id=site_id, **kw)
                keywords.keyword_counts(session=s, site_id=site_id)
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        medians[name] = statistics.median(times)
        print(f"{name:<26} {statistics.median(times):>10.1f} {times[int(len(times) * 0.95) - 1]:>8.1f}")

    first, last, search = medians["default (newest first)"], medians["last page"], medians["search 'rose'"]
    emit({"rows": args.rows, "median_ms": medians}, [row(
        "keywords_page", verdict=NO_TARGET, measured=f"{args.rows:,} keywords: first page {first:.1f} ms, "
        f"last page {last:.1f} ms, substring search {search:.1f} ms, slowest case {max(medians.values()):.1f} ms")])


if __name__ == "__main__":
    main()
