"""Offline keyword clustering: TF-IDF (word 1-2 grams + character 3-5 grams) and agglomerative
clustering with a distance threshold, after first matching keywords to the site's existing
clusters so that batching does not split a topic.

Deterministic: inputs are sorted before use, and nothing random is involved (no seeds needed).

Algorithm, per batch:
1. Normalise each keyword: lowercase, punctuation dropped, generic search modifiers and
   English stop words removed ("best", "how to", "near me", "for beginners"...), plurals folded.
   Modifiers say what kind of page a searcher wants, not what the page is about.
2. Vectorise the batch together with the member keywords of the existing clusters: a word TF-IDF
   and a character (char_wb) TF-IDF, each L2-normalised, concatenated with weights so that the
   cosine of two vectors is ``w * cos_word + (1 - w) * cos_char``.
3. Existing clusters: centroid = normalised mean of its members. A new keyword whose cosine to
   the best centroid reaches ``assign_threshold`` joins that cluster.
4. The rest: average-linkage agglomerative clustering on cosine distance, cut at
   ``distance_threshold`` (no fixed number of clusters).
5. A newly formed cluster whose centroid reaches ``merge_threshold`` against an existing
   centroid joins that existing cluster instead of creating a near-duplicate.
6. Each new cluster is named after its most central keyword (highest cosine to the centroid).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import AgglomerativeClustering
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

from igny8_app.ai.base import ClusterOut, ClusterRef, KeywordIn


@dataclass(frozen=True)
class ClusterParams:
    word_weight: float = 0.5  # share of the word features in the combined cosine
    distance_threshold: float = 0.85  # average-linkage cosine distance cut
    assign_threshold: float = 0.30  # keyword -> existing centroid cosine to join it
    merge_threshold: float = 0.30  # new cluster centroid -> existing centroid cosine to merge


DEFAULT_PARAMS = ClusterParams()

# Generic search modifiers: they describe the searcher's intent or the page format, not the topic.
MODIFIERS = frozenset("""
best top cheap cheapest affordable good great easy simple quick free review reviews guide guides
tip tips idea ideas beginner beginners step steps list checklist near me vs versus compare
comparison price prices cost costs how what why when where which who does do can should worth
need needs make way ways use using used get 2023 2024 2025 2026 today online home
""".split())
STOP = frozenset(ENGLISH_STOP_WORDS) | MODIFIERS
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


def _fold(word: str) -> str:
    """Very light plural folding (panels -> panel, batteries -> battery)."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def normalise(text: str) -> str:
    words = [w for w in _NON_WORD.sub(" ", text.casefold()).replace("_", " ").split() if w]
    kept = [_fold(w) for w in words if w not in STOP]
    if not kept:  # a keyword made only of modifiers keeps its words
        kept = [_fold(w) for w in words]
    return " ".join(kept)


def _vectorise(texts: list[str], word_weight: float) -> np.ndarray:
    """Rows are L2-normalised; row_i . row_j = w*cos_word + (1-w)*cos_char."""
    word = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b")
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
    parts = []
    for vec, weight in ((word, word_weight), (char, 1.0 - word_weight)):
        try:
            m = vec.fit_transform(texts).toarray()
        except ValueError:  # empty vocabulary (e.g. only one-letter tokens)
            m = np.zeros((len(texts), 1))
        parts.append(m * np.sqrt(weight))
    return _unit(np.hstack(parts))


def _unit(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=-1, keepdims=True)
    norms[norms == 0] = 1.0
    return m / norms


def _central(indices: list[int], vectors: np.ndarray, texts: list[str]) -> int:
    """Index (from ``indices``) of the member closest to the group's centroid; ties: shorter, then
    alphabetical."""
    centroid = _unit(vectors[indices].mean(axis=0))
    sims = vectors[indices] @ centroid
    return min(range(len(indices)),
               key=lambda k: (-round(float(sims[k]), 9), len(texts[indices[k]]), texts[indices[k]]))


