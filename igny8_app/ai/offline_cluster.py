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
    context_weight: float = 0.0  # share of second-order (neighbour profile) similarity
    context_floor: float = 0.0  # first-order similarities below this are ignored in profiles
    context_steps: int = 1
    context_knn: int = 0  # profiles keep only each item's k most similar items (0: scale*sqrt(n))
    context_knn_scale: float = 1.0


DEFAULT_PARAMS = ClusterParams()
#: At most this many member keywords of each existing cluster are used (the first ones given).
MAX_MEMBERS = 60
#: At most this many context keywords (the site's other pending keywords) are used.
MAX_CONTEXT = 2000

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


def _kernel(texts: list[str], params: ClusterParams) -> np.ndarray:
    """Cosine-similarity (Gram) matrix of ``texts``: ``w * cos_word + (1 - w) * cos_char``,
    optionally blended with second-order (neighbour-profile) similarity. Unit diagonal, PSD."""
    n = len(texts)
    kernel = np.zeros((n, n))
    word = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b")
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
    for vec, weight in ((word, params.word_weight), (char, 1.0 - params.word_weight)):
        try:
            m = vec.fit_transform(texts)  # sparse, rows L2-normalised
        except ValueError:  # empty vocabulary (e.g. only one-letter tokens)
            continue
        kernel += weight * (m @ m.T).toarray()
    kernel = _normalise_kernel(kernel)
    for _ in range(params.context_steps if params.context_weight > 0 else 0):
        profile = np.where(kernel >= params.context_floor, kernel, 0.0)
        knn = params.context_knn or max(2, round(params.context_knn_scale * np.sqrt(n)))
        if knn < n:
            drop = np.argsort(-profile, axis=1, kind="stable")[:, knn:]
            np.put_along_axis(profile, drop, 0.0, axis=1)
        norms = np.linalg.norm(profile, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        profile = profile / norms
        kernel = (1 - params.context_weight) * kernel + params.context_weight * (profile @ profile.T)
        kernel = _normalise_kernel(kernel)
    return kernel


def _normalise_kernel(kernel: np.ndarray) -> np.ndarray:
    """Rescale so every item has unit self-similarity (an all-empty text keeps similarity 0)."""
    diag = np.sqrt(np.clip(np.diag(kernel), 0.0, None))
    diag[diag == 0] = 1.0
    out = kernel / diag[:, None] / diag[None, :]
    np.fill_diagonal(out, 1.0)
    return out


def _central(indices: list[int], kernel: np.ndarray, texts: list[str]) -> int:
    """The member of ``indices`` closest to their centroid; ties: shorter, then alphabetical."""
    scores = kernel[np.ix_(indices, indices)].sum(axis=1)
    return min(indices, key=lambda i: (-round(float(scores[indices.index(i)]), 9), len(texts[i]), texts[i]))


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
                     params: ClusterParams = DEFAULT_PARAMS, context: list[str] | tuple[str, ...] = ()
                     ) -> list[ClusterOut]:
    """Group ``keywords`` (joining ``existing`` clusters where they fit). Every keyword id appears
    in exactly one output. Output order: existing-cluster assignments by cluster id, then new
    clusters by name."""
    kws = sorted(keywords, key=lambda k: (k.keyword.casefold(), k.id))
    if not kws:
        return []
    refs = sorted((r for r in existing if r.keywords), key=lambda r: r.id)
    members: list[list[int]] = []  # per ref: kernel indices of its member texts
    texts = [normalise(k.keyword) for k in kws]
    for ref in refs:
        start = len(texts)
        texts += [normalise(m) for m in ref.keywords[:MAX_MEMBERS]]
        members.append(list(range(start, len(texts))))
    n = len(kws)
    n_known = len(texts)
    texts += [normalise(c) for c in context[:MAX_CONTEXT]]
    kernel = _kernel(texts, params)[:n_known, :n_known]

    assigned: dict[int, list[int]] = {}  # ref position -> keyword indices
    remaining = list(range(n))
    if refs:
        onehot = np.zeros((n_known, len(refs)))
        for pos, m in enumerate(members):
            onehot[m, pos] = 1.0
        to_members = kernel @ onehot  # item x cluster: sum of similarities to its members
        self_sums = np.maximum((onehot * to_members).sum(axis=0), 1e-12)
        centroid_cos = to_members[:n] / np.sqrt(self_sums)[None, :]
        remaining = []
        for i in range(n):
            best = int(np.argmax(centroid_cos[i]))
            if centroid_cos[i, best] >= params.assign_threshold:
                assigned.setdefault(best, []).append(i)
            else:
                remaining.append(i)

    groups: list[list[int]] = []
    if len(remaining) == 1:
        groups = [remaining]
    elif len(remaining) > 1:
        distance = np.clip(1.0 - kernel[np.ix_(remaining, remaining)], 0.0, 2.0)
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
            group_sum = max(kernel[np.ix_(group, group)].sum(), 1e-12)
            sims = to_members[group].sum(axis=0) / np.sqrt(self_sums * group_sum)
            best = int(np.argmax(sims))
            if sims[best] >= params.merge_threshold:
                assigned.setdefault(best, []).extend(group)
                continue
        new_groups.append(group)

    raw = [k.keyword for k in kws]
    out: list[ClusterOut] = []
    for pos in sorted(assigned):
        ref = refs[pos]
        idx = sorted(assigned[pos])
        out.append(ClusterOut(
            name=ref.name, description=ref.description,
            keyword_ids=tuple(kws[i].id for i in idx),
            volume=sum(max(kws[i].volume, 0) for i in idx),
            existing_cluster_id=ref.id,
        ))
    created: list[ClusterOut] = []
    for group in new_groups:
        idx = sorted(group)
        centre = _central(idx, kernel, raw)
        name = raw[centre].strip()
        volume = sum(max(kws[i].volume, 0) for i in idx)
        ordered = [raw[centre]] + [raw[i] for i in idx if i != centre]
        created.append(ClusterOut(
            name=name, description=describe(name, ordered, volume),
            keyword_ids=tuple(kws[i].id for i in idx), volume=volume,
        ))
    created.sort(key=lambda c: (c.name.casefold(), c.keyword_ids))
    return out + created
