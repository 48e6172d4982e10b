"""Stage 4, Tasks → Content (AI, one task per item): a draft article.

Whatever the provider returns is sanitised to the allowed tags (h2, h3, p, ul, li, strong, em;
no attributes), the word count is recomputed from the sanitised HTML and the usage's ``words``
is set to it (credits are charged per 100 words actually delivered), and the meta title and
description are cut to 60 and 160 characters at a word boundary."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from igny8_app.ai.base import AIProvider, ContentOut, ProviderError, ProviderResult, TaskIn
from igny8_app.ai.html import META_DESCRIPTION_MAX, META_TITLE_MAX, clip, count_words, sanitize_html
from igny8_app.domain.costs import StageEstimate, Usage, spread

TITLE_MAX = 255


@dataclass(frozen=True)
class ContentWrite:
    task_id: int
    title: str
    html: str
    meta_title: str
    meta_description: str
    word_count: int
    status: str = "draft"


@dataclass(frozen=True)
class Stage4Result:
    content: ContentWrite
    usage: Usage


def write_content(task: TaskIn, provider: AIProvider) -> Stage4Result:
    result = provider.write_content(task)
    out = result.value
    if not isinstance(out, ContentOut):
        raise ProviderError(f"Content output for task {task.id} is not an article", retryable=True)
    html = sanitize_html(out.html or "")
    words = count_words(html)
    if words == 0:
        raise ProviderError(f"Empty article for task {task.id}", retryable=True)
    title = (" ".join((out.title or "").split()) or task.title)[:TITLE_MAX]
    content = ContentWrite(
        task_id=task.id, title=title, html=html,
        meta_title=clip(out.meta_title or title, META_TITLE_MAX),
        meta_description=clip(out.meta_description or "", META_DESCRIPTION_MAX),
        word_count=words,
    )
    return Stage4Result(content=content, usage=dataclasses.replace(result.usage, words=words))


# --- the engine's adapter pair ------------------------------------------------------------------

def inputs(task_row: Any, idea_row: Any | None, cluster_row: Any | None) -> TaskIn:
    """Target keywords: the idea's, else the cluster's name."""
    keywords: tuple[str, ...] = ()
    if idea_row is not None and idea_row.keywords:
        keywords = tuple(k.strip() for k in idea_row.keywords.split(",") if k.strip())
    if not keywords and cluster_row is not None:
        keywords = (cluster_row.name,)
    return TaskIn(id=task_row.id, title=task_row.title, keywords=keywords,
                  cluster_name=cluster_row.name if cluster_row is not None else "",
                  content_type=task_row.content_type, content_structure=task_row.content_structure,
                  word_count=task_row.word_count,
                  description=(idea_row.description or "") if idea_row is not None else "")


def run(data: TaskIn, provider: AIProvider) -> ProviderResult[ContentOut]:
    res = write_content(data, provider)
    c = res.content
    return ProviderResult(ContentOut(title=c.title, html=c.html, meta_title=c.meta_title,
                                     meta_description=c.meta_description, word_count=c.word_count), res.usage)


def estimate(tasks: int, *, words_per_article: float) -> StageEstimate:
    """Stage 4: one article per task, charged by the words delivered (``words_per_article`` on
    average: the site's completed runs, else the length the ideas are asked for)."""
    tasks = max(0, tasks)
    calls = spread(round(tasks * max(0.0, words_per_article)), tasks)
    return StageEstimate(tasks, tuple((Usage(requests=1, items=1, words=w), n) for w, n in calls))
