"""Stage 3: Ideas → Tasks. Local: no AI, no credits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from igny8_app.ai.base import ProviderResult
from igny8_app.domain.costs import Usage

MIN_WORDS, MAX_WORDS = 300, 5000


@dataclass(frozen=True)
class IdeaIn:
    id: int
    title: str
    content_type: str
    content_structure: str
    estimated_word_count: int


@dataclass(frozen=True)
class TaskSpec:
    title: str
    content_type: str
    content_structure: str
    word_count: int


def inputs(idea_row: Any) -> IdeaIn:
    return IdeaIn(idea_row.id, idea_row.idea_title, idea_row.content_type, idea_row.content_structure,
                  idea_row.estimated_word_count)


def run(data: IdeaIn) -> ProviderResult[TaskSpec]:
    words = min(MAX_WORDS, max(MIN_WORDS, int(data.estimated_word_count or 1000)))
    return ProviderResult(TaskSpec(data.title.strip(), data.content_type, data.content_structure, words),
                          Usage(requests=0))
