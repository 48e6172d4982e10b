"""Pipeline overhead: the full system against a plain loop, side by side, on SQLite and PostgreSQL.

Both push N keywords through all six stages with the zero-cost ``instant`` provider (fixed outputs,
returned at once), so the stage functions cannot hide the orchestration's cost:

* **plain loop**: in this process, one transaction per item doing the same database writes as the
  engine (the stage's outputs via ``stage_io.apply`` and the ledger charge), with no RQ, no run
  row bookkeeping, no events, no heartbeats, no lease;
* **full system**: ``automation.start_run`` → RQ job → one ``igny8 worker`` process (work horse)
  running the real engine (lease + fence, stage progress, ledger, run events + Redis publish,
  trace file, heartbeats, 2-minute job slices). Timed from the start call until the run row says
  ``completed``. The work horse's RSS is sampled every 100 ms (memory must stay flat).

Reported: seconds, items/s, orchestration overhead per item in ms, and the throughput ratio
full/plain (target ≥ 0.5). ``--offline`` also reports the offline provider's own throughput per
operation. ``--profile`` runs the engine in-process under pyinstrument and prints the top frames.

    python bench/pipeline_overhead.py [--keywords 5000] [--backend sqlite|postgresql|both] [--offline] [--profile]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _harness as h  # noqa: E402

ENGINE_ENV = {"AI_PROVIDER": "instant", "OFFLINE_AI_DELAY_MS": "0"}


def plain_loop(site_id: int, account_id: int) -> int:
    """Every stage's items, one transaction each: the engine's database writes, nothing else."""
    from igny8_app.ai.instant import InstantProvider
    from igny8_app.db import write_session
    from igny8_app.services import billing, stage_io

    provider = InstantProvider()
    cfg = {"in_article_images": 0}
    items = 0
    for stage in range(1, 7):
        while True:
            with write_session() as s:
                item = stage_io.next_item(s, stage, site_id, limit=20, config=cfg)
                if item is None:
                    break
                result = stage_io.compute(provider, item)
                if stage == 6:
                    stage_io.save_media(item, result, site_id)
                applied = stage_io.apply(s, item, result, run_id="plain", site_id=site_id)
                if applied.operation and applied.usage is not None:
                    billing.charge(session=s, account_id=account_id, operation_type=applied.operation,
                                   usage=applied.usage, idempotency_key=f"plain:{stage}:{item.key}",
                                   run_id="plain", site_id=site_id, stage=stage,
                                   object_type=applied.object_type, object_id=applied.object_id)
            items += 1
    return items


class RssSampler(threading.Thread):
    """Samples the RSS of the worker's work horses (its child processes) every 100 ms."""

    def __init__(self, worker_pid: int) -> None:
        super().__init__(daemon=True)
        self.worker_pid = worker_pid
        self.samples: dict[int, list[float]] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        from tests.engine_helpers import child_pids

        while not self.stop.wait(0.1):
            for pid in child_pids(self.worker_pid):
                mb = h.rss_mb(pid)
                if mb is not None:
                    self.samples.setdefault(pid, []).append(mb)


def full_system(site_id: int, log_dir: Path) -> tuple[float, dict[int, list[float]]]:
    from igny8_app.services import automation

    workers = h.start_workers(1, log_dir, **ENGINE_ENV)
    sampler = RssSampler(workers.procs[0].pid)
    sampler.start()
    try:
        t0 = time.monotonic()
        run = automation.start_run(site_id=site_id)
        done = h.wait_runs_done([run.id])
        return done[run.id] - t0, sampler.samples
    finally:
        sampler.stop.set()
        workers.stop()


def measure(backend: str, n_keywords: int, tmp: Path) -> dict:
    out: dict = {"backend": backend}
    with h.fresh_database(backend, tmp) as url:
        h.configure(url, None, tmp / f"media-{backend}-plain", **ENGINE_ENV)
        warm = h.seed_sites(1, 60)[0]
        plain_loop(warm.site_id, warm.account_id)  # imports and first-use costs, as the worker's preload
        site = h.seed_sites(1, n_keywords)[0]
        t0 = time.perf_counter()
        out["items"] = plain_loop(site.site_id, site.account_id)
        out["plain_s"] = time.perf_counter() - t0
    with h.private_redis() as redis_url, h.fresh_database(backend, tmp) as url:
        h.configure(url, redis_url, tmp / f"media-{backend}-full", **ENGINE_ENV)
        site = h.seed_sites(1, n_keywords)[0]
        out["full_s"], rss = full_system(site.site_id, tmp / f"logs-{backend}")
        out["horses"] = {pid: (round(v[0], 1), round(max(v), 1), round(v[-1], 1)) for pid, v in rss.items() if v}
    out["overhead_ms_per_item"] = (out["full_s"] - out["plain_s"]) / out["items"] * 1000
    out["ratio"] = out["plain_s"] / out["full_s"]
    return out


