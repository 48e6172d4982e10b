"""The stage registry: every stage of the pipeline, in order, one descriptor each.

Each module declares its stage as ``STAGE`` (``base.Stage``): number, names and icon, the queue it
reads, its credit operation and config keys, and how its items are fetched, computed and applied.
Everything else (the run loop, stage items, the processing state and card, the overview, retry-failed,
the estimates, the config page, the API and its OpenAPI document) reads ``STAGES``; "the last stage"
is its last entry. Shipped stage numbers never change: a new stage is appended.

=====  =========================  ===============  ===============================================
stage  title                      operation_type   pure function
=====  =========================  ===============  ===============================================
1      Keywords → Clusters        clustering       s1_clustering.cluster_batch(keywords, existing, provider, context=, total_new=)
2      Clusters → Ideas           ideas            s2_ideas.generate_ideas(cluster, provider, max_ideas=)
3      Ideas → Tasks              (none: local)    s3_tasks.idea_to_task(idea)
4      Tasks → Content            content          s4_content.write_content(task, provider)
5      Content → Image prompts    image_prompts    s5_image_prompts.make_image_prompts(content, provider, in_article=)
6      Image prompts → Images     images           s6_images.render_image(prompt, provider)
=====  =========================  ===============  ===============================================

The pure functions take plain dataclasses and, for AI stages, a provider; they return what to write
and the ``Usage`` to charge and never touch the database. Each module's "database side" (``fetch``,
``apply``) is what the engine runs around them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from igny8_app.pipeline.stages.base import RunConfig, Stage
from igny8_app.pipeline.stages import (
    s1_clustering, s2_ideas, s3_tasks, s4_content, s5_image_prompts, s6_images,
)
from igny8_app.pipeline.stages.s1_clustering import MIN_NEW_KEYWORDS as MIN_KEYWORDS_TO_CLUSTER


class _Registry(Sequence[Stage]):
    """The ordered stages (a live view: a test may register a stage for its duration)."""

    def __init__(self, stages: list[Stage]) -> None:
        self._stages = stages

    def __getitem__(self, i):  # noqa: ANN001, ANN204
        return self._stages[i]

    def __len__(self) -> int:
        return len(self._stages)

    def __repr__(self) -> str:
        return f"STAGES{[s.number for s in self._stages]}"


class _ByNumber(Mapping[int, Stage]):
    def __getitem__(self, number: int) -> Stage:
        for st in STAGES:
            if st.number == number:
                return st
        raise KeyError(number)

    def __iter__(self) -> Iterator[int]:
        return iter([st.number for st in STAGES])

    def __len__(self) -> int:
        return len(STAGES)


_ORDER: list[Stage] = [s1_clustering.STAGE, s2_ideas.STAGE, s3_tasks.STAGE, s4_content.STAGE,
                       s5_image_prompts.STAGE, s6_images.STAGE]
STAGES: Sequence[Stage] = _Registry(_ORDER)
STAGE_BY_NUMBER: Mapping[int, Stage] = _ByNumber()
STAGE_1 = s1_clustering.STAGE


def stage(number: int) -> Stage:
    try:
        return STAGE_BY_NUMBER[number]
    except KeyError:
        raise ValueError(f"Unknown stage {number!r}: stages are {first().number} to {last().number}") from None


def first() -> Stage:
    return STAGES[0]


def last() -> Stage:
    return STAGES[-1]


def is_last(number: int) -> bool:
    return number == last().number


def next_after(number: int) -> Stage | None:
    """The stage after ``number`` in the registry, or None after the last."""
    order = numbers()
    i = order.index(number)
    return STAGES[i + 1] if i + 1 < len(order) else None


def numbers() -> list[int]:
    return [st.number for st in STAGES]


def clamp(number: int) -> int:
    """A stage number held to the registry's range (for display of a run's ``current_stage``)."""
    return min(max(number, first().number), last().number)


def run_config(snapshot: dict[str, Any] | None) -> RunConfig:
    """The run's typed configuration, from its ``config_snapshot``."""
    return RunConfig.from_snapshot(snapshot, STAGES)


@contextmanager
def registered(extra: Stage) -> Iterator[Stage]:
    """Append ``extra`` to the registry for the duration (tests; a shipped stage is a module here)."""
    if extra.number != last().number + 1:
        raise ValueError(f"stage {extra.number} must be stage {last().number + 1}: stages are appended")
    _ORDER.append(extra)
    try:
        yield extra
    finally:
        _ORDER.remove(extra)


__all__ = ["MIN_KEYWORDS_TO_CLUSTER", "STAGES", "STAGE_1", "STAGE_BY_NUMBER", "RunConfig", "Stage", "clamp",
           "first", "is_last", "last", "next_after", "numbers", "registered", "run_config", "stage",
           "s1_clustering", "s2_ideas", "s3_tasks", "s4_content", "s5_image_prompts", "s6_images"]
