"""Stage 2: Clusters → Ideas (1-3 per cluster, by intent)."""

from __future__ import annotations

from typing import Any

from igny8_app.ai.base import AIProvider, ClusterIn, IdeaOut, ProviderResult

MAX_IDEAS = 3


def inputs(cluster_row: Any, keywords: list[str]) -> ClusterIn:
    return ClusterIn(id=cluster_row.id, name=cluster_row.name, description=cluster_row.description,
                     keywords=tuple(keywords), volume=cluster_row.volume)


def run(data: ClusterIn, provider: AIProvider) -> ProviderResult[list[IdeaOut]]:
    result = provider.generate_ideas(data, MAX_IDEAS)
    if not 1 <= len(result.value) <= MAX_IDEAS:
        from igny8_app.ai.base import ProviderError

        raise ProviderError(f"expected 1-{MAX_IDEAS} ideas, got {len(result.value)}", retryable=True)
    return result
