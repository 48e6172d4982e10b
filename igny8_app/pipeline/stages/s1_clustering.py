"""Stage 1: Keywords → Clusters (batched; new keywords join existing clusters first)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from igny8_app.ai.base import AIProvider, ClusterOut, ClusterRef, KeywordIn, ProviderResult


@dataclass(frozen=True)
class ClusteringInput:
    keywords: tuple[KeywordIn, ...]
    existing: tuple[ClusterRef, ...]


def inputs(keyword_rows: list[Any], existing: list[ClusterRef]) -> ClusteringInput:
    return ClusteringInput(
        tuple(KeywordIn(id=k.id, keyword=k.keyword, volume=k.volume, difficulty=k.difficulty, intent=k.intent)
              for k in keyword_rows),
        tuple(existing),
    )


def run(data: ClusteringInput, provider: AIProvider) -> ProviderResult[list[ClusterOut]]:
    result = provider.cluster_keywords(list(data.keywords), list(data.existing))
    ids = {k.id for k in data.keywords}
    seen = [i for c in result.value for i in c.keyword_ids]
    if sorted(seen) != sorted(ids):  # every keyword exactly once: anything else is a provider bug
        from igny8_app.ai.base import ProviderError

        raise ProviderError("clustering output does not cover every keyword exactly once", retryable=True)
    return result
