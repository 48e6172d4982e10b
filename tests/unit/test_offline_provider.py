"""The offline provider: deterministic, honest, real outputs, interruptible delay, usage."""

from __future__ import annotations

import io
import threading
import time

import pytest
from PIL import Image

from igny8_app.ai import (
    AIProvider, ClusterIn, ClusterRef, ContentIn, ImagePromptIn, KeywordIn, ProviderConfigError, TaskIn,
    get_provider, interruptible_sleeper,
)
from igny8_app.ai.html import ALLOWED_TAGS, count_words, headings, tags_used
from igny8_app.ai.offline import MODEL, OfflineProvider
from igny8_app.ai.offline_text import topic_of
from igny8_app.settings import reset_settings

KEYWORDS = [
    "sourdough starter recipe", "how to make sourdough bread", "sourdough discard recipes",
    "feeding sourdough starter", "sourdough bread recipe for beginners", "best flour for sourdough",
    "marathon training plan", "16 week marathon training plan", "marathon taper weeks",
    "marathon long run pace", "first marathon training schedule",
    "solar panels for home cost", "solar panel installation", "solar battery storage",
    "solar panel tax credit", "how many solar panels do i need",
]


def kw(texts=KEYWORDS, start=1):
    return [KeywordIn(id=start + i, keyword=t, volume=10 * (i + 1)) for i, t in enumerate(texts)]


def provider(**kw_):
    return OfflineProvider(**kw_)


def task(words=1000, **over):
    base = dict(id=7, title="How to Make Sourdough Bread: A Step-by-Step Guide",
                keywords=("how to make sourdough bread", "sourdough starter recipe", "best flour for sourdough"),
                cluster_name="how to make sourdough bread", content_structure="how_to_guide", word_count=words)
    base.update(over)
    return TaskIn(**base)


# --- factory and protocol ---------------------------------------------------------------------

