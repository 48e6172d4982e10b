"""Benchmark: quality of the offline keyword clustering, as a user gets it through stage 1.

    python bench/clustering_quality.py [--orders 5] [--seed 42] [--csv PATH ...]

Scores two labelled sets (keyword,topic), one after the other:

* ``tests/data/labelled_keywords.csv`` (350 keywords, 14 topics): the set the offline clustering's
  thresholds were TUNED on, so its score is optimistic;
* ``tests/data/heldout_keywords.csv`` (250 keywords, 10 other topics: cat care, plumbing,
  strength training, beekeeping, photography, guitar, bicycles, woodworking, income tax,
  skincare): HELD OUT, written after the tuning and never used to change a threshold. Its score
  is the one to expect on keywords nobody tuned for.

Each set is shuffled (a fixed seed: keyword lists arrive in no particular order) and run through
the real stage-1 function ``s1_clustering.cluster_batch`` with the offline provider:

* all at once (one batch holding every keyword);
* batch size 20 (the default ``stage_1_batch_size``) and 50, each batch receiving the clusters
  formed so far as ``existing`` and the texts of the still-pending keywords as ``context``,
  exactly as the engine calls it.

It prints the adjusted Rand index (sklearn.metrics.adjusted_rand_score) against the topic labels
and the number of clusters formed, then the same without ``context`` (an engine that passes none),
and with ``--orders N`` the min/mean over N shuffles. The labels are used only for scoring.
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sklearn.metrics import adjusted_rand_score  # noqa: E402

from bench._results import emit, row, verdict  # noqa: E402
from igny8_app.ai.base import ClusterRef, KeywordIn  # noqa: E402
from igny8_app.ai.offline import OfflineProvider  # noqa: E402
from igny8_app.pipeline.stages.s1_clustering import cluster_batch  # noqa: E402

DATA = ROOT / "tests" / "data" / "labelled_keywords.csv"  # the thresholds were tuned on this set
HELDOUT = ROOT / "tests" / "data" / "heldout_keywords.csv"  # never tuned on: report, do not tune
SETS = {DATA: ("ari_tuned", "tuned-on set"), HELDOUT: ("ari_heldout", "held-out set")}
TARGET_ARI = 0.8
DEFAULT_SEED = 42
BATCH_SIZES = (None, 20, 50)  # None: all at once


def load(path: Path = DATA) -> list[tuple[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [(row["keyword"], row["topic"]) for row in csv.DictReader(fh)]


def run_stage1(keywords: list[KeywordIn], batch_size: int | None, *, use_context: bool = True
               ) -> dict[int, int]:
    """Feed ``keywords`` (in order) through stage 1 batch after batch, like the engine does.
    Returns keyword id -> cluster id."""
    provider = OfflineProvider()
    size = batch_size or len(keywords)
    clusters: dict[int, dict] = {}  # id -> {"name", "description", "members": [texts], "ids": [...]}
    label: dict[int, int] = {}
    next_id = 1
    for start in range(0, len(keywords), size):
        batch = keywords[start:start + size]
        pending = keywords[start + size:]
        existing = [ClusterRef(id=cid, name=c["name"], keywords=tuple(c["members"]),
                               description=c["description"]) for cid, c in clusters.items()]
        result = cluster_batch(batch, existing, provider, total_new=len(keywords) - start,
                               context=[k.keyword for k in pending] if use_context else ())
        assert not result.skipped, result.skip_reason
        text = {k.id: k.keyword for k in batch}
        for join in result.joins:
            c = clusters[join.cluster_id]
            c["members"] += [text[i] for i in join.keyword_ids]
            c["name"], c["description"] = join.suggested_name, join.suggested_description  # still 'new'
            label.update({i: join.cluster_id for i in join.keyword_ids})
        for new in result.new_clusters:
            clusters[next_id] = {"name": new.name, "description": new.description,
                                 "members": [text[i] for i in new.keyword_ids]}
            label.update({i: next_id for i in new.keyword_ids})
            next_id += 1
    return label


def score(rows: list[tuple[str, str]], batch_size: int | None, seed: int, *, use_context: bool = True
          ) -> tuple[float, int]:
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    keywords = [KeywordIn(id=i + 1, keyword=rows[i][0]) for i in order]
    label = run_stage1(keywords, batch_size, use_context=use_context)
    ids = sorted(label)
    ari = adjusted_rand_score([rows[i - 1][1] for i in ids], [label[i] for i in ids])
    return ari, len(set(label.values()))


def report(path: Path, seed: int, orders: int) -> dict:
    rows = load(path)
    topics = len({t for _, t in rows})
    label = SETS.get(path, (None, "labelled set"))[1]
    print(f"{label}: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {len(rows)} keywords, "
          f"{topics} topics, shuffle seed {seed}\n")
    print(f"{'mode':<16} {'ARI':>6} {'clusters':>9} {'seconds':>8}")
    out: dict = {"keywords": len(rows), "topics": topics, "with_context": {}, "without_context": {}, "orders": {},
                 "n_orders": orders if orders > 1 else 0}
    for use_context in (True, False):
        if not use_context:
            print("\nwithout context (engine passes no pending keywords):")
        for size in BATCH_SIZES:
            t0 = time.perf_counter()
            ari, n = score(rows, size, seed, use_context=use_context)
            mode = "all at once" if size is None else f"batches of {size}"
            out["with_context" if use_context else "without_context"][mode] = {"ari": ari, "clusters": n}
            print(f"{mode:<16} {ari:6.3f} {n:9d} {time.perf_counter() - t0:8.1f}")
    if orders > 1:
        print(f"\nover {orders} shuffles (seeds {seed}..{seed + orders - 1}), with context:")
        for size in BATCH_SIZES:
            aris = [score(rows, size, seed + k)[0] for k in range(orders)]
            mode = "all at once" if size is None else f"batches of {size}"
            out["orders"][mode] = {"min": min(aris), "mean": statistics.mean(aris), "max": max(aris)}
            print(f"{mode:<16} min {min(aris):.3f}  mean {statistics.mean(aris):.3f}  max {max(aris):.3f}")
    return out


def target_row(path: Path, res: dict) -> dict | None:
    if path not in SETS:
        return None
    aris = {m: v["ari"] for m, v in res["with_context"].items()}
    measured = (f"{' / '.join(f'{a:.3f}' for a in aris.values())} ({' / '.join(aris)}, with context; "
                f"{res['keywords']} keywords, {res['topics']} topics")
    if res["orders"]:
        measured += (f"; lowest over {res['n_orders']} shuffles "
                     f"{min(v['min'] for v in res['orders'].values()):.3f}")
    return row(SETS[path][0], measured=measured + ")", verdict=verdict(min(aris.values()) >= TARGET_ARI))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--csv", type=Path, nargs="+", default=[DATA, HELDOUT], help="labelled sets to score")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--orders", type=int, default=1, help="also report min/mean/max over N shuffles")
    args = ap.parse_args()
    print(f"$ python bench/clustering_quality.py {' '.join(sys.argv[1:])}".rstrip())
    results, targets = {}, []
    for k, path in enumerate(p.resolve() for p in args.csv):
        if k:
            print()
        results[str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)] = res = \
            report(path, args.seed, args.orders)
        if (t := target_row(path, res)) is not None:
            targets.append(t)
    emit({"seed": args.seed, "orders": args.orders, "sets": results}, targets)


if __name__ == "__main__":
    main()
