"""The OpenAI-compatible provider through the real SDK against the local fake server (real HTTP,
no network): prompts, JSON validation and re-asks, retries and Retry-After, timeouts, usage, images."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from igny8_app.ai import get_provider
from igny8_app.ai.base import ClusterIn, ClusterRef, ContentIn, ImagePromptIn, KeywordIn, ProviderError, TaskIn
from igny8_app.ai.openai_provider import OpenAIProvider
from igny8_app.ai.openai_replies import mask_key
from igny8_app.ai.resilience import ProviderUnavailable, RetryPolicy, parse_retry_after
from tests.fake_openai import FakeOpenAI, Fault

CHAT = "/v1/chat/completions"
IMAGES = "/v1/images/generations"
PRICES = {"m-text": {"in": 1.0, "out": 2.0}, "m-img": {"image": 0.05}}


@pytest.fixture
def fake():
    server = FakeOpenAI().start()
    yield server
    server.stop()


class Waits(list):
    """A sleeper that records the waits instead of sleeping (returns False: not interrupted)."""

    def __call__(self, seconds: float) -> bool:
        self.append(seconds)
        return False


def provider(fake: FakeOpenAI, waits: Waits | None = None, **kw) -> OpenAIProvider:  # noqa: ANN003
    args = dict(base_url=fake.base_url, api_key="sk-test-1234", timeout_s=5.0, prices=PRICES,
                models={op: "m-text" for op in ("clustering", "ideas", "content", "image_prompts")} | {"images": "m-img"},
                sleeper=waits if waits is not None else Waits(), rng=random.Random(7), max_attempts=4,
                schema_attempts=2)
    args.update(kw)
    return get_provider("openai", **args)


CLUSTER = ClusterIn(id=3, name="Trail running shoes", description="Shoes for trails",
                    keywords=("trail running shoes", "best trail shoes"), volume=900)


def test_registered_and_ideas_round_trip_with_usage_and_cost(fake):
    p = provider(fake)
    assert isinstance(p, OpenAIProvider) and p.name == "openai"
    res = p.generate_ideas(CLUSTER, 2)
    assert [i.content_structure for i in res.value] == ["how_to_guide", "listicle"]
    assert res.value[0].keywords == ("trail running shoes", "best trail shoes")
    (req,) = fake.calls(CHAT)
    assert req.body["model"] == "m-text" and req.body["response_format"] == {"type": "json_object"}
    assert "Trail running shoes" in req.prompt and "- best trail shoes" in req.prompt and "up to 2" in req.prompt
    assert req.headers["authorization"] == "Bearer sk-test-1234"
    u = res.usage
    assert u.model == "m-text" and u.requests == 1 and u.items == 2 and u.tokens_in > 50 and u.tokens_out > 20
    assert u.cost_usd == pytest.approx((u.tokens_in * 1.0 + u.tokens_out * 2.0) / 1e6, abs=1e-6)


def test_429_retry_after_is_honoured_exactly(fake):
    waits = Waits()
    fake.script(CHAT, Fault(429, {"Retry-After": "7"}), Fault(429, {"retry-after-ms": "1500"}))
    res = provider(fake, waits).generate_ideas(CLUSTER, 1)
    assert len(res.value) == 1 and len(fake.calls(CHAT)) == 3
    assert waits == [7.0, 1.5]


def test_5xx_backoff_is_exponential_with_jitter(fake):
    waits = Waits()
    fake.script(CHAT, Fault(500), Fault(503), Fault(502))
    provider(fake, waits, retry_base_s=1.0).generate_ideas(CLUSTER, 1)
    assert len(waits) == 3
    for n, w in enumerate(waits):  # base x 2^n scaled by a jitter factor in [0.5, 1]
        assert 0.5 * 2 ** n <= w <= 2 ** n
    assert len(set(round(w / 2 ** n, 6) for n, w in enumerate(waits))) > 1  # really jittered


def test_retries_exhausted_is_provider_unavailable(fake):
    waits = Waits()
    fake.fail_always(CHAT, Fault(500))
    with pytest.raises(ProviderUnavailable) as info:
        provider(fake, waits, max_attempts=3).generate_ideas(CLUSTER, 1)
    assert "HTTP 500" in str(info.value) and "after 3 attempts" in str(info.value)
    assert len(fake.calls(CHAT)) == 3 and len(waits) == 2


def test_retry_after_beyond_the_cap_gives_up_at_once(fake):
    fake.script(CHAT, Fault(429, {"Retry-After": "3600"}))
    with pytest.raises(ProviderUnavailable, match="asks to wait 3600"):
        provider(fake, max_retry_after_s=60).generate_ideas(CLUSTER, 1)
    assert len(fake.calls(CHAT)) == 1


def test_bad_key_is_unavailable_without_retry_and_bad_request_fails_the_item(fake):
    fake.script(CHAT, Fault(401, body={"error": {"message": "Incorrect API key provided"}}))
    with pytest.raises(ProviderUnavailable, match="authentication failed.*Incorrect API key"):
        provider(fake).generate_ideas(CLUSTER, 1)
    fake.script(CHAT, Fault(400, body={"error": {"message": "context too long"}}))
    with pytest.raises(ProviderError) as info:
        provider(fake).generate_ideas(CLUSTER, 1)
    assert not isinstance(info.value, ProviderUnavailable) and not info.value.retryable
    assert len(fake.calls(CHAT)) == 2


def test_slow_response_times_out_then_retries(fake):
    waits = Waits()
    fake.script(CHAT, Fault(delay_s=3.0))
    res = provider(fake, waits, timeout_s=0.5).generate_ideas(CLUSTER, 1)
    assert len(res.value) == 1 and len(fake.calls(CHAT)) == 2 and len(waits) == 1


def test_malformed_json_is_asked_again_and_tokens_of_both_calls_count(fake):
    fake.script(CHAT, Fault(content="{not json"))
    res = provider(fake).generate_ideas(CLUSTER, 1)
    first, second = fake.calls(CHAT)
    assert len(res.value) == 1 and res.usage.requests == 2
    assert second.body["messages"][-2] == {"role": "assistant", "content": "{not json"}
    assert "was not valid" in second.body["messages"][-1]["content"]
    assert res.usage.tokens_in > 2 * 50  # both prompts


def test_wrong_schema_twice_fails_the_item_cleanly(fake):
    fake.script(CHAT, Fault(content='{"ideas": []}'), Fault(content='{"wrong": 1}'))
    with pytest.raises(ProviderError) as info:
        provider(fake).generate_ideas(CLUSTER, 1)
    assert not info.value.retryable and not isinstance(info.value, ProviderUnavailable)
    assert "not valid JSON for the schema after 2 attempt(s)" in info.value.message
    assert "ideas: Field required" in info.value.message


def test_clustering_offers_existing_clusters_and_joins_them(fake):
    p = provider(fake)
    kws = [KeywordIn(1, "trail shoes for mud", 10), KeywordIn(2, "sourdough starter recipe", 20),
           KeywordIn(3, "sourdough bread flour", 5)]
    res = p.cluster_keywords(kws, [ClusterRef(9, "Trail shoes", ("trail shoes", "shoes for trails"))],
                             context=("waterproof trail shoes",))
    (req,) = fake.calls(CHAT)
    assert "9: Trail shoes — trail shoes, shoes for trails" in req.prompt
    assert "1: trail shoes for mud" in req.prompt and "waterproof trail shoes" in req.prompt
    by_existing = {c.existing_cluster_id: c for c in res.value}
    assert by_existing[9].keyword_ids == (1,) and by_existing[9].volume == 10
    assert by_existing[None].keyword_ids == (2, 3) and by_existing[None].volume == 25
    assert res.usage.items == 3


def test_article_and_image_prompts(fake):
    p = provider(fake)
    art = p.write_content(TaskIn(id=1, title="Trail shoes guide", keywords=("trail shoes",), word_count=800))
    assert art.value.html.startswith("<h2>") and art.usage.words == art.value.word_count > 40
    prompts = p.image_prompts(ContentIn(id=1, title="Trail shoes guide", html=art.value.html), 2)
    assert [(x.image_type, x.position) for x in prompts.value] == [("featured", 0), ("in_article", 1), ("in_article", 2)]


def test_prompt_override_is_used(fake):
    p = provider(fake, prompts={"ideas": "Ideas please for {{cluster_name}} ({{max_ideas}}): {{keywords}}"})
    p.generate_ideas(CLUSTER, 1)
    assert fake.calls(CHAT)[0].prompt == "Ideas please for Trail running shoes (1): - trail running shoes\n- best trail shoes"


@pytest.mark.parametrize("mode,fmt", [("b64_json", "png"), ("url", "jpeg")])
def test_images_b64_and_url(fake, mode, fmt):
    p = provider(fake, image_size="256x256", image_response_format=mode)
    res = p.render_image(ImagePromptIn(prompt="A trail in the mountains.", title="Trail"))
    assert (res.value.format, res.value.width, res.value.height) == (fmt, 256, 256)
    (req,) = fake.calls(IMAGES)
    assert req.body["model"] == "m-img" and req.body["response_format"] == mode
    assert req.body["prompt"].startswith("A trail in the mountains. High quality")
    assert res.usage.images == 1 and res.usage.cost_usd == pytest.approx(0.05)


def test_check_reports_success_and_failure(fake):
    ok = provider(fake).check()
    assert ok["ok"] and "replied 'OK'" in ok["message"]
    fake.fail_always(CHAT, Fault(401, body={"error": {"message": "bad key"}}))
    bad = provider(fake).check()
    assert not bad["ok"] and "authentication failed" in bad["message"]


def test_unreachable_server_is_unavailable():
    waits = Waits()
    p = get_provider("openai", base_url="http://127.0.0.1:9/v1", api_key="k", sleeper=waits, max_attempts=2)
    with pytest.raises(ProviderUnavailable, match="cannot connect"):
        p.generate_ideas(CLUSTER, 1)
    assert len(waits) == 1


def test_retry_after_parsing_and_policy():
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert parse_retry_after({"Retry-After": "12"}) == 12.0
    assert parse_retry_after({"retry-after-ms": "250"}) == 0.25
    date = (now + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert parse_retry_after({"Retry-After": date}, now=now) == 30.0
    assert parse_retry_after({"Retry-After": "soon"}) is None and parse_retry_after({}) is None
    policy = RetryPolicy(base_s=1.0, max_backoff_s=4.0, jitter=0.0, max_retry_after_s=10)
    assert [policy.wait_for(n, None) for n in range(4)] == [1.0, 2.0, 4.0, 4.0]
    assert policy.wait_for(0, 3.0) == 3.0 and policy.wait_for(0, 11.0) is None


def test_mask_key():
    assert mask_key("sk-abcdef123456") == "…3456" and mask_key("") == "" and mask_key("abc") == "set"


def test_a_new_cluster_named_like_an_existing_one_joins_it(fake):
    import json

    reply = {"clusters": [
        {"name": "Trail Shoes!", "description": "", "keyword_ids": [1], "existing_cluster_id": None},
        {"name": "Sourdough", "description": "Bread", "keyword_ids": [2], "existing_cluster_id": None},
        {"name": "sourdough", "description": "", "keyword_ids": [3, 2], "existing_cluster_id": None},
        {"name": "Ghost", "description": "", "keyword_ids": [4], "existing_cluster_id": 777},
    ]}
    fake.script(CHAT, Fault(content=json.dumps(reply)))
    kws = [KeywordIn(1, "mud trail shoes", 1), KeywordIn(2, "sourdough starter", 2), KeywordIn(3, "sourdough flour", 3),
           KeywordIn(4, "ghost", 4)]
    res = provider(fake).cluster_keywords(kws, [ClusterRef(9, "Trail shoes", ("trail shoes",))])
    got = {(c.existing_cluster_id, c.name): (c.keyword_ids, c.volume) for c in res.value}
    assert got == {(9, "Trail Shoes!"): ((1,), 1), (None, "Sourdough"): ((2, 3), 5), (777, "Ghost"): ((4,), 4)}


def test_json_mode_can_be_switched_off_for_servers_without_it(fake, monkeypatch):
    monkeypatch.setenv("OPENAI_JSON_MODE", "0")
    provider(fake).generate_ideas(CLUSTER, 1)
    assert "response_format" not in fake.calls(CHAT)[0].body


def test_image_url_download_failures_are_retried(fake, monkeypatch):
    import httpx

    import igny8_app.ai.openai_provider as mod

    waits = Waits()
    p = provider(fake, waits, image_size="64x64", image_response_format="url")
    real_get, calls = httpx.get, []

    def flaky_get(url, **kw):  # noqa: ANN001, ANN003 - the first download answers 503, then the real file
        calls.append(url)
        return httpx.Response(503) if len(calls) == 1 else real_get(url, **kw)

    monkeypatch.setattr(mod.httpx, "get", flaky_get)
    res = p.render_image(ImagePromptIn(prompt="A lake"))
    assert res.value.format == "jpeg" and len(calls) == 2 and len(waits) == 1
    assert len(fake.calls(IMAGES)) == 1  # the image was generated once; only the download was retried


def test_only_the_most_related_existing_clusters_are_offered_when_there_are_many():
    from igny8_app.ai.openai_replies import relevant_existing

    existing = [ClusterRef(i, f"Topic {i}", (f"filler{i} words",)) for i in range(1, 301)]
    existing[9] = ClusterRef(10, "Sourdough bread", ("sourdough starter", "rye bread"))
    existing[19] = ClusterRef(20, "Trail shoes", ("trail running shoes",))
    kws = [KeywordIn(1, "best sourdough starter"), KeywordIn(2, "trail shoes for mud")]
    shown = relevant_existing(kws, existing, limit=5)
    assert [r.id for r in shown] == [10, 20, 298, 299, 300]  # related first, then the newest; original order
    assert relevant_existing(kws, existing[:5], limit=5) == existing[:5]


def test_a_refused_optional_parameter_is_dropped_and_remembered(fake):
    fake.script(CHAT, Fault(400, body={"error": {
        "message": "Unsupported value: 'temperature' does not support 0.4 with this model. Only the default (1) "
                   "value is supported.", "type": "invalid_request_error", "param": "temperature",
        "code": "unsupported_value"}}),
        Fault(400, body={"error": {"message": "'response_format' of type 'json_object' is not supported"}}))
    p = provider(fake)
    assert len(p.generate_ideas(CLUSTER, 1).value) == 1
    first, second, third = fake.calls(CHAT)
    assert "temperature" in first.body and "temperature" not in second.body and "response_format" in second.body
    assert "temperature" not in third.body and "response_format" not in third.body
    p.generate_ideas(CLUSTER, 1)  # remembered: no more refusals
    assert len(fake.calls(CHAT)) == 4 and "temperature" not in fake.calls(CHAT)[3].body
    fake.script(CHAT, Fault(400, body={"error": {"message": "context length exceeded", "param": "messages"}}))
    with pytest.raises(ProviderError, match="HTTP 400: context length exceeded"):
        p.generate_ideas(CLUSTER, 1)


def test_image_model_offline_draws_images_locally_for_servers_without_an_images_endpoint(fake):
    p = provider(fake, models={"images": "offline"})
    res = p.render_image(ImagePromptIn(prompt="A lake", title="Lakes", image_type="featured"))
    assert (res.value.format, res.value.width, res.value.height) == ("png", 1200, 630)
    assert res.usage.model == "offline-deterministic" and res.usage.images == 1
    assert fake.calls(IMAGES) == []
