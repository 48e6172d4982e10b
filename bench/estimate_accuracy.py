"""Benchmark: how close the estimate shown before a run is to the credits the run then uses.

    python bench/estimate_accuracy.py [--backend sqlite|postgresql]

Four cases, each on a fresh migrated database, a private Redis and the offline provider (no delay):

* **demo site, first run**: ``igny8 demo``'s site (204 gardening keywords, default configuration);
* **demo site, second run**: after that run completed, the held-out labelled set
  (``tests/data/heldout_keywords.csv``, 250 keywords of ten other topics) is imported and run;
* **fresh import, first run**: a new site importing 240 keywords of ``tests/data/labelled_keywords.csv``
  (shuffled with a fixed seed: keyword lists arrive in no particular order), default configuration;
* **fresh import, second run**: the other 110 keywords of that set, imported after the first run.

For each: the estimate exactly as the Automation page, the API and ``igny8 run estimate`` show it
(``automation.estimate``), then ``start_run`` and the engine's own run loop in this process
(``run_loop.execute_run``: the work horse's code path without RQ) until the run completes, and the
credits the run was charged (the ledger's charges for the run). Error = (estimate - used) / used.
Target: within ±20% in every case.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import _harness as h  # noqa: E402
from bench._results import emit, row, verdict  # noqa: E402

LABELLED = ROOT / "tests" / "data" / "labelled_keywords.csv"
HELDOUT = ROOT / "tests" / "data" / "heldout_keywords.csv"
FRESH_FIRST = 240
SEED = 42
TARGET = 0.20
ENV = {"AI_PROVIDER": "offline", "OFFLINE_AI_DELAY_MS": "0"}


def keyword_csv(path: Path, *, seed: int | None = None) -> list[str]:
    """The set's keywords as CSV lines ``keyword,volume`` (a volume derived from a hash)."""
    with path.open(newline="", encoding="utf-8") as fh:
        words = [r["keyword"] for r in csv.DictReader(fh)]
    if seed is not None:
        random.Random(seed).shuffle(words)
    return [f"{w},{10 + int(hashlib.sha256(w.encode()).hexdigest(), 16) % 5000}" for w in words]


def import_lines(site_id: int, lines: list[str]) -> None:
    from igny8_app.db import write_session
    from igny8_app.services.content import keywords

    with write_session() as s:
        keywords.import_keywords(session=s, site_id=site_id, data=("keyword,volume\n" + "\n".join(lines)).encode())


def estimate_then_run(site_id: int) -> dict:
    """The pre-run estimate, then the run to completion; what it was charged."""
    import sqlalchemy as sa

    from igny8_app.ai.offline import OfflineProvider
    from igny8_app.db import read_session
    from igny8_app.models import AutomationRun, CreditTransaction, StageProgress
    from igny8_app.services.automation import control
    from igny8_app.services.automation.run_loop import execute_run

    with read_session() as s:
        t0 = time.perf_counter()
        est = control.estimate(session=s, site_id=site_id)
        est_ms = (time.perf_counter() - t0) * 1000
    run = control.start_run(site_id=site_id, enqueue=False)
    t0 = time.perf_counter()
    outcome = execute_run(run.id, provider=OfflineProvider(), slice_seconds=1e9)
    took = time.perf_counter() - t0
    if outcome != "completed":
        raise RuntimeError(f"run {run.run_id} ended {outcome}")
    with read_session() as s:
        done = s.get(AutomationRun, run.id)
        charged = -int(s.execute(sa.select(sa.func.coalesce(sa.func.sum(CreditTransaction.amount), 0))
                                 .where(CreditTransaction.run_id == done.run_id)).scalar_one())
        used = done.total_credits_used
        progress = {p.stage: p for p in s.exec(sa.select(StageProgress).where(StageProgress.run_pk == run.id)).scalars()}
        actual = {str(n): progress[n].credits_used if n in progress else 0 for n in sorted(progress)}
        actual_items = {str(n): progress[n].total_items for n in sorted(progress)}
    if charged != used:
        raise RuntimeError(f"run {run.run_id}: the ledger charged {charged}, the run says {used}")
    return {"estimate": est["total"], "used": used, "error": (est["total"] - used) / used if used else 0.0,
            "estimate_ms": est_ms, "run_s": took, "stages": est["stages"], "items": est.get("items", {}),
            "actual_stages": actual, "actual_items": actual_items, "basis": est.get("basis", "")}


def demo_cases() -> list[tuple[str, dict]]:
    from igny8_app.db import write_session
    from igny8_app.services.billing import ledger
    from igny8_app.services.system.demo import create_demo
    from igny8_app.models import Site

    with write_session() as s:
        demo = create_demo(session=s)
        account_id = s.get(Site, demo.site_id).account_id
        ledger.grant(session=s, account_id=account_id, amount=1_000_000, idempotency_key="bench:estimate",
                     description="benchmark credits")
    first = estimate_then_run(demo.site_id)
    import_lines(demo.site_id, keyword_csv(HELDOUT, seed=SEED))
    return [("demo site (204 keywords), first run", first),
            ("demo site, second run (+250 held-out keywords)", estimate_then_run(demo.site_id))]


def fresh_cases() -> list[tuple[str, dict]]:
    from igny8_app.db import write_session
    from tests.factories import make_account, make_site

    lines = keyword_csv(LABELLED, seed=SEED)
    with write_session() as s:
        site_id = make_site(s, make_account(s, credits=1_000_000)).id
    import_lines(site_id, lines[:FRESH_FIRST])
    first = estimate_then_run(site_id)
    import_lines(site_id, lines[FRESH_FIRST:])
    return [(f"fresh import ({FRESH_FIRST} keywords), first run", first),
            (f"fresh import, second run (+{len(lines) - FRESH_FIRST} keywords)", estimate_then_run(site_id))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = ap.parse_args()
    cases: list[tuple[str, dict]] = []
    for make in (demo_cases, fresh_cases):
        tmp = Path(tempfile.mkdtemp(prefix="igny8-bench-estimate-"))
        with h.private_redis() as redis_url, h.fresh_database(args.backend, tmp) as url:
            h.configure(url, redis_url, tmp / "media", **ENV)
            cases += make()
    print(f"offline provider, {args.backend}; error = (estimate - used) / used\n")
    print(f"{'case':<50} {'estimate':>9} {'used':>7} {'error':>8} {'estimate ms':>12} {'run s':>7}")
    for name, c in cases:
        print(f"{name:<50} {c['estimate']:>9,} {c['used']:>7,} {c['error']:>+8.1%} {c['estimate_ms']:>12.0f} "
              f"{c['run_s']:>7.1f}")
    print("\nper stage, estimated / used credits (items each stage took, estimated / actual):")
    for name, c in cases:
        cells = [f"{n}: {c['stages'].get(n, 0)}/{c['actual_stages'].get(n, 0)} "
                 f"({list(c['items'].values())[int(n) - 1] if c['items'] else '?'}/{c['actual_items'].get(n, 0)})"
                 for n in sorted(c["stages"])]
        print(f"  {name}: " + ", ".join(cells) + (f"; basis: {c['basis']}" if c["basis"] else ""))
    worst = max(abs(c["error"]) for _, c in cases)
    print(f"\nworst error {worst:.1%} (target: within ±{TARGET:.0%} in every case)")
    measured = "; ".join(f"{name}: {c['error']:+.1%}" for name, c in cases)
    emit({"backend": args.backend, "cases": {name: c for name, c in cases}},
         [row("estimate_error", measured=measured, verdict=verdict(worst <= TARGET))])


if __name__ == "__main__":
    main()
