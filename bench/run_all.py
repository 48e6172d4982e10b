"""Run every benchmark and write BENCHMARKS.md: one section per benchmark with what it measures,
its target, the exact command and its output verbatim, plus the machine's cores and load average
before and after (these machines are shared and noisy: read ratios measured side by side).

    python bench/run_all.py [--quick] [--only NAME[,NAME...]] [--out BENCHMARKS.md]

``--quick`` uses small sizes (a smoke run, minutes); the default sizes are the ones the figures
in BENCHMARKS.md are quoted at (about 40 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# name, what it measures / target, full args, quick args
BENCHES = [
    ("pause_latency", "Pause and cancel: REST API call -> status paused/cancelled on 2 RQ workers, offline provider "
                      "at 200 ms per item. Target: p99 <= item time + 150 ms (350 ms).",
     ["bench/pause_latency.py"], ["bench/pause_latency.py", "--pauses", "8", "--cancels", "3", "--backend", "sqlite"]),
    ("push_latency", "Push: worker commit -> DOM change in headless Chromium (MutationObserver), one browser. "
                     "Target: p95 <= 100 ms. The first line counts the updates the page showed; the second counts "
                     "every commit until the page showed it or a later state (pushes are paced, so bursts "
                     "coalesce); the rest splits the time into server, wire and paint.",
     ["bench/push_latency.py", "--updates", "200"], ["bench/push_latency.py", "--updates", "40"]),
    ("push_latency_50", "Push with 50 browser contexts watching one site: pooled p95 and the backend's CPU. "
                        "All 50 pages render in one Chromium on the same 2 cores as the server and workers; "
                        "'pushed by the web process' is the server's share.",
     ["bench/push_latency.py", "--updates", "200", "--contexts", "50"],
     ["bench/push_latency.py", "--updates", "30", "--contexts", "5"]),
    ("pipeline_overhead", "5,000 keywords through six stages with a zero-cost provider: the full system (RQ, DB, "
                          "ledger, events, heartbeats) against a plain loop making the same writes. Target: full "
                          ">= 0.5x plain on SQLite and PostgreSQL. Also the work horse's RSS (must stay flat) and the "
                          "offline provider's own throughput.",
     ["bench/pipeline_overhead.py", "--keywords", "5000", "--offline"],
     ["bench/pipeline_overhead.py", "--keywords", "500", "--offline"]),
    ("scale_out", "4 sites at once with 1, 2 and 4 workers; a waiting (AI latency) and a CPU-bound workload.",
     ["bench/scale_out.py", "--keywords", "100"], ["bench/scale_out.py", "--keywords", "30", "--workers", "1,2"]),
    ("billing_usage", "1,000,000 ledger rows in one account: first page of usage history (target <= 50 ms) and "
                      "the CSV export's peak memory (target: flat, < 200 MB RSS).",
     ["bench/billing_usage.py", "--rows", "1000000"], ["bench/billing_usage.py", "--rows", "50000"]),
    ("chaos", "Long chaos tier: 4 sites, 120 SIGKILLs of work horses, 2 Redis restarts, SQLite and PostgreSQL; "
              "every invariant checked (exactly-once outputs and charges, reconciled ledger, no stuck lock).",
     ["bench/chaos.py"], ["bench/chaos.py", "--sites", "2", "--kills", "10", "--restarts", "1", "--backend", "sqlite"]),
    ("scheduler_tick", "Scheduler: N sites due at once fired by racing scheduler processes; exactly one run or skip "
                       "row per site and due time.",
     ["bench/scheduler_tick.py"], ["bench/scheduler_tick.py", "--sites", "30"]),
    ("keywords_page", "Keywords page server time at 100,000 keywords in one site.",
     ["bench/keywords_page.py"], ["bench/keywords_page.py", "--rows", "10000"]),
    ("clustering_quality", "Offline clustering quality (adjusted Rand index) on the labelled set through stage 1. "
                           "Target: ARI >= 0.8.",
     ["bench/clustering_quality.py"], ["bench/clustering_quality.py", "--orders", "2"]),
]


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default="")
    ap.add_argument("--out", default=str(REPO / "BENCHMARKS.md"))
    args = ap.parse_args()
    only = {x for x in args.only.split(",") if x}
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    sections = []
    for name, what, full, quick in BENCHES:
        if only and name not in only:
            continue
        cmd = [sys.executable, *(quick if args.quick else full)]
        shown = "python " + " ".join(cmd[1:])
        print(f"== {name}: {shown}", flush=True)
        before, t0 = load(), time.monotonic()
        proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
        took = time.monotonic() - t0
        lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
        out = "\n".join(lines[-60:])
        if proc.returncode != 0:
            out += f"\n\n(exit code {proc.returncode})\n" + proc.stderr[-3000:]
        print(out, flush=True)
        sections.append(f"## {name}\n\n{what}\n\n```\n$ {shown}\n{out}\n```\n\n"
                        f"Took {took:.0f} s; load average before {before}, after {load()}.\n")
    header = (f"# Benchmarks\n\nWritten by `python bench/run_all.py{' --quick' if args.quick else ''}` on "
              f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC: {os.cpu_count()} cores, {platform.python_version()}, "
              f"{platform.platform()}. Every figure below is the verbatim output of the command above it; rerun "
              "one with `python bench/run_all.py --only NAME`. These machines are shared, so the load average "
              "is recorded with each benchmark; compare ratios measured side by side in one run.\n\n")
    path = Path(args.out)
    if only and path.exists():  # replace just the sections that were rerun
        text = path.read_text()
        for sec in sections:
            title = sec.split("\n", 1)[0]
            start = text.find(title + "\n")
            if start >= 0:
                end = text.find("\n## ", start + 1)
                text = text[:start] + sec + (text[end + 1:] if end >= 0 else "")
            else:
                text += "\n" + sec
        path.write_text(text)
    else:
        path.write_text(header + "\n".join(sections))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
