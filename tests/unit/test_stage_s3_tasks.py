"""Stage 3 (Ideas → Tasks): local, no provider, no charge."""

from __future__ import annotations

from types import SimpleNamespace

from igny8_app.pipeline.stages import STAGE_BY_NUMBER, s3_tasks
from igny8_app.pipeline.stages.s3_tasks import IdeaIn, TaskWrite, idea_to_task


def test_idea_becomes_task():
    t = idea_to_task(IdeaIn(id=5, cluster_id=2, idea_title="  How to   Knit a Scarf ", content_type="post",
                            content_structure="how_to_guide", estimated_word_count=1400))
    assert t == TaskWrite(idea_id=5, cluster_id=2, title="How to Knit a Scarf", content_type="post",
                          content_structure="how_to_guide", word_count=1400)


def test_defaults_and_clamps():
    t = idea_to_task(IdeaIn(id=1, cluster_id=None, idea_title="", content_type="video",
                            content_structure="", estimated_word_count=0))
    assert t.title == "Idea 1" and t.content_type == "post" and t.content_structure == "article"
    assert t.word_count == 1000
    assert idea_to_task(IdeaIn(1, None, "x", estimated_word_count=99_999)).word_count == 5000
    assert idea_to_task(IdeaIn(1, None, "x", estimated_word_count=10)).word_count == 300
    assert len(idea_to_task(IdeaIn(1, None, "x" * 400)).title) == 255


def test_local_stage_no_ai_no_credits():
    assert STAGE_BY_NUMBER[3].operation_type is None and not STAGE_BY_NUMBER[3].uses_ai
    row = SimpleNamespace(id=8, cluster_id=3, idea_title="Best Yarn", content_type="product",
                          content_structure="listicle", estimated_word_count=1800, keywords="yarn, wool",
                          description=None)
    res = s3_tasks.run(s3_tasks.inputs(row))
    assert res.usage.requests == 0 and res.usage.items == 0 and res.usage.words == 0
    assert (res.value.title, res.value.idea_id, res.value.cluster_id, res.value.word_count) == ("Best Yarn", 8, 3, 1800)
