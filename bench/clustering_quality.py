"""Benchmark: quality of the offline keyword clustering, as a user gets it through stage 1.

    python bench/clustering_quality.py [--orders 5] [--seed 42] [--csv tests/data/labelled_keywords.csv]

Reads the labelled set (keyword,topic; 350 keywords, 14 topics, written for this test), shuffles
it (a fixed seed: keyword lists arrive in no particular order), and runs the real stage-1 function
``s1_clustering.cluster_batch`` with the offline provider:

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

from igny8_app.ai.base import ClusterRef, KeywordIn  # noqa: E402
from igny8_app.ai.offline import OfflineProvider  # noqa: E402
from igny8_app.pipeline.stages.s1_clustering import cluster_batch  # noqa: E402

DATA = ROOT / "tests" / "data" / "labelled_keywords.csv"
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--csv", type=Path, default=DATA)
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--orders", type=int, default=1, help="also report min/mean over N shuffles")
    args = ap.parse_args()
    rows = load(args.csv)
    topics = len({t for _, t in rows})
    print(f"$ python bench/clustering_quality.py {' '.join(sys.argv[1:])}".rstrip())
    print(f"{len(rows)} keywords, {topics} topics, shuffle seed {args.seed}\n")
    print(f"{'mode':<16} {'ARI':>6} {'clusters':>9} {'seconds':>8}")
    for use_context in (True, False):
        if not use_context:
            print("\nwithout context (engine passes no pending keywords):")
        for size in BATCH_SIZES:
            t0 = time.perf_counter()
            ari, n = score(rows, size, args.seed, use_context=use_context)
            mode = "all at once" if size is None else f"batches of {size}"
            print(f"{mode:<16} {ari:6.3f} {n:9d} {time.perf_counter() - t0:8.1f}")
    if args.orders > 1:
        print(f"\nover {args.orders} shuffles (seeds {args.seed}..{args.seed + args.orders - 1}), with context:")
        for size in BATCH_SIZES:
            aris = [score(rows, size, args.seed + k)[0] for k in range(args.orders)]
            mode = "all at once" if size is None else f"batches of {size}"
            print(f"{mode:<16} min {min(aris):.3f}  mean {statistics.mean(aris):.3f}  max {max(aris):.3f}")


if __name__ == "__main__":
    main()
