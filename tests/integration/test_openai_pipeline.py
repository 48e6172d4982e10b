"""The whole pipeline (six stages, the engine's execute_run) with AI_PROVIDER=openai through the
real SDK against the local fake server: real HTTP, no network, real DB (SQLite and PostgreSQL).
Prompts sent, outputs stored, tokens/model/cost_usd in the usage log, retries honoured, failed items
never charged, and the circuit that pauses a run whose provider is down (then a resume finishes it)."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from sqlmodel import select

from igny8_app.db import read_session, write_session
from igny8_app.models import (AutomationRun, Cluster, Content, ContentIdea, CreditTransaction, CreditUsageLog, Image,
                              Keyword, RunEvent, Task)
from igny8_app.services.automation import control as automation
from igny8_app.services.billing import ledger as billing
from igny8_app.services.content import keywords
from igny8_app.services.automation import run_loop
from igny8_app.services.system.demo import demo_csv
from igny8_app.services.automation.run_loop import execute_run
from igny8_app.settings import get_settings
from tests.fake_openai import FakeOpenAI, Fault
from tests.factories import make_account, make_site

pytestmark = pytest.mark.usefixtures("redis")
CHAT = "/v1/chat/completions"
IMAGES = "/v1/images/generations"


@pytest.fixture
def fake(monkeypatch):
    server = FakeOpenAI().start()
    monkeypatch.setenv("AI_PROVIDER", "openai")
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env-key-9876")
    monkeypatch.setenv("OPENAI_MODEL", "fake-text-1")
    monkeypatch.setenv("OPENAI_MODEL_CONTENT", "fake-writer-2")
    monkeypatch.setenv("OPENAI_IMAGE_MODEL", "fake-image-1")
    monkeypatch.setenv("OPENAI_IMAGE_SIZE", "256x256")
    monkeypatch.setenv("OPENAI_TIMEOUT_S", "5")
    monkeypatch.setenv("AI_MODEL_PRICES", '{"fake-text-1": {"in": 1.0, "out": 4.0}, "fake-writer-2": {"in": 2.0, '
                                          '"out": 8.0}, "fake-image-1": {"image": 0.02}}')
    from igny8_app.settings import reset_settings

    reset_settings()
    yield server
    server.stop()


@pytest.fixture
def site(db):
    with write_session() as s:
        account = make_account(s, credits=50_000)
        site = make_site(s, account)
        lines = demo_csv().decode().splitlines()
        keywords.import_keywords(session=s, site_id=site.id, data=("\n".join(lines[:25]) + "\n").encode())
        return {"site_id": site.id, "account_id": account.id}


def _start(site_id: int) -> AutomationRun:
    with write_session() as s:  # one image in the article besides the featured one
        from igny8_app.models import AutomationConfig

        cfg = s.exec(select(AutomationConfig).where(AutomationConfig.site_id == site_id)).one_or_none()
        if cfg is not None:
            cfg.in_article_images = 1
            s.add(cfg)
    return automation.start_run(site_id=site_id, enqueue=False)


def test_full_pipeline_through_the_sdk_records_prompts_outputs_and_token_usage(fake, site):
    with write_session() as s:  # ideas are priced per token: 1 credit per 50 tokens, at least 2
        from igny8_app.models import CreditCostConfig

        rule = s.exec(select(CreditCostConfig).where(CreditCostConfig.operation_type == "ideas")).one()
        rule.unit, rule.tokens_per_credit, rule.min_credits = "per_1k_tokens", 50, 2
        s.add(rule)
    run = _start(site["site_id"])
    assert execute_run(run.id) == "completed"
    sid = site["site_id"]
    with read_session() as s:
        run = s.get(AutomationRun, run.id)
        assert run.status == "completed"
        kws = s.exec(select(Keyword).where(Keyword.site_id == sid)).all()
        clusters = s.exec(select(Cluster).where(Cluster.site_id == sid)).all()
        ideas = s.exec(select(ContentIdea).where(ContentIdea.site_id == sid)).all()
        tasks = s.exec(select(Task).where(Task.site_id == sid)).all()
        contents = s.exec(select(Content).where(Content.site_id == sid)).all()
        images = s.exec(select(Image).where(Image.site_id == sid)).all()
        logs = s.exec(select(CreditUsageLog).where(CreditUsageLog.run_id == run.run_id)).all()
        assert billing.reconcile(session=s).ok
        s.expunge_all()  # keep the loaded rows readable after the session closes
    assert len(kws) == 24 and all(k.status == "mapped" and k.cluster_id for k in kws)
    assert sum(c.keywords_count for c in clusters) == 24 and all(c.status == "mapped" for c in clusters)
    assert len(ideas) == len(tasks) == len(contents) > 0 and all(t.status == "completed" for t in tasks)
    assert all(c.html.startswith("<h2>") and c.prompt_status == "done" for c in contents)
    assert len(images) >= len(contents) and all(i.status == "generated" for i in images)

    # prompts: every keyword of a batch is in its clustering prompt; the second batch is offered the
    # clusters of the first (existing clusters are matched first) and joins at least one of them
    cluster_calls = fake.calls(CHAT, "ClustersReply")
    assert len(cluster_calls) == 2
    assert all(f": {k.keyword}" in cluster_calls[0].prompt for k in kws[:20])
    assert "(none yet)" in cluster_calls[0].prompt
    import json

    first_names = [c["name"] for c in json.loads(_reply_of(fake, cluster_calls[0]))["clusters"]]
    assert first_names and all(f": {name} — " in cluster_calls[1].prompt for name in first_names)
    joined = [c for c in json.loads(_reply_of(fake, cluster_calls[1]))["clusters"] if c["existing_cluster_id"]]
    assert joined, "the fake joins an existing cluster when the topic matches"
    assert len(clusters) == len({c["name"] for call in cluster_calls
                                 for c in json.loads(_reply_of(fake, call))["clusters"] if not c["existing_cluster_id"]})
    idea_calls = fake.calls(CHAT, "IdeasReply")
    assert len(idea_calls) == len(clusters)
    assert {c.name for c in clusters} == {_between(r.prompt, 'topic cluster "', '"') for r in idea_calls}
    content_calls = fake.calls(CHAT, "ArticleReply")
    assert [r.body["model"] for r in content_calls] == ["fake-writer-2"] * len(tasks)
    assert {t.title for t in tasks} == {_between(r.prompt, 'titled "', '"') for r in content_calls}
    image_calls = fake.calls(IMAGES)
    assert len(image_calls) == len(images) and all(r.body["model"] == "fake-image-1" for r in image_calls)
    assert {i.prompt for i in images} == {r.prompt.split(". High quality")[0] for r in image_calls}

    # images on disk, with their real size and format
    for img in images:
        data = (get_settings().media_dir / img.path).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and img.format == "png"
        assert (img.width, img.height, img.size_bytes) == (256, 256, len(data))

    # usage: tokens as the server reported them, per operation, with model and cost
    by_op: dict[str, list[CreditUsageLog]] = {}
    for log in logs:
        by_op.setdefault(log.operation_type, []).append(log)
    assert {op: len(v) for op, v in by_op.items()} == {"clustering": 2, "ideas": len(clusters), "content": len(tasks),
                                                       "image_prompts": len(contents), "images": len(images)}
    served = {"clustering": cluster_calls, "ideas": idea_calls, "content": content_calls,
              "image_prompts": fake.calls(CHAT, "ImagePromptsReply")}
    for op, calls in served.items():
        assert sum(log.tokens_in for log in by_op[op]) == sum(_usage_of(fake, r)[0] for r in calls) > 0
        assert sum(log.tokens_out for log in by_op[op]) == sum(_usage_of(fake, r)[1] for r in calls) > 0
    for log in by_op["content"]:
        assert log.model_used == "fake-writer-2"
        assert log.cost_usd == pytest.approx((log.tokens_in * 2.0 + log.tokens_out * 8.0) / 1e6, abs=1e-6)
    assert {log.model_used for log in by_op["ideas"]} == {"fake-text-1"}
    for log in by_op["ideas"]:  # credits from the real token counts
        assert log.credits_used == max(-(-(log.tokens_in + log.tokens_out) // 50), 2) > 2
    assert all(log.cost_usd == pytest.approx(0.02) and log.model_used == "fake-image-1" for log in by_op["images"])
    assert all(log.credits_used > 0 for log in logs)


def _between(text: str, start: str, end: str) -> str:
    return text.split(start, 1)[1].split(end, 1)[0]


def _replay(fake: FakeOpenAI, req) -> dict:  # noqa: ANN001
    """The fake's reply is a pure function of the request: recompute it."""
    return fake._chat(req.body, None)