def describe(name: str, members: list[str], volume: int) -> str:
    others = [m for m in members if m != name][:3]
    if others:
        quoted = ", ".join(f"“{m}”" for m in others)
        also = f" It also covers {quoted}" + (" and more" if len(members) > len(others) + 1 else "") + "."
    else:
        also = ""
    kw = "keyword" if len(members) == 1 else "keywords"
    return (f"Search topic “{name}”: {len(members)} {kw} with a combined monthly volume of "
            f"{volume:,}.{also}")


def cluster_keywords(keywords: list[KeywordIn], existing: list[ClusterRef],
                     params: ClusterParams = DEFAULT_PARAMS) -> list[ClusterOut]:
    """Group ``keywords`` (joining ``existing`` clusters where they fit). Every keyword id appears
    in exactly one output. Output order: existing-cluster assignments by cluster id, then new
    clusters by name."""
    kws = sorted(keywords, key=lambda k: (k.keyword.casefold(), k.id))
    if not kws:
        return []
    refs = sorted((r for r in existing if r.keywords), key=lambda r: r.id)
    ref_members = [m for r in refs for m in r.keywords]
    texts = [normalise(k.keyword) for k in kws]
    vectors = _vectorise(texts + [normalise(m) for m in ref_members], params.word_weight)
    new_vecs = vectors[: len(kws)]

    assigned: dict[int, list[int]] = {}  # existing cluster position -> keyword indices
    remaining = list(range(len(kws)))
    centroids = np.zeros((0, new_vecs.shape[1]))
    if refs:
        bounds = np.cumsum([0] + [len(r.keywords) for r in refs])
        member_vecs = vectors[len(kws):]
        centroids = _unit(np.stack([member_vecs[a:b].mean(axis=0) for a, b in zip(bounds[:-1], bounds[1:])]))
        sims = new_vecs @ centroids.T
        remaining = []
        for i in range(len(kws)):
            best = int(np.argmax(sims[i]))
            if sims[i, best] >= params.assign_threshold:
                assigned.setdefault(best, []).append(i)
            else:
                remaining.append(i)

    groups: list[list[int]] = []
    if len(remaining) == 1:
        groups = [remaining]
    elif len(remaining) > 1:
        sub = new_vecs[remaining]
        distance = np.clip(1.0 - sub @ sub.T, 0.0, 2.0)
        np.fill_diagonal(distance, 0.0)
        labels = AgglomerativeClustering(
            n_clusters=None, metric="precomputed", linkage="average",
            distance_threshold=params.distance_threshold,
        ).fit_predict(distance)
        by_label: dict[int, list[int]] = {}
        for pos, label in enumerate(labels):
            by_label.setdefault(int(label), []).append(remaining[pos])
        groups = list(by_label.values())

    new_groups: list[list[int]] = []
    for group in groups:
        if refs:
            sims = centroids @ _unit(new_vecs[group].mean(axis=0))
            best = int(np.argmax(sims))
            if sims[best] >= params.merge_threshold:
                assigned.setdefault(best, []).extend(group)
                continue
        new_groups.append(group)

    out: list[ClusterOut] = []
    for pos in sorted(assigned):
        ref = refs[pos]
        members = sorted(assigned[pos])
        out.append(ClusterOut(
            name=ref.name, description=ref.description,
            keyword_ids=tuple(kws[i].id for i in members),
            volume=sum(max(kws[i].volume, 0) for i in members),
            existing_cluster_id=ref.id,
        ))
    created: list[ClusterOut] = []
    for group in new_groups:
        members = sorted(group)
        centre = members[_central(members, new_vecs, [k.keyword for k in kws])]
        name = kws[centre].keyword.strip()
        volume = sum(max(kws[i].volume, 0) for i in members)
        ordered = [kws[centre].keyword] + [kws[i].keyword for i in members if i != centre]
        created.append(ClusterOut(
            name=name, description=describe(name, ordered, volume),
            keyword_ids=tuple(kws[i].id for i in members), volume=volume,
        ))
    created.sort(key=lambda c: (c.name.casefold(), c.keyword_ids))
    return out + created
