"""Run the benchmarks, store each one's results, and render BENCHMARKS.md from the stored results.

    python bench/run_all.py [--quick] [--only NAME[,NAME...]] [--render] [--out BENCHMARKS.md]

Each benchmark writes its figures and target rows as JSON (``bench/_results.py``); this script adds
the command, the verbatim output, the date, the commit and the load average before and after, and
stores the record in ``bench/results/<name>.json`` (committed). BENCHMARKS.md -- every section and
the "Targets: met and missed" table -- is then rendered from the stored records only
(``bench/_report.py``): ``--only X`` reruns X and the other sections keep their own last stored
results and dates; a registered target whose benchmark has no stored result reads "not measured".
``--render`` runs nothing and only renders.

``--quick`` uses small sizes (a smoke run, minutes) and keeps its records and document under
``data/bench-quick/`` (git-ignored), so it never replaces measured figures. The default sizes are
the ones BENCHMARKS.md quotes (about 40 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._report import Bench, Target, render_document  # noqa: E402
from bench._results import RESULT_ENV  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
QUICK_DIR = REPO / "data" / "bench-quick"
OUTPUT_LINES = 80  # the last non-blank lines of a benchmark's output kept in its record

BENCHES = [
    Bench("pause_latency", "Pause and cancel: REST API call -> status paused/cancelled on 2 RQ workers, offline "
                           "provider at 200 ms per item. Target: p99 <= item time + 150 ms (350 ms).",
          ("bench/pause_latency.py",), ("bench/pause_latency.py", "--pauses", "8", "--cancels", "3",
                                        "--backend", "sqlite"),
          (Target("pause_p99", "Pause: REST call -> run `paused`, 2 RQ workers, 200 ms items",
                  "p99 <= item time + 150 ms (350 ms)"),
           Target("cancel_p99", "Cancel: REST call -> run `cancelled`", "p99 <= item time + 150 ms (350 ms)"))),
    Bench("push_latency", "Push: worker commit -> DOM change in headless Chromium (MutationObserver), one browser. "
                          "Target: p95 <= 100 ms. The first line counts the updates the page showed; the second "
                          "counts every commit until the page showed it or a later state (pushes are paced, so "
                          "bursts coalesce); the rest splits the time into server, wire and paint.",
          ("bench/push_latency.py", "--updates", "200"), ("bench/push_latency.py", "--updates", "40"),
          (Target("push_p95", "Push: worker commit -> DOM change, 1 browser", "p95 <= 100 ms"),)),
    Bench("push_latency_50", "Push with 50 browser contexts watching one site: pooled p95 and the backend's CPU. "
                             "All 50 pages render in one Chromium on the same 2 cores as the server and workers; "
                             "'pushed by the web process' is the server's share.",
          ("bench/push_latency.py", "--updates", "200", "--contexts", "50"),
          ("bench/push_latency.py", "--updates", "30", "--contexts", "5"),
          (Target("push_many_e2e", "Push with many browser contexts on one site: commit -> DOM", "p95 <= 100 ms"),
           Target("push_many_server", "Same, server share: commit -> pushed by the web process", "p95 <= 100 ms"))),
    Bench("pipeline_overhead", "5,000 keywords through six stages with a zero-cost provider: the full system (RQ, "
                               "DB, ledger, events, heartbeats) against a plain loop making the same writes, "
                               "interleaved (full and plain alternating, 5 pairs, in one database and one process "
                               "run). Target: full >= 0.5x plain on SQLite and PostgreSQL. Also the work horse's "
                               "RSS (must stay flat) and the offline provider's own throughput.",
          ("bench/pipeline_overhead.py", "--keywords", "5000", "--pairs", "5", "--offline"),
          ("bench/pipeline_overhead.py", "--keywords", "300", "--pairs", "2", "--offline"),
          (Target("overhead_ratio", "Pipeline: full system throughput / plain loop, per interleaved pair",
                  "median >= 0.5x on SQLite and PostgreSQL"),
           Target("horse_rss", "Work horse RSS over each full run", "flat: last sample <= 1.1x the half-way sample"))),
    Bench("scale_out", "4 sites at once with 1, 2 and 4 workers; a waiting (AI latency) and a CPU-bound workload.",
          ("bench/scale_out.py", "--keywords", "100"), ("bench/scale_out.py", "--keywords", "30", "--workers", "1,2"),
          (Target("scale_out", "Scale-out, 4 sites: speedup over 1 worker", "none set (reported)"),)),
    Bench("billing_usage", "1,000,000 ledger rows in one account: first page of usage history (target <= 50 ms) "
                           "and the CSV export's peak memory (target: flat, < 200 MB RSS).",
          ("bench/billing_usage.py", "--rows", "1000000"), ("bench/billing_usage.py", "--rows", "50000"),
          (Target("usage_first_page", "Usage history: first page (and page 100), median of 30",
                  "<= 50 ms at 1,000,000 rows"),
           Target("csv_export_rss", "CSV export of every row through its HTTP route: server RSS",
                  "peak < 200 MB"))),
    Bench("chaos", "Long chaos tier: 4 sites, 120 SIGKILLs of work horses, 2 Redis restarts, SQLite and PostgreSQL; "
                   "every invariant checked (exactly-once outputs and charges, reconciled ledger, no stuck lock).",
          ("bench/chaos.py",), ("bench/chaos.py", "--sites", "2", "--kills", "10", "--restarts", "1",
                                "--backend", "sqlite"),
          (Target("chaos_invariants", "Chaos: SIGKILLed work horses and Redis restarts, per backend",
                  ">= 100 kills and >= 1 Redis restart, every invariant holds"),)),
    Bench("scheduler_tick", "Scheduler: N sites due at once; 2 scheduler processes wait on one barrier and tick "
                            "at the same instant on the same due sites. Exactly one run or skip row per site and "
                            "due time; how many sites each process won.",
          ("bench/scheduler_tick.py",), ("bench/scheduler_tick.py", "--sites", "30"),
          (Target("scheduler_exactly_once", "Scheduler race: 2 processes released by one barrier on the same "
                                            "due sites", "exactly one run or skip row per site, both databases"),)),
    Bench("keywords_page", "Keywords page server time at 100,000 keywords in one site.",
          ("bench/keywords_page.py",), ("bench/keywords_page.py", "--rows", "10000"),
          (Target("keywords_page", "Keywords page server time at 100,000 keywords (median)", "none set (reported)"),)),
    Bench("clustering_quality", "Offline clustering quality (adjusted Rand index) through stage 1, on the labelled "
                                "set its thresholds were tuned on and on a held-out labelled set of other topics "
                                "(never used for tuning). Target: ARI >= 0.8.",
          ("bench/clustering_quality.py",), ("bench/clustering_quality.py", "--orders", "2"),
          (Target("ari_tuned", "Clustering ARI, labelled set the thresholds were tuned on",
                  ">= 0.8 all at once and in batches of 20 and 50"),
           Target("ari_heldout", "Clustering ARI, held-out labelled set (other topics, not tuned on)",
                  ">= 0.8 all at once and in batches of 20 and 50"))),
    Bench("estimate_accuracy", "The estimate shown before a run against the credits the run then uses (offline "
                               "provider, each run to completion in the engine's own loop): the demo site and a "
                               "freshly imported set, each a first run and a second run of new keywords. "
                               "Target: within ±20% in every case.",
          ("bench/estimate_accuracy.py",), ("bench/estimate_accuracy.py",),
          (Target("estimate_error", "Estimate before a run vs credits the run used, per case",
                  "within ±20% in every case"),)),
]


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def commit() -> str:
    """The checkout's commit, '-dirty' if code differs from it (results and the document aside)."""
    def git(*a: str) -> str:
        return subprocess.run(["git", *a], cwd=REPO, capture_output=True, text=True).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", ".", ":!bench/results", ":!BENCHMARKS.md")
    return head + ("-dirty" if dirty else "")


