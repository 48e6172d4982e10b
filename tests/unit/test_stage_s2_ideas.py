"""Stage 2 (Clusters → Ideas): 1-3 checked ideas per cluster."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from igny8_app.ai.base import ClusterIn, IdeaOut, ProviderError, ProviderResult
from igny8_app.ai.offline import OfflineProvider
from igny8_app.domain.costs import Usage
from igny8_app.pipeline.stages import s2_ideas
from igny8_app.pipeline.stages.s2_ideas import generate_ideas

CLUSTER = ClusterIn(id=4, name="marathon training plan", keywords=(
    "marathon training plan", "how to train for a marathon", "best marathon running shoes",
    "half marathon vs marathon", "what is a tempo run", "marathon taper weeks"))


class Scripted:
    name = "scripted"

    def __init__(self, ideas):
        self.ideas = ideas

    def generate_ideas(self, cluster, max_ideas):
        return ProviderResult(self.ideas, Usage(items=len(self.ideas)))


def idea(title="T", **kw):
    base = dict(title=title, description="d", content_type="post", content_structure="explainer",
                estimated_word_count=1200, keywords=("a", "b"))
    base.update(kw)
    return IdeaOut(**base)


def test_offline_ideas():
    res = generate_ideas(CLUSTER, OfflineProvider())
    assert res.cluster_id == 4 and len(res.ideas) == 3
    assert [i.position for i in res.ideas] == [0, 1, 2]
    assert {i.intent for i in res.ideas} <= {"how_to", "what_is", "best_x", "comparison"}
    for i in res.ideas:
        assert i.idea_title and i.description and i.keywords
        assert "marathon" in i.keywords
        assert i.content_type in {"post", "page", "product", "taxonomy"}
        assert 300 <= i.estimated_word_count <= 5000
    assert res.usage.items == 3 and res.usage.model == "offline-deterministic"


def test_max_ideas_respected():
    assert len(generate_ideas(CLUSTER, OfflineProvider(), max_ideas=1).ideas) == 1
    assert len(generate_ideas(CLUSTER, OfflineProvider(), max_ideas=9).ideas) == 3  # hard cap


def test_provider_output_is_checked():
    res = generate_ideas(CLUSTER, Scripted([
        idea("  Too   many   spaces ", content_type="video", estimated_word_count=50_000,
             keywords=("a, b", "c", "c")),
        idea("", description="blank title: dropped"),
        idea("Second", estimated_word_count=10),
        idea("Third"), idea("Fourth: beyond the cap"),
    ]))
    assert [i.idea_title for i in res.ideas] == ["Too many spaces", "Second", "Third"]
    first = res.ideas[0]
    assert first.content_type == "post" and first.estimated_word_count == 5000
    assert first.keywords == "a  b, c" and first.keyword_list == ("a  b", "c")
    assert res.ideas[1].estimated_word_count == 300


def test_no_ideas_is_retryable_error():
    with pytest.raises(ProviderError) as err:
        generate_ideas(CLUSTER, Scripted([]))
    assert err.value.retryable


def test_engine_adapters():
    row = SimpleNamespace(id=4, name="marathon training plan", description=None, volume=None)
    data = s2_ideas.inputs(row, list(CLUSTER.keywords))
    assert data == ClusterIn(id=4, name="marathon training plan", description="", keywords=CLUSTER.keywords, volume=0)
    res = s2_ideas.run(data, OfflineProvider())
    assert 1 <= len(res.value) <= s2_ideas.MAX_IDEAS
    assert all(isinstance(i, IdeaOut) and isinstance(i.keywords, tuple) for i in res.value)
    assert res == s2_ideas.run(data, OfflineProvider())  # deterministic