def _reply_of(fake: FakeOpenAI, req) -> str:  # noqa: ANN001
    return _replay(fake, req)["choices"][0]["message"]["content"]


def _usage_of(fake: FakeOpenAI, req) -> tuple[int, int]:  # noqa: ANN001
    u = _replay(fake, req)["usage"]
    return u["prompt_tokens"], u["completion_tokens"]


def test_retries_are_honoured_and_an_invalid_item_fails_uncharged(fake, site):
    # the first clustering call is rate limited (Retry-After 0.3 s), the first image call hits a 500,
    # the first ideas item gets a malformed reply then a wrong schema: it fails, charged nothing
    fake.script(CHAT, Fault(429, {"Retry-After": "0.3"}))
    fake.script(IMAGES, Fault(500))
    run = _start(site["site_id"])
    assert execute_run(run.id, max_items=2) == "released"  # the two clustering batches
    first, second = fake.calls(CHAT)[:2]
    assert first.body == second.body and second.at - first.at >= 0.3
    fake.script(CHAT, Fault(content="{oops"), Fault(content='{"ideas": "none"}'))
    assert execute_run(run.id) == "completed"
    with read_session() as s:
        failed = s.exec(select(Cluster).where(Cluster.site_id == site["site_id"], Cluster.status == "failed")).all()
        assert len(failed) == 1 and "not valid JSON for the schema after 2 attempt(s)" in failed[0].last_error
        txs = s.exec(select(CreditTransaction).where(CreditTransaction.run_id == run.run_id)).all()
        assert not [t for t in txs if t.object_type == "cluster" and t.object_id == failed[0].id]
        charged_clusters = {t.object_id for t in txs if t.operation_type == "ideas"}
        mapped = {c.id for c in s.exec(select(Cluster).where(Cluster.site_id == site["site_id"],
                                                           Cluster.status == "mapped")).all()}
        assert charged_clusters == mapped and mapped
        images = s.exec(select(Image).where(Image.site_id == site["site_id"])).all()
        assert images and all(i.status == "generated" for i in images)
        run = s.get(AutomationRun, run.id)
        assert run.stage_results["2"]["failed_items"] == 1
    image_calls = fake.calls(IMAGES)
    assert len(image_calls) == len(images) + 1 and image_calls[0].body == image_calls[1].body


