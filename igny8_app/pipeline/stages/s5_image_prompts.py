"""Stage 5, Content → Image prompts (AI, one content item per item): one featured prompt
(position 0) and ``in_article`` in-article prompts (positions 1..N), to be saved as ``pending``
Image rows (unique per (content, position)).

Checked: a featured prompt is required (else a retryable ProviderError); in-article prompts
beyond N are dropped and positions renumbered 1..n; empty prompts are dropped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from igny8_app.ai.base import AIProvider, ContentIn, ImagePromptOut, ProviderError, ProviderResult
from igny8_app.domain.costs import StageEstimate, Usage, spread
from igny8_app.domain.enums import ImageType

MAX_IN_ARTICLE = 10
PROMPT_MAX = 4000


@dataclass(frozen=True)
class ImagePromptWrite:
    image_type: str  # featured / in_article
    position: int
    prompt: str


@dataclass(frozen=True)
class Stage5Result:
    content_id: int
    prompts: tuple[ImagePromptWrite, ...]
    usage: Usage


def make_image_prompts(content: ContentIn, provider: AIProvider, *, in_article: int) -> Stage5Result:
    in_article = max(0, min(in_article, MAX_IN_ARTICLE))
    result = provider.image_prompts(content, in_article)
    prompts = [p for p in (result.value or []) if isinstance(p, ImagePromptOut) and p.prompt.strip()]
    featured = next((p for p in prompts if p.image_type == ImageType.FEATURED.value), None)
    if featured is None:
        raise ProviderError(f"No featured image prompt for content {content.id}", retryable=True)
    inner = sorted((p for p in prompts if p.image_type == ImageType.IN_ARTICLE.value),
                   key=lambda p: p.position)[:in_article]
    out = [ImagePromptWrite(ImageType.FEATURED.value, 0, featured.prompt.strip()[:PROMPT_MAX])]
    out += [ImagePromptWrite(ImageType.IN_ARTICLE.value, n, p.prompt.strip()[:PROMPT_MAX])
            for n, p in enumerate(inner, start=1)]
    return Stage5Result(content_id=content.id, prompts=tuple(out), usage=result.usage)


# --- the engine's adapter pair ------------------------------------------------------------------

def inputs(content_row: Any, keywords: tuple[str, ...] = ()) -> ContentIn:
    return ContentIn(id=content_row.id, title=content_row.title, html=content_row.html or "",
                     keywords=tuple(keywords), meta_description=content_row.meta_description or "")


def run(data: ContentIn, provider: AIProvider, *, in_article: int) -> ProviderResult[list[ImagePromptOut]]:
    res = make_image_prompts(data, provider, in_article=in_article)
    return ProviderResult([ImagePromptOut(p.image_type, p.position, p.prompt) for p in res.prompts], res.usage)


def estimate(contents: int, *, in_article: int, images_per_article: float | None = None) -> StageEstimate:
    """Stage 5: one call per article, one featured and ``in_article`` in-article prompts each;
    fewer when the site's completed runs made fewer images per article."""
    contents = max(0, contents)
    per = 1 + max(0, min(in_article, MAX_IN_ARTICLE))
    if images_per_article is not None:
        per = min(float(per), max(1.0, images_per_article))
    calls = spread(round(contents * per), contents)
    return StageEstimate(sum(v * n for v, n in calls), tuple((Usage(requests=1, items=v), n) for v, n in calls))
