"""Offline keyword clustering: TF-IDF (word 1-2 grams + character 3-5 grams), a neighbourhood
(diffusion) similarity, and average-linkage agglomerative clustering with a distance threshold,
after first matching each keyword to the site's existing clusters so batching does not split a
topic. Deterministic: inputs are sorted, nothing random is involved (no seeds needed).

Per call (one stage-1 batch):
1. Normalise each keyword: casefolded, punctuation, digits, English stop words and generic search
   modifiers dropped ("best", "how long", "near me", "for beginners", "calculator"...), plurals
   folded. Modifiers say what kind of page a searcher wants, not what it is about.
2. Texts = the batch + members of the existing clusters + ``context`` (the site's other pending
   keywords, used only as evidence, never clustered here). First-order similarity:
   ``w * cos(word TF-IDF) + (1 - w) * cos(char TF-IDF)``.
3. Diffusion, ``context_steps`` times: each item's profile = its similarities to its k nearest
   items (k = 1.3 * sqrt(n); first-order cosines under ``context_floor`` dropped); similarity =
   cosine of profiles. Two keywords that share no word but share neighbours ("banneton
   proofing basket" and "sourdough starter recipe" both near "sourdough proofing") become
   similar; isolated keywords stay isolated. This is what lets batches of 20 find their topics.
4. Existing clusters first: a keyword whose similarity to an existing cluster's centroid reaches
   ``assign_threshold`` joins the best one.
5. The rest: agglomerative clustering (average linkage, precomputed 1 - similarity, cut at
   ``distance_threshold``; no fixed number of clusters). A new group whose centroid reaches
   ``merge_threshold`` against an existing cluster joins it instead.
6. A new cluster is named after its most central keyword (highest similarity to the centroid).

The thresholds were tuned with bench/clustering_quality.py (adjusted Rand index on
tests/data/labelled_keywords.csv); no labels are used here.
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
    """Thresholds, tuned on tests/data/labelled_keywords.csv by bench/clustering_quality.py."""

    word_weight: float = 0.5  # share of word (vs character) features in the first-order cosine
    context_weight: float = 1.0  # share of neighbour-profile (diffused) similarity in the kernel
    context_steps: int = 4  # diffusion steps
    context_floor: float = 0.1  # first-order cosines below this are no evidence of relatedness
    context_knn: int = 0  # neighbours kept per item in a profile; 0: context_knn_scale * sqrt(n)
    context_knn_scale: float = 1.3
    distance_threshold: float = 0.90  # average-linkage cut (1 - kernel similarity)
    assign_threshold: float = 0.30  # keyword -> existing cluster centroid similarity to join it
    merge_threshold: float = 0.22  # new group -> existing cluster centroid similarity to merge


DEFAULT_PARAMS = ClusterParams()
#: Member keywords used per existing cluster (the first ones given): at most MAX_MEMBERS, fewer
#: when there are many clusters so that all members together stay near MAX_EXISTING_TEXTS (but
#: never fewer than 3). Bounds the kernel size, hence the time of a call (~1.5 s at 1,200 texts).
MAX_MEMBERS = 40
MAX_EXISTING_TEXTS = 600
#: At most this many context keywords (the site's other pending keywords) are used.
MAX_CONTEXT = 600

# Generic search modifiers: they describe the searcher's intent or the page format, not the topic.
MODIFIERS = frozenset("""
best top cheap cheapest affordable good great easy simple quick free review reviews guide guides
tip tips trick tricks idea ideas example examples beginner beginners step steps list checklist
template templates chart calculator explained explain meaning definition pdf near me vs versus
compare comparison price prices cost costs how what why when where which who does do can should
worth need needs make way ways use using used get today online home
""".split())
STOP = frozenset(ENGLISH_STOP_WORDS) | MODIFIERS
# Question phrases whose second word would otherwise look topical ("how long", "how much").
_QUESTION = re.compile(r"\bhow (long|much|many|often|soon|far|big|old)\b")
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


def _fold(word: str) -> str:
    """Very light plural folding (panels -> panel, batteries -> battery)."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def normalise(text: str) -> str:
    words = _QUESTION.sub(" ", _NON_WORD.sub(" ", text.casefold()).replace("_", " ")).split()
    kept = [_fold(w) for w in words if w not in STOP and not w.isdigit()]
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
    for step in range(params.context_steps if params.context_weight > 0 else 0):
        profile = np.where(kernel >= (params.context_floor if step == 0 else 0.0), kernel, 0.0)
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


def describe(name: str, members: list[str], volume: int, *, total: int | None = None) -> str:
    """One sentence about a cluster: its name, size, volume and a few other members."""
    total = len(members) if total is None else total
    others = [m for m in dict.fromkeys(members) if m != name][:3]
    also = ""
    if others:
        quoted = ", ".join(f"“{m}”" for m in others)
        also = f" It also covers {quoted}" + (" and more" if total > len(others) + 1 else "") + "."
    kw = "keyword" if total == 1 else "keywords"
    return f"Search topic “{name}”: {total} {kw} with a combined monthly volume of {volume:,}.{also}"


def cluster_keywords(keywords: list[KeywordIn], existing: list[ClusterRef],
                     params: ClusterParams = DEFAULT_PARAMS, context: list[str] | tuple[str, ...] = ()
                     ) -> list[ClusterOut]:
    """Group ``keywords`` (joining ``existing`` clusters where they fit). Every keyword id appears
    in exactly one output. Output order: existing-cluster assignments by cluster id, then new
    clusters by name."""
    kws = sorted(keywords, key=lambda k: (k.keyword.casefold(), k.id))
    if not kws:
        return []
    batch_texts = {k.keyword.casefold().strip() for k in kws}
    context = sorted({c for c in context if c.casefold().strip() not in batch_texts},
                     key=lambda c: (c.casefold(), c))
    refs = sorted((r for r in existing if r.keywords), key=lambda r: r.id)
    members: list[list[int]] = []  # per ref: kernel indices of its member texts
    texts = [normalise(k.keyword) for k in kws]
    per_ref = max(3, min(MAX_MEMBERS, MAX_EXISTING_TEXTS // max(len(refs), 1)))
    for ref in refs:
        start = len(texts)
        texts += [normalise(m) for m in ref.keywords[:per_ref]]
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
    member_raw = [m for ref in refs for m in ref.keywords[:per_ref]]
    out: list[ClusterOut] = []
    for pos in sorted(assigned):
        ref = refs[pos]
        idx = sorted(assigned[pos])
        volume = sum(max(kws[i].volume, 0) for i in idx)
        # Suggested name over the (known) membership including the newcomers.
        everyone = idx + members[pos]
        labels_ = raw + member_raw
        centre = _central(everyone, kernel, labels_)
        name = labels_[centre].strip()
        ordered = [labels_[centre]] + [labels_[i] for i in everyone if i != centre]
        total = len(ref.keywords) + len(idx)
        out.append(ClusterOut(
            name=name,
            description=describe(name, ordered, max(ref.volume, 0) + volume, total=total),
            keyword_ids=tuple(kws[i].id for i in idx), volume=volume, existing_cluster_id=ref.id,
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
