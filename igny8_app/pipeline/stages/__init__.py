"""The six stages. Each module has ``inputs(...)`` (rows -> typed input; attribute access only,
no queries) and ``run(input, provider)`` (-> ProviderResult of the typed output)."""

from __future__ import annotations

from dataclasses import dataclass

from igny8_app.pipeline.stages import (s1_clustering, s2_ideas, s3_tasks, s4_content, s5_image_prompts,
                                       s6_images)

MIN_KEYWORDS_TO_CLUSTER = 5


@dataclass(frozen=True)
class StageInfo:
    number: int
    name: str
    operation_type: str | None  # CreditCostConfig operation; None = local, no credits


STAGES = (
    StageInfo(1, "Keywords → Clusters", "clustering"),
    StageInfo(2, "Clusters → Ideas", "ideas"),
    StageInfo(3, "Ideas → Tasks", None),
    StageInfo(4, "Tasks → Content", "content"),
    StageInfo(5, "Content → Image prompts", "image_prompts"),
    StageInfo(6, "Image prompts → Images", "images"),
)

__all__ = ["MIN_KEYWORDS_TO_CLUSTER", "STAGES", "StageInfo", "s1_clustering", "s2_ideas", "s3_tasks",
           "s4_content", "s5_image_prompts", "s6_images"]