def run_one(bench: Bench, quick: bool) -> dict:
    cmd = [sys.executable, *(bench.quick if quick else bench.full)]
    shown = "python " + " ".join(cmd[1:])
    print(f"== {bench.name}: {shown}", flush=True)
    with tempfile.TemporaryDirectory(prefix="igny8-bench-result-") as tmp:
        result_file = Path(tmp) / "result.json"
        env = dict(os.environ, PYTHONUNBUFFERED="1", **{RESULT_ENV: str(result_file)})
        before, started, t0 = load(), datetime.now(timezone.utc), time.monotonic()
        proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
        took = time.monotonic() - t0
        emitted = json.loads(result_file.read_text()) if result_file.exists() else {}
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    rec = {"benchmark": bench.name, "command": shown, "quick": quick,
           "measured_at": f"{started:%Y-%m-%d %H:%M} UTC", "commit": commit(), "took_s": round(took, 1),
           "load_before": before, "load_after": load(), "cores": os.cpu_count(),
           "python": platform.python_version(), "platform": platform.platform(),
           "exit_code": proc.returncode, "output": "\n".join(lines[-OUTPUT_LINES:]),
           "figures": emitted.get("figures", {}), "targets": emitted.get("targets", [])}
    if proc.returncode:
        rec["stderr_tail"] = proc.stderr[-3000:]
    print(rec["output"] + (f"\n(exit code {proc.returncode})\n{proc.stderr[-3000:]}" if proc.returncode else ""),
          flush=True)
    return rec


def load_records(results_dir: Path) -> dict[str, dict]:
    out = {}
    for b in BENCHES:
        path = results_dir / f"{b.name}.json"
        if path.exists():
            out[b.name] = json.loads(path.read_text(encoding="utf-8"))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smoke-run sizes; results under data/bench-quick/")
    ap.add_argument("--only", default="", help="comma-separated benchmark names to run")
    ap.add_argument("--render", action="store_true", help="run nothing; render the document from stored results")
    ap.add_argument("--out", default=None, help="the document (default BENCHMARKS.md; quick: data/bench-quick/)")
    ap.add_argument("--results-dir", default=None, help="where records are stored (default bench/results)")
    args = ap.parse_args()
    names = {b.name for b in BENCHES}
    only = {x for x in args.only.split(",") if x}
    if only - names:
        sys.exit(f"unknown benchmark(s): {', '.join(sorted(only - names))}; "
                 f"known: {', '.join(b.name for b in BENCHES)}")
    results_dir = Path(args.results_dir) if args.results_dir else (QUICK_DIR / "results" if args.quick else RESULTS)
    out = Path(args.out) if args.out else (QUICK_DIR / "BENCHMARKS.md" if args.quick else REPO / "BENCHMARKS.md")
    results_dir.mkdir(parents=True, exist_ok=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not args.render:
        for b in BENCHES:
            if only and b.name not in only:
                continue
            rec = run_one(b, args.quick)
            (results_dir / f"{b.name}.json").write_text(json.dumps(rec, indent=1, ensure_ascii=False) + "\n",
                                                       encoding="utf-8")
    try:
        shown_dir = str(results_dir.resolve().relative_to(REPO))
    except ValueError:
        shown_dir = str(results_dir)
    doc = render_document(BENCHES, load_records(results_dir),
                          rendered_at=f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC",
                          results_dir=shown_dir, command="python bench/run_all.py" + (" --quick" if args.quick else ""))
    out.write_text(doc, encoding="utf-8")
    print(f"wrote {out} from {shown_dir}/")


if __name__ == "__main__":
    main()
