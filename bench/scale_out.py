"""Scale-out: 4 sites run at once with 1, 2 and 4 RQ workers (one run per site, one worker serves
one run at a time). Two workloads, measured side by side in one invocation:

* ``wait``: the offline provider with a per-item delay (default 150 ms), standing in for an AI
  call that waits on the network. Workers overlap their waits, so the speedup can exceed the
  core count;
* ``cpu``: the offline provider with no delay, so each item is pure CPU (clustering, article
  and image generation, database writes). The speedup is bounded by the cores (2 here).

Reported: wall time from starting the 4 runs until all are completed, and the speedup over one
worker.

    python bench/scale_out.py [--keywords 100] [--delay-ms 150] [--backend sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _harness as h  # noqa: E402
from bench._results import NO_TARGET, emit, row  # noqa: E402


def one(n_workers: int, *, backend: str, n_keywords: int, delay_ms: int, tmp: Path) -> float:
    from igny8_app.services.automation import control as automation

    env = {"AI_PROVIDER": "offline", "OFFLINE_AI_DELAY_MS": str(delay_ms)}
    with h.private_redis() as redis_url, h.fresh_database(backend, tmp) as url:
        h.configure(url, redis_url, tmp / f"media-{n_workers}-{delay_ms}", **env)
        sites = h.seed_sites(4, n_keywords)
        workers = h.start_workers(n_workers, tmp / f"logs-{n_workers}-{delay_ms}", **env)
        try:
            t0 = time.monotonic()
            runs = [automation.start_run(site_id=s.site_id) for s in sites]
            done = h.wait_runs_done([r.id for r in runs])
            return max(done.values()) - t0
        finally:
            workers.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keywords", type=int, default=100, help="keywords per site")
    ap.add_argument("--delay-ms", type=int, default=150)
    ap.add_argument("--backend", choices=["sqlite", "postgresql"], default="postgresql")
    ap.add_argument("--workers", default="1,2,4")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="igny8-scale-"))
    counts = [int(x) for x in args.workers.split(",")]
    print(f"# {h.command_line()}   (cores: {os.cpu_count()})")
    figures: dict = {"keywords": args.keywords, "backend": args.backend, "cores": os.cpu_count(), "workloads": {}}
    for label, delay in [("wait", args.delay_ms), ("cpu", 0)]:
        base = None
        figures["workloads"][label] = runs = {"delay_ms": delay, "seconds": {}, "speedup": {}}
        for n in counts:
            secs = one(n, backend=args.backend, n_keywords=args.keywords, delay_ms=delay, tmp=tmp)
            base = base or secs
            runs["seconds"][n], runs["speedup"][n] = secs, base / secs
            print(f"{label:<5} delay {delay:>4} ms  workers {n}:  {secs:7.1f} s   speedup {base / secs:4.2f}x",
                  flush=True)
    w = figures["workloads"]
    emit(figures, [row("scale_out", verdict=NO_TARGET, measured=(
        f"AI-wait-bound ({args.delay_ms} ms items): " + ", ".join(f"{n} workers {x:.2f}x" for n, x in
                                                              w["wait"]["speedup"].items() if n != counts[0])
        + "; CPU-bound: " + ", ".join(f"{n} workers {x:.2f}x" for n, x in w["cpu"]["speedup"].items()
                                      if n != counts[0]) + f" ({os.cpu_count()} cores, {args.backend})"))])


if __name__ == "__main__":
    main()
