"""Stage 5 (Content → Image prompts): one featured (position 0) + N in-article (1..N)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from igny8_app.ai.base import ContentIn, ImagePromptOut, ProviderError, ProviderResult, TaskIn
from igny8_app.ai.offline import OfflineProvider
from igny8_app.domain.costs import Usage
from igny8_app.pipeline.stages import s5_image_prompts
from igny8_app.pipeline.stages.s5_image_prompts import make_image_prompts


def content() -> ContentIn:
    article = OfflineProvider().write_content(TaskIn(id=1, title="Knitting for Beginners: A Practical Guide",
                                                     keywords=("knitting for beginners", "how to cast on"),
                                                     cluster_name="knitting", word_count=900)).value
    return ContentIn(id=21, title=article.title, html=article.html, keywords=("knitting for beginners",))


class Scripted:
    name = "scripted"

    def __init__(self, prompts):
        self.prompts = prompts

    def image_prompts(self, content, in_article):
        return ProviderResult(self.prompts, Usage(items=len(self.prompts)))


@pytest.mark.parametrize("n", [0, 1, 2, 4])
def test_offline_prompts(n):
    res = make_image_prompts(content(), OfflineProvider(), in_article=n)
    assert [(p.image_type, p.position) for p in res.prompts] == \
        [("featured", 0)] + [("in_article", i) for i in range(1, n + 1)]
    assert all(p.prompt for p in res.prompts) and res.content_id == 21
    assert res.usage.items == n + 1


def test_provider_output_is_checked():
    res = make_image_prompts(content(), Scripted([
        ImagePromptOut("in_article", 7, "b"), ImagePromptOut("in_article", 3, "a"),
        ImagePromptOut("in_article", 9, "c"), ImagePromptOut("featured", 5, " hero "),
        ImagePromptOut("in_article", 1, "   "),
    ]), in_article=2)
    assert [(p.image_type, p.position, p.prompt) for p in res.prompts] == [
        ("featured", 0, "hero"), ("in_article", 1, "a"), ("in_article", 2, "b")]


def test_missing_featured_is_retryable_error():
    with pytest.raises(ProviderError) as err:
        make_image_prompts(content(), Scripted([ImagePromptOut("in_article", 1, "a")]), in_article=1)
    assert err.value.retryable


def test_engine_adapters():
    c = content()
    row = SimpleNamespace(id=c.id, title=c.title, html=c.html, meta_description=None)
    res = s5_image_prompts.run(s5_image_prompts.inputs(row), OfflineProvider(), in_article=2)
    assert [p.position for p in res.value] == [0, 1, 2]
    assert all(isinstance(p, ImagePromptOut) for p in res.value)
