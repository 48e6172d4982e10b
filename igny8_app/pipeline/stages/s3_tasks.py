"""Stage 3, Ideas → Tasks: local, no AI, no credits. One task per idea (the database refuses a
second: ``task.idea_id`` is unique)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from igny8_app.ai.base import ProviderResult
from igny8_app.domain.costs import StageEstimate, Usage
from igny8_app.domain.enums import ContentType

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


def estimate(ideas: int) -> StageEstimate:
    """Stage 3: one task per idea, local (no provider call, no credits)."""
    return StageEstimate(max(0, ideas))
