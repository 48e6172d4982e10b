"""Stage 4 (Tasks → Content): sanitised article, recomputed word count, clipped meta tags."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from igny8_app.ai.base import ContentOut, ProviderError, ProviderResult, TaskIn
from igny8_app.ai.html import ALLOWED_TAGS, count_words, tags_used
from igny8_app.ai.offline import OfflineProvider
from igny8_app.domain.costs import Usage
from igny8_app.pipeline.stages import s4_content
from igny8_app.pipeline.stages.s4_content import write_content

TASK = TaskIn(id=11, title="What Is a Planted Aquarium? Everything You Need to Know",
              keywords=("planted aquarium for beginners", "aquarium plants low light", "aquarium substrate"),
              cluster_name="planted aquarium for beginners", content_structure="explainer", word_count=1200)


class Scripted:
    name = "scripted"

    def __init__(self, out):
        self.out = out

    def write_content(self, task):
        return ProviderResult(self.out, Usage(words=99_999, model="scripted"))


def test_offline_article():
    res = write_content(TASK, OfflineProvider())
    c = res.content
    assert c.task_id == 11 and c.status == "draft" and c.title == TASK.title
    assert abs(c.word_count - 1200) <= 180
    assert tags_used(c.html) <= ALLOWED_TAGS
    assert len(c.meta_title) <= 60 and 0 < len(c.meta_description) <= 160
    assert res.usage.words == c.word_count


def test_provider_html_is_sanitised_and_recounted():
    dirty = ('<h1 onclick="x()">Big</h1><h2 style="color:red">Intro</h2><p>One <a href="http://e">two</a> '
             '<script>alert(1)</script>three</p><img src=x><ul><li>four</li></ul>')
    long_title = "A very long meta title that goes on and on well past sixty characters for sure"
    res = write_content(TASK, Scripted(ContentOut(title="", html=dirty, meta_title=long_title,
                                                  meta_description="word " * 60, word_count=5000)))
    c = res.content
    assert tags_used(c.html) <= ALLOWED_TAGS and "script" not in c.html and "onclick" not in c.html
    assert c.word_count == count_words(c.html) and res.usage.words == c.word_count  # charged for what is kept
    assert c.title == TASK.title  # fallback
    assert len(c.meta_title) <= 60 and long_title.startswith(c.meta_title)
    assert len(c.meta_description) <= 160 and not c.meta_description.endswith(" ")


def test_empty_article_is_retryable_error():
    with pytest.raises(ProviderError) as err:
        write_content(TASK, Scripted(ContentOut(title="t", html="<script>x</script>", meta_title="",
                                                meta_description="", word_count=0)))
    assert err.value.retryable


def test_engine_adapters():
    task_row = SimpleNamespace(id=11, title=TASK.title, content_type="post", content_structure="explainer",
                               word_count=1200)
    idea_row = SimpleNamespace(keywords="planted aquarium for beginners, aquarium plants low light", description="d")
    cluster_row = SimpleNamespace(name="planted aquarium for beginners")
    data = s4_content.inputs(task_row, idea_row, cluster_row)
    assert data.keywords == ("planted aquarium for beginners", "aquarium plants low light")
    assert s4_content.inputs(task_row, None, cluster_row).keywords == ("planted aquarium for beginners",)
    res = s4_content.run(data, OfflineProvider())
    assert isinstance(res.value, ContentOut) and res.value.word_count == res.usage.words
    assert res == s4_content.run(data, OfflineProvider())