def test_circuit_pauses_the_run_then_resume_continues(fake, site, monkeypatch):
    monkeypatch.setenv("OPENAI_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("AI_CIRCUIT_THRESHOLD", "3")
    monkeypatch.setattr(run_loop, "CIRCUIT_WAIT_S", (0.0,))
    started = _start(site["site_id"])
    run_pk, run_id = started.id, started.run_id
    assert execute_run(run_pk, max_items=2) == "released"  # clustering done
    fake.fail_always(CHAT, Fault(503, {"Retry-After": "0"}))
    assert execute_run(run_pk) == "paused"
    with read_session() as s:
        run = s.get(AutomationRun, run_pk)
        assert (run.status, run.pause_reason) == ("paused", "provider_unavailable")
        clusters = s.exec(select(Cluster).where(Cluster.site_id == site["site_id"])).all()
        assert all(c.status == "new" for c in clusters)  # nothing failed: the item stays queued
        assert not s.exec(select(CreditTransaction).where(CreditTransaction.run_id == run_id,
                                                          CreditTransaction.operation_type == "ideas")).all()
        events = [e.message for e in s.exec(select(RunEvent).where(RunEvent.run_pk == run_pk)).all()]
        assert sum("AI provider unavailable" in m for m in events) == 3
        assert any(m.startswith("Paused: the AI provider failed 3 time(s) in a row (ideas (fake-text-1): HTTP 503")
                   for m in events)
    assert len(fake.calls(CHAT, "IdeasReply")) == 3 * 2  # 3 items x 2 attempts, all for the same cluster
    assert len({r.prompt for r in fake.calls(CHAT, "IdeasReply")}) == 1

    fake.fail_always(CHAT, None)
    automation.resume_run(run_id=run_id)
    assert execute_run(run_pk) == "completed"
    with read_session() as s:
        assert s.execute(sa.select(sa.func.count()).select_from(Cluster).where(
            Cluster.site_id == site["site_id"], Cluster.status != "mapped")).scalar_one() == 0
        run = s.get(AutomationRun, run_pk)
        assert run.status == "completed" and run.stage_results["2"]["failed_items"] == 0


def test_rq_workers_run_the_pipeline_through_the_sdk(fake, db, redis, tmp_path):
    """Two `igny8 worker` processes build the openai provider from their environment; a rate limit
    and a 500 on the way are retried; outputs and charges are exactly once."""
    from tests.engine_helpers import check_exactly_once, get_run, seed_site, start_workers, wait_until

    fake.script(CHAT, Fault(429, {"Retry-After": "0.2"}), Fault(500))
    workers = start_workers(2, log_dir=tmp_path / "workers", env={
        k: os.environ[k] for k in ("AI_PROVIDER", "OPENAI_BASE_URL", "OPENAI_API_KEY", "OPENAI_MODEL",
                                   "OPENAI_MODEL_CONTENT", "OPENAI_IMAGE_MODEL", "OPENAI_IMAGE_SIZE",
                                   "AI_MODEL_PRICES")} | {"RUN_HEARTBEAT_TIMEOUT_S": "10"})
    try:
        site = seed_site(n_keywords=24, in_article_images=1)
        run = automation.start_run(site_id=site.site_id)

        def finished():  # noqa: ANN202
            workers.assert_alive()
            status = get_run(run.id).status
            return status if status in ("completed", "failed", "paused", "cancelled") else None

        assert wait_until(finished, timeout=240, interval=0.2, what="the run to finish") == "completed"
    finally:
        workers.stop()
    figures = check_exactly_once(site.site_id, site.account_id)
    assert figures["outputs"][1] == 24 and figures["outputs"][6] > 0
    with read_session() as s:
        logs = s.exec(select(CreditUsageLog).where(CreditUsageLog.run_id == run.run_id)).all()
        s.expunge_all()
    assert logs and {log.model_used for log in logs} == {"fake-text-1", "fake-writer-2", "fake-image-1"}
    assert all(log.tokens_in > 0 for log in logs if log.operation_type != "images")
    first, second, third = fake.calls(CHAT)[:3]
    assert first.body == second.body == third.body  # the 429 and the 500 were retried
    assert second.at - first.at >= 0.2


def test_a_pause_during_a_retry_wait_takes_effect_without_waiting_it_out(fake, site, monkeypatch):
    """A 429 asks for 5 minutes; the operator pauses meanwhile: the run pauses (the item stays queued,
    nothing charged) instead of sleeping out the Retry-After, and a resume finishes the run."""
    import threading

    from tests.engine_helpers import wait_until

    monkeypatch.setattr(run_loop, "CIRCUIT_WAIT_S", (0.0,))
    monkeypatch.setenv("OPENAI_MAX_RETRY_AFTER_S", "600")
    fake.script(CHAT, Fault(429, {"Retry-After": "300"}))
    started = _start(site["site_id"])
    outcome: list[str] = []
    worker = threading.Thread(target=lambda: outcome.append(execute_run(started.id)), daemon=True)
    worker.start()
    wait_until(lambda: len(fake.requests) >= 1, timeout=60, interval=0.05, what="the first AI request")
    automation.pause_run(run_id=started.run_id)
    worker.join(timeout=120)  # far less than the 300 s the server asked for
    assert outcome == ["paused"]
    assert len(fake.requests) == 1  # the retry never happened
    with read_session() as s:
        run = s.get(AutomationRun, started.id)
        assert (run.status, run.pause_reason) == ("paused", "operator")
        assert s.execute(sa.select(sa.func.count()).select_from(Keyword).where(
            Keyword.site_id == site["site_id"], Keyword.status == "new")).scalar_one() == 24
        assert not s.exec(select(CreditTransaction).where(CreditTransaction.run_id == started.run_id)).all()
    automation.resume_run(run_id=started.run_id)
    assert execute_run(started.id) == "completed"
