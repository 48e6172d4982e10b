"""Stage 4, Tasks → Content (AI, one task per item): a draft article.

Whatever the provider returns is sanitised to the allowed tags (h2, h3, p, ul, li, strong, em;
no attributes), the word count is recomputed from the sanitised HTML and the usage's ``words``
is set to it (credits are charged per 100 words actually delivered), and the meta title and
description are cut to 60 and 160 characters at a word boundary."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from igny8_app.ai.base import AIProvider, ContentOut, ProviderError, ProviderResult, TaskIn
from igny8_app.ai.html import META_DESCRIPTION_MAX, META_TITLE_MAX, clip, count_words, sanitize_html
from igny8_app.domain.costs import Usage
from igny8_app.domain.enums import OperationType
from igny8_app.models import Cluster, Content, ContentIdea, Task, utcnow
from igny8_app.pipeline.stages.base import (Applied, ApplyContext, Queue, RunConfig, Stage, WorkItem, mark_done,
                                            next_rows)


from igny8_app.domain.costs import StageEstimate, Usage, spread
from igny8_app.pipeline.stages.forecast import Basis
from igny8_app.pipeline.stages.s2_ideas import FIRST_RUN_WORDS

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


# --- the engine's database side (fetch inside the run's transaction, apply inside the item's) ------

NUMBER = 4
QUEUE = Queue("tasks", Task, "status", "queued", ("completed",), "title")


def fetch(s: Session, site_id: int, limit: int, config: RunConfig) -> WorkItem | None:
    rows = next_rows(s, QUEUE, site_id)
    if not rows:
        return None
    row = rows[0]
    idea = s.get(ContentIdea, row.idea_id) if row.idea_id else None
    cluster = s.get(Cluster, row.cluster_id) if row.cluster_id else None
    return WorkItem(NUMBER, [row.id], row.title, f"task:{row.id}", data=inputs(row, idea, cluster),
                    extra={"idea_id": row.idea_id, "cluster_id": row.cluster_id})


def apply(s: Session, item: WorkItem, result: ProviderResult, ctx: ApplyContext) -> Applied:
    mark_done(s, QUEUE, item.ids)
    out = result.value
    s.add(Content(site_id=ctx.site_id, task_id=item.ids[0], cluster_id=item.extra.get("cluster_id"),
                  title=out.title[:255], html=out.html, meta_title=out.meta_title[:255],
                  meta_description=out.meta_description[:500], word_count=out.word_count, run_id=ctx.run_id))
    if item.extra.get("idea_id"):
        s.execute(sa.update(ContentIdea).where(ContentIdea.id == item.extra["idea_id"])
                  .values(status="completed", updated_at=utcnow()))
    return Applied(1, result.usage, STAGE.operation, "task", item.ids[0])


def estimate(tasks: int, *, words_per_article: float) -> StageEstimate:
    """Stage 4: one article per task, charged by the words delivered (``words_per_article`` on
    average: the site's completed runs, else the length the ideas are asked for)."""
    tasks = max(0, tasks)
    calls = spread(round(tasks * max(0.0, words_per_article)), tasks)
    return StageEstimate(tasks, tuple((Usage(requests=1, items=1, words=w), n) for w, n in calls))


def estimate_in_run(n: int, b: Basis) -> StageEstimate:
    """The registry's hook: the site's words per article, or on a first run the length asked for."""
    return estimate(n, words_per_article=b.averages.words_per_article or FIRST_RUN_WORDS)


STAGE = Stage(
    number=NUMBER, name="content", title="Tasks → Content", icon="file-text", unit="task", queue=QUEUE,
    operation_type=OperationType.CONTENT, fetch=fetch, compute=lambda item, provider: run(item.data, provider),
    apply=apply, batch_key="stage_4_batch_size", cap_key="max_tasks_per_run",
    estimate=estimate_in_run,
)
