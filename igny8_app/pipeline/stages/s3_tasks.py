"""Stage 3, Ideas → Tasks: local, no AI, no credits. One task per idea (the database refuses a
second: ``task.idea_id`` is unique)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from igny8_app.ai.base import ProviderResult
from igny8_app.domain.costs import StageEstimate, Usage
from igny8_app.domain.enums import ContentType
from igny8_app.models import ContentIdea, Task
from igny8_app.pipeline.stages.base import (Applied, ApplyContext, Queue, RunConfig, Stage, WorkItem, mark_done,
                                            next_rows)
from igny8_app.pipeline.stages.forecast import Basis

DEFAULT_WORD_COUNT = 1000
MIN_WORDS, MAX_WORDS = 300, 5000
TITLE_MAX = 255


@dataclass(frozen=True)
class IdeaIn:
    id: int
    cluster_id: int | None
    idea_title: str
    content_type: str = "post"
    content_structure: str = "article"
    estimated_word_count: int = DEFAULT_WORD_COUNT
    keywords: str = ""  # comma-separated
    description: str = ""


@dataclass(frozen=True)
class TaskWrite:
    idea_id: int
    cluster_id: int | None
    title: str
    content_type: str
    content_structure: str
    word_count: int


def idea_to_task(idea: IdeaIn) -> TaskWrite:
    valid_types = {t.value for t in ContentType}
    return TaskWrite(
        idea_id=idea.id,
        cluster_id=idea.cluster_id,
        title=(" ".join(idea.idea_title.split()) or f"Idea {idea.id}")[:TITLE_MAX],
        content_type=idea.content_type if idea.content_type in valid_types else ContentType.POST.value,
        content_structure=idea.content_structure or "article",
        word_count=min(MAX_WORDS, max(MIN_WORDS, int(idea.estimated_word_count or DEFAULT_WORD_COUNT))),
    )


TaskSpec = TaskWrite  # the engine's name for it


# --- the engine's adapter pair ------------------------------------------------------------------

def inputs(idea_row: Any) -> IdeaIn:
    return IdeaIn(id=idea_row.id, cluster_id=idea_row.cluster_id, idea_title=idea_row.idea_title,
                  content_type=idea_row.content_type, content_structure=idea_row.content_structure,
                  estimated_word_count=idea_row.estimated_word_count, keywords=idea_row.keywords or "",
                  description=idea_row.description or "")


def run(data: IdeaIn) -> ProviderResult[TaskWrite]:
    """Local: the usage is zero requests (nothing to charge)."""
    return ProviderResult(idea_to_task(data), Usage(requests=0))


# --- the engine's database side (fetch inside the run's transaction, apply inside the item's) ------

NUMBER = 3
QUEUE = Queue("ideas", ContentIdea, "status", "new", ("queued", "completed"), "idea_title")


def fetch(s: Session, site_id: int, limit: int, config: RunConfig) -> WorkItem | None:
    rows = next_rows(s, QUEUE, site_id)
    if not rows:
        return None
    row = rows[0]
    return WorkItem(NUMBER, [row.id], row.idea_title, f"idea:{row.id}", data=inputs(row))


def apply(s: Session, item: WorkItem, result: ProviderResult, ctx: ApplyContext) -> Applied:
    idea = s.get(ContentIdea, item.ids[0])
    mark_done(s, QUEUE, item.ids)
    spec = result.value
    s.add(Task(site_id=ctx.site_id, cluster_id=idea.cluster_id, idea_id=idea.id, title=spec.title[:255],
               content_type=spec.content_type, content_structure=spec.content_structure,
               word_count=spec.word_count))
    return Applied(1, None, None, "idea", idea.id)


def estimate(ideas: int) -> StageEstimate:
    """Stage 3: one task per idea, local (no provider call, no credits)."""
    return StageEstimate(max(0, ideas))


def estimate_in_run(n: int, b: Basis) -> StageEstimate:
    """The registry's hook."""
    return estimate(n)


STAGE = Stage(
    number=NUMBER, name="tasks", title="Ideas → Tasks", icon="list-checks", unit="idea", queue=QUEUE,
    operation_type=None, fetch=fetch, compute=lambda item, provider: run(item.data), apply=apply,
    batch_key="stage_3_batch_size", cap_key="max_ideas_per_run",
    estimate=estimate_in_run,
)
