"""The held-out labelled keyword set: big enough, other topics than the set the clustering was
tuned on, and scored by bench/clustering_quality.py next to the tuned-on set by default."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TUNED = ROOT / "tests" / "data" / "labelled_keywords.csv"
HELDOUT = ROOT / "tests" / "data" / "heldout_keywords.csv"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == ["keyword", "topic"]
        return list(reader)


def test_heldout_set_has_at_least_200_unique_keywords_in_topics_absent_from_the_tuned_set():
    held, tuned = _rows(HELDOUT), _rows(TUNED)
    assert len(held) >= 200
    assert len({r["keyword"] for r in held}) == len(held)
    held_topics = {r["topic"] for r in held}
    assert len(held_topics) >= 8
    assert not held_topics & {r["topic"] for r in tuned}
    assert not {r["keyword"] for r in held} & {r["keyword"] for r in tuned}
    assert all(r["keyword"].strip() and r["topic"].strip() for r in held)


def test_clustering_benchmark_scores_both_sets_by_default():
    spec = importlib.util.spec_from_file_location("clustering_quality", ROOT / "bench" / "clustering_quality.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert set(mod.SETS) == {TUNED, HELDOUT}
    assert {v[0] for v in mod.SETS.values()} == {"ari_tuned", "ari_heldout"}
    assert len(mod.load(HELDOUT)) >= 200
