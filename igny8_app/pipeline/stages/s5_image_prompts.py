"""Stage 5, Content → Image prompts (AI, one content item per item): one featured prompt
(position 0) and ``in_article`` in-article prompts (positions 1..N), to be saved as ``pending``
Image rows (unique per (content, position)).

Checked: a featured prompt is required (else a retryable ProviderError); in-article prompts
beyond N are dropped and positions renumbered 1..n; empty prompts are dropped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from igny8_app.ai.base import AIProvider, ContentIn, ImagePromptOut, ProviderError, ProviderResult
from igny8_app.domain.costs import Usage
from igny8_app.domain.enums import ImageType, OperationType
from igny8_app.models import Content, Image
from igny8_app.pipeline.stages.base import (Applied, ApplyContext, Queue, RunConfig, Stage, WorkItem, mark_done,
                                            next_rows)


from igny8_app.domain.costs import StageEstimate, Usage, spread
from igny8_app.domain.enums import ImageType
from igny8_app.pipeline.stages.forecast import Basis

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


# --- the engine's database side (fetch inside the run's transaction, apply inside the item's) ------

NUMBER = 5
QUEUE = Queue("content", Content, "prompt_status", "pending", ("done",), "title")


def fetch(s: Session, site_id: int, limit: int, config: RunConfig) -> WorkItem | None:
    rows = next_rows(s, QUEUE, site_id)
    if not rows:
        return None
    row = rows[0]
    return WorkItem(NUMBER, [row.id], row.title, f"content:{row.id}", data=inputs(row),
                    extra={"in_article": config.in_article_images})


def apply(s: Session, item: WorkItem, result: ProviderResult, ctx: ApplyContext) -> Applied:
    mark_done(s, QUEUE, item.ids)
    for p in result.value:
        s.add(Image(site_id=ctx.site_id, content_id=item.ids[0], image_type=p.image_type, position=p.position,
                    prompt=p.prompt))
    return Applied(1, result.usage, STAGE.operation, "content", item.ids[0])


def estimate(contents: int, *, in_article: int, images_per_article: float | None = None) -> StageEstimate:
    """Stage 5: one call per article, one featured and ``in_article`` in-article prompts each;
    fewer when the site's completed runs made fewer images per article."""
    contents = max(0, contents)
    per = 1 + max(0, min(in_article, MAX_IN_ARTICLE))
    if images_per_article is not None:
        per = min(float(per), max(1.0, images_per_article))
    calls = spread(round(contents * per), contents)
    return StageEstimate(sum(v * n for v, n in calls), tuple((Usage(requests=1, items=v), n) for v, n in calls))


def estimate_in_run(n: int, b: Basis) -> StageEstimate:
    """The registry's hook: the run's in-article images, or the site's images per article."""
    return estimate(n, in_article=int(b.config.get("in_article_images") or 0),
                    images_per_article=b.averages.images_per_article)


STAGE = Stage(
    number=NUMBER, name="image_prompts", title="Content → Image prompts", icon="message-square-text",
    unit="content", queue=QUEUE, operation_type=OperationType.IMAGE_PROMPTS, fetch=fetch,
    compute=lambda item, provider: run(item.data, provider, in_article=item.extra["in_article"]), apply=apply,
    batch_key="stage_5_batch_size", cap_key="max_content_per_run",
    short="Content → Prompts",
    estimate=estimate_in_run,
)