def offline_throughput(n: int = 400) -> dict[str, float]:
    """Calls per second of the offline provider (no delay) for each operation."""
    from igny8_app.ai import base
    from igny8_app.ai.offline import OfflineProvider

    p = OfflineProvider(delay_ms=0)
    kws = [base.KeywordIn(id=i, keyword=k, volume=10) for i, k in enumerate(h.synthetic_keywords(n))]
    res: dict[str, float] = {}
    t0 = time.perf_counter()
    batches = [kws[i:i + 20] for i in range(0, n, 20)]
    for b in batches:
        p.cluster_keywords(b, [])
    res["clustering (batches of 20)/s"] = len(batches) / (time.perf_counter() - t0)
    cl = base.ClusterIn(id=1, name="Coffee Care", keywords=("coffee care", "coffee tips"), volume=100)
    t0 = time.perf_counter()
    for _ in range(50):
        p.generate_ideas(cl, 3)
    res["ideas/s"] = 50 / (time.perf_counter() - t0)
    task = base.TaskIn(id=1, title="How to care for a coffee plant", keywords=("coffee care",), word_count=1200)
    t0 = time.perf_counter()
    contents = [p.write_content(task).value for _ in range(30)]
    res["content (1,200 words)/s"] = 30 / (time.perf_counter() - t0)
    ci = base.ContentIn(id=1, title=contents[0].title, html=contents[0].html)
    t0 = time.perf_counter()
    for _ in range(50):
        p.image_prompts(ci, 2)
    res["image prompts/s"] = 50 / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for _ in range(10):
        p.render_image(base.ImagePromptIn(prompt="A coffee plant on a windowsill", title=task.title))
    res["images (1200x630)/s"] = 10 / (time.perf_counter() - t0)
    return res


def profile(n_keywords: int, tmp: Path) -> None:
    """The engine in-process (execute_run: the work horse's code path without RQ) under pyinstrument."""
    from pyinstrument import Profiler

    from igny8_app.ai.instant import InstantProvider
    from igny8_app.services import automation
    from igny8_app.services.run_loop import execute_run

    with h.private_redis() as redis_url, h.fresh_database("sqlite", tmp) as url:
        h.configure(url, redis_url, tmp / "media-profile", **ENGINE_ENV)
        site = h.seed_sites(1, n_keywords)[0]
        run = automation.start_run(site_id=site.site_id, enqueue=False)
        prof = Profiler(interval=0.001)
        prof.start()
        outcome = execute_run(run.id, provider=InstantProvider(), slice_seconds=10_000)
        prof.stop()
        print(f"profiled execute_run ({outcome}):")
        print(prof.output_text(unicode=False, color=False, show_all=False))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keywords", type=int, default=5000)
    ap.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--offline", action="store_true", help="also measure the offline provider's throughput")
    ap.add_argument("--profile", action="store_true", help="profile the engine in-process instead")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="igny8-overhead-"))
    if args.profile:
        profile(args.keywords, tmp)
        return
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    print(f"# {h.command_line()}")
    print(f"{'backend':<11}{'items':>7}{'plain s':>9}{'full s':>9}{'plain it/s':>12}{'full it/s':>11}"
          f"{'overhead ms/item':>18}{'full/plain':>12}")
    results = []
    for b in backends:
        r = measure(b, args.keywords, tmp)
        results.append(r)
        print(f"{b:<11}{r['items']:>7}{r['plain_s']:>9.1f}{r['full_s']:>9.1f}{r['items'] / r['plain_s']:>12.1f}"
              f"{r['items'] / r['full_s']:>11.1f}{r['overhead_ms_per_item']:>18.2f}{r['ratio']:>12.2f}",
              flush=True)
    for r in results:
        for pid, (first, peak, last) in r["horses"].items():
            print(f"work horse RSS ({r['backend']}, pid {pid}): first {first} MB, peak {peak} MB, last {last} MB")
    if args.offline:
        for k, v in offline_throughput().items():
            print(f"offline provider: {v:8.1f} {k}")


if __name__ == "__main__":
    main()
