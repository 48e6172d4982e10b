"""Stage definitions and the pure stage functions (one module per stage).

Each stage function takes plain dataclasses (built by the engine from database rows) and, for
AI stages, a provider (``igny8_app.ai.get_provider()``). It returns a frozen dataclass that says
what to write and the ``Usage`` to charge; it never touches the database.

=====  =========================  ===============  ===============================================
stage  name                       operation_type   function
=====  =========================  ===============  ===============================================
1      Keywords → Clusters        clustering       s1_clustering.cluster_batch(keywords, existing, provider, context=, total_new=)
2      Clusters → Ideas           ideas            s2_ideas.generate_ideas(cluster, provider, max_ideas=)
3      Ideas → Tasks              (none: local)    s3_tasks.idea_to_task(idea)
4      Tasks → Content            content          s4_content.write_content(task, provider)
5      Content → Image prompts    image_prompts    s5_image_prompts.make_image_prompts(content, provider, in_article=)
6      Image prompts → Images     images           s6_images.render_image(prompt, provider)
=====  =========================  ===============  ===============================================

Every module also has the engine's adapter pair: ``inputs(rows...)`` (rows -> typed input;
attribute access only, no queries) and ``run(input, provider)`` (-> ``ProviderResult`` of the
checked ``igny8_app.ai.base`` output type), which ``services.stage_io`` calls.
"""

from __future__ import annotations

from dataclasses import dataclass

from igny8_app.domain.enums import OperationType


@dataclass(frozen=True)
class StageDef:
    number: int
    name: str
    operation_type: OperationType | None  # None: local stage, no AI and no credits
    unit: str  # what one queue item is (stage 1 counts keywords, processed in batches)

    @property
    def uses_ai(self) -> bool:
        return self.operation_type is not None


STAGE_1 = StageDef(1, "Keywords → Clusters", OperationType.CLUSTERING, "keyword")
STAGE_2 = StageDef(2, "Clusters → Ideas", OperationType.IDEAS, "cluster")
STAGE_3 = StageDef(3, "Ideas → Tasks", None, "idea")
STAGE_4 = StageDef(4, "Tasks → Content", OperationType.CONTENT, "task")
STAGE_5 = StageDef(5, "Content → Image prompts", OperationType.IMAGE_PROMPTS, "content")
STAGE_6 = StageDef(6, "Image prompts → Images", OperationType.IMAGES, "image")

STAGES: tuple[StageDef, ...] = (STAGE_1, STAGE_2, STAGE_3, STAGE_4, STAGE_5, STAGE_6)
STAGE_BY_NUMBER: dict[int, StageDef] = {s.number: s for s in STAGES}
FIRST_STAGE = 1
LAST_STAGE = 6
StageInfo = StageDef  # the engine's name for it


def stage(number: int) -> StageDef:
    try:
        return STAGE_BY_NUMBER[number]
    except KeyError:
        raise ValueError(f"Unknown stage {number!r}: stages are 1 to 6") from None


from igny8_app.pipeline.stages import (  # noqa: E402  (modules after the constants they may use)
    s1_clustering, s2_ideas, s3_tasks, s4_content, s5_image_prompts, s6_images,
)
from igny8_app.pipeline.stages.s1_clustering import MIN_NEW_KEYWORDS as MIN_KEYWORDS_TO_CLUSTER  # noqa: E402

__all__ = ["FIRST_STAGE", "LAST_STAGE", "MIN_KEYWORDS_TO_CLUSTER", "STAGES", "STAGE_BY_NUMBER", "StageDef",
           "StageInfo", "stage", "s1_clustering", "s2_ideas", "s3_tasks", "s4_content", "s5_image_prompts",
           "s6_images"]
