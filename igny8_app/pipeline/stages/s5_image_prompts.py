"""Stage 5: Content → Image prompts (one featured + N in-article)."""

from __future__ import annotations

from typing import Any

from igny8_app.ai.base import AIProvider, ContentIn, ImagePromptOut, ProviderError, ProviderResult


def inputs(content_row: Any) -> ContentIn:
    return ContentIn(id=content_row.id, title=content_row.title, html=content_row.html,
                     meta_description=content_row.meta_description)


def run(data: ContentIn, provider: AIProvider, *, in_article: int) -> ProviderResult[list[ImagePromptOut]]:
    result = provider.image_prompts(data, in_article)
    positions = [p.position for p in result.value]
    if len(set(positions)) != len(positions) or sum(p.image_type == "featured" for p in result.value) != 1:
        raise ProviderError("image prompts need one featured prompt and unique positions", retryable=True)
    return result