def test_offline_is_default_and_satisfies_protocol(monkeypatch, tmp_path):
    monkeypatch.setenv("IGNY8_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("AI_PROVIDER", raising=False)
    monkeypatch.setenv("OFFLINE_AI_DELAY_MS", "250")
    reset_settings()
    try:
        p = get_provider()
        assert isinstance(p, OfflineProvider) and isinstance(p, AIProvider)
        assert p.delay_ms == 250
    finally:
        reset_settings()


def test_unknown_provider_is_a_clear_error():
    with pytest.raises(ProviderConfigError, match="Unknown AI provider 'gpt9'.*offline"):
        get_provider("gpt9")


def test_negative_delay_refused():
    with pytest.raises(ValueError):
        OfflineProvider(delay_ms=-1)


# --- clustering -------------------------------------------------------------------------------

def topic_of_ids(result, ids):
    return {c.name for c in result.value if set(ids) & set(c.keyword_ids)}


def test_clustering_groups_obvious_topics():
    res = provider().cluster_keywords(kw(), [])
    placed = sorted(i for c in res.value for i in c.keyword_ids)
    assert placed == list(range(1, len(KEYWORDS) + 1))  # every keyword exactly once
    sourdough, marathon, solar = range(1, 7), range(7, 12), range(12, 17)
    for group in (sourdough, marathon, solar):
        assert len(topic_of_ids(res, group)) == 1, res.value
    assert len({c.name for c in res.value}) == 3
    for c in res.value:
        assert c.name in KEYWORDS  # named after a member keyword
        assert c.volume == sum(10 * i for i in c.keyword_ids)
        assert c.description and c.existing_cluster_id is None


def test_clustering_names_the_central_keyword():
    res = provider().cluster_keywords(kw(KEYWORDS[:6]), [])
    assert len(res.value) == 1
    assert "sourdough" in res.value[0].name


def test_clustering_joins_existing_clusters_first():
    existing = [ClusterRef(id=101, name="marathon training plan",
                           keywords=("marathon training plan", "marathon taper weeks", "marathon long run pace")),
                ClusterRef(id=102, name="solar panel installation",
                           keywords=("solar panel installation", "solar panels for home cost"))]
    batch = kw(["half marathon to marathon training", "marathon race day nutrition",
                "solar panel efficiency", "knitting for beginners", "how to cast on knitting"], start=50)
    res = provider().cluster_keywords(batch, existing)
    by_id = {i: c for c in res.value for i in c.keyword_ids}
    assert by_id[50].existing_cluster_id == 101 and by_id[51].existing_cluster_id == 101
    assert by_id[52].existing_cluster_id == 102
    assert by_id[53].existing_cluster_id is None and by_id[53] is by_id[54]


def test_clustering_is_deterministic_and_order_independent():
    a = provider().cluster_keywords(kw(), []).value
    b = provider().cluster_keywords(list(reversed(kw())), []).value
    assert a == b


def test_clustering_usage():
    res = provider().cluster_keywords(kw(), [])
    u = res.usage
    assert (u.requests, u.items, u.model) == (1, len(KEYWORDS), MODEL)
    words = sum(len(t.split()) for t in KEYWORDS)
    assert u.tokens_in == -(-words * 13 // 10)
    assert u.tokens_out > 0


def test_clustering_single_keyword():
    res = provider().cluster_keywords(kw(["j1772 adapter"]), [])
    assert [(c.name, c.keyword_ids) for c in res.value] == [("j1772 adapter", (1,))]


# --- ideas ------------------------------------------------------------------------------------

CLUSTER = ClusterIn(id=3, name="how to make sourdough bread", keywords=(
    "how to make sourdough bread", "sourdough starter recipe", "best flour for sourdough",
    "sourdough vs yeast bread", "what is levain", "sourdough discard recipes"))


def test_ideas_by_intent():
    res = provider().generate_ideas(CLUSTER, 3)
    ideas = res.value
    assert 1 <= len(ideas) <= 3
    assert len({i.intent for i in ideas}) == len(ideas)
    assert all(i.intent in {"how_to", "what_is", "best_x", "comparison"} for i in ideas)
    assert ideas[0].title == "How to Make Sourdough Bread: A Step-by-Step Guide"
    for i in ideas:
        assert i.content_type in {"post", "page", "product", "taxonomy"}
        assert i.content_structure and i.description and i.keywords
        assert 300 <= i.estimated_word_count <= 5000
    assert res.usage.items == len(ideas) and res.usage.model == MODEL


def test_ideas_count_follows_cluster_size_and_cap():
    assert len(provider().generate_ideas(ClusterIn(1, "j1772 adapter"), 3).value) == 1
    assert len(provider().generate_ideas(CLUSTER, 2).value) == 2
    assert len(provider().generate_ideas(CLUSTER, 1).value) == 1


def test_ideas_deterministic():
    assert provider().generate_ideas(CLUSTER, 3) == provider().generate_ideas(CLUSTER, 3)


def test_topic_of():
    assert topic_of("how to make sourdough bread") == "sourdough bread"
    assert topic_of("marathon training for beginners") == "marathon training"
    assert topic_of("best tents for camping") == "tents for camping"


# --- content ----------------------------------------------------------------------------------

@pytest.mark.parametrize("words", [300, 800, 1000, 1500, 2400])
def test_article_word_count_near_target(words):
    res = provider().write_content(task(words))
    c = res.value
    assert abs(c.word_count - words) <= 0.15 * words
    assert c.word_count == count_words(c.html)
    assert res.usage.words == c.word_count and res.usage.model == MODEL


def test_article_structure_and_safe_html():
    c = provider().write_content(task(1500)).value
    assert tags_used(c.html) <= ALLOWED_TAGS
    assert "<h2>" in c.html and "<h3>" in c.html and "<ul>" in c.html and "<p>" in c.html
    h2 = headings(c.html)
    assert any("Sourdough Starter Recipe" in h for h in h2)  # sections from the keywords
    assert len(c.meta_title) <= 60 and c.meta_title
    assert len(c.meta_description) <= 160 and c.meta_description


def test_article_escapes_keywords():
    c = provider().write_content(task(600, keywords=("<script>alert(1)</script> tips", "a & b"),
                                      title="Safe <b>title</b>")).value
    assert "<script>" not in c.html and "<b>" not in c.html
    assert tags_used(c.html) <= ALLOWED_TAGS


def test_article_deterministic():
    assert provider().write_content(task(1200)).value == provider().write_content(task(1200)).value
    assert provider().write_content(task(1200)).value.html != provider().write_content(task(1300)).value.html


# --- image prompts ----------------------------------------------------------------------------

def test_image_prompts():
    c = provider().write_content(task(1200)).value
    content = ContentIn(id=9, title=c.title, html=c.html, keywords=task().keywords)
    res = provider().image_prompts(content, 3)
    ps = res.value
    assert [(p.image_type, p.position) for p in ps] == [("featured", 0), ("in_article", 1),
                                                      ("in_article", 2), ("in_article", 3)]
    assert all(c.title in p.prompt for p in ps)
    assert len({p.prompt for p in ps}) == 4
    assert res.usage.items == 4
    assert provider().image_prompts(content, 3) == res
    assert len(provider().image_prompts(content, 0).value) == 1


# --- images -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("image_type", "size"), [("featured", (1200, 630)), ("in_article", (800, 450))])
def test_render_png(image_type, size):
    prompt = ImagePromptIn(prompt="A loaf of sourdough", image_type=image_type,
                           title="How to Make Sourdough Bread: A Step-by-Step Guide")
    res = provider().render_image(prompt)
    out = res.value
    assert (out.width, out.height, out.format) == (*size, "png")
    img = Image.open(io.BytesIO(out.data))
    assert img.format == "PNG" and img.size == size
    img.load()
    assert len(set(img.convert("RGB").getdata())) > 100  # a gradient and text, not a flat fill
    assert (res.usage.images, res.usage.model) == (1, MODEL)


def test_render_deterministic_and_prompt_dependent():
    p = ImagePromptIn(prompt="prompt one", title="Title")
    assert provider().render_image(p).value.data == provider().render_image(p).value.data
    q = ImagePromptIn(prompt="prompt two", title="Title")
    assert provider().render_image(p).value.data != provider().render_image(q).value.data


def test_render_custom_size():
    out = provider().render_image(ImagePromptIn(prompt="x", width=320, height=200)).value
    assert Image.open(io.BytesIO(out.data)).size == (320, 200)


# --- delay --------------------------------------------------------------------------------------

def test_delay_uses_injected_sleeper_once_per_call():
    calls = []
    p = OfflineProvider(delay_ms=300, sleeper=calls.append)
    p.generate_ideas(CLUSTER, 3)
    p.cluster_keywords(kw(), [])
    assert calls == [0.3, 0.3]


def test_no_delay_no_sleep():
    calls = []
    OfflineProvider(delay_ms=0, sleeper=calls.append).generate_ideas(CLUSTER, 3)
    assert calls == []


def test_delay_is_interruptible_by_should_stop():
    stop = threading.Event()
    p = OfflineProvider(delay_ms=5000, should_stop=stop.is_set)
    threading.Timer(0.2, stop.set).start()
    t0 = time.monotonic()
    res = p.generate_ideas(CLUSTER, 3)
    elapsed = time.monotonic() - t0
    assert 0.15 <= elapsed < 0.2 + 0.1 + 0.2  # stop seen within one 50 ms poll (+ slack for CI)
    assert res.value  # the call still completes with a full result


def test_delay_is_interruptible_by_event():
    stop = threading.Event()
    p = OfflineProvider(delay_ms=5000, should_stop=stop)
    stop.set()
    t0 = time.monotonic()
    p.generate_ideas(CLUSTER, 1)
    assert time.monotonic() - t0 < 0.1


def test_interruptible_sleeper_polls_every_50ms_and_runs_full_length():
    checks = []

    def should_stop():
        checks.append(time.monotonic())
        return False

    t0 = time.monotonic()
    assert interruptible_sleeper(should_stop)(0.3) is False
    assert 0.3 <= time.monotonic() - t0 < 0.5
    gaps = [b - a for a, b in zip(checks, checks[1:])]
    assert gaps and max(gaps) < 0.1
