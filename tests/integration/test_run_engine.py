"""The run loop in-process (no RQ): full pipeline, pause/resume/cancel at item granularity,
insufficient credits, item failures, stale duplicate jobs. Real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlmodel import select

from igny8_app.ai.base import ProviderError, get_provider
from igny8_app.db import read_session, write_session
from igny8_app.models import (AutomationRun, Cluster, Content, ContentIdea, CreditTransaction, Image, Keyword,
                              SiteLock, StageProgress, Task)
from igny8_app.services.automation import control as automation
from igny8_app.services.billing import ledger as billing
from igny8_app.services.content import keywords
from igny8_app.services.system.demo import demo_csv
from igny8_app.services.automation.run_loop import execute_run
from tests.factories import make_account, make_site

pytestmark = pytest.mark.usefixtures("redis")


@pytest.fixture
def site(db):
    with write_session() as s:
        account = make_account(s, credits=50_000)
        site = make_site(s, account)
        keywords.import_keywords(session=s, site_id=site.id, data=demo_csv_small())
        return {"site_id": site.id, "account_id": account.id}


def demo_csv_small(n: int = 24) -> bytes:
    lines = demo_csv().decode().splitlines()
    # take whole topics (17 keywords each) so the clusters are meaningful
    return ("\n".join(lines[: n + 1]) + "\n").encode()


class CountingProvider:
    """The offline provider, counting calls, with optional hooks per call."""

    def __init__(self, on_call=None, fail_on=None):  # noqa: ANN001
        self.inner = get_provider("offline", delay_ms=0)
        self.calls: list[str] = []
        self.on_call = on_call
        self.fail_on = fail_on or (lambda name, n: False)
        self.name = "counting"

    def __getattr__(self, item):  # noqa: ANN001
        fn = getattr(self.inner, item)

        def wrapper(*args, **kwargs):  # noqa: ANN002, ANN003
            self.calls.append(item)
            if self.fail_on(item, len(self.calls)):
                raise ProviderError(f"simulated failure in {item}", retryable=False)
            out = fn(*args, **kwargs)
            if self.on_call:
                self.on_call(item, len(self.calls))
            return out

        return wrapper


def _run(site_id: int) -> AutomationRun:
    return automation.start_run(site_id=site_id, enqueue=False)


def _counts(site_id: int) -> dict[str, int]:
    with read_session() as s:
        def c(model, *where):  # noqa: ANN001, ANN202
            return s.execute(sa.select(sa.func.count()).select_from(model).where(model.site_id == site_id, *where)).scalar_one()
        return {
            "kw_new": c(Keyword, Keyword.status == "new"), "kw_mapped": c(Keyword, Keyword.status == "mapped"),
            "clusters": c(Cluster), "clusters_mapped": c(Cluster, Cluster.status == "mapped"),
            "ideas": c(ContentIdea), "tasks": c(Task), "tasks_done": c(Task, Task.status == "completed"),
            "content": c(Content), "prompts_done": c(Content, Content.prompt_status == "done"),
            "images": c(Image), "images_done": c(Image, Image.status == "generated"),
        }


def test_full_pipeline_completes_exactly_once(site):
    run = _run(site["site_id"])
    provider = CountingProvider()
    assert execute_run(run.id, provider=provider) == "completed"
    counts = _counts(site["site_id"])
    assert counts["kw_new"] == 0 and counts["kw_mapped"] == 24
    assert counts["clusters"] >= 2 and counts["clusters_mapped"] == counts["clusters"]
    assert counts["tasks"] == counts["ideas"] == counts["tasks_done"] == counts["content"]
    assert counts["prompts_done"] == counts["content"]
    assert counts["images"] == counts["images_done"] > counts["content"]
    with read_session() as s:
        run = s.get(AutomationRun, run.id)
        assert run.status == "completed" and run.completed_at is not None
        assert s.get(SiteLock, site["site_id"]) is None
        txs = s.exec(select(CreditTransaction).where(CreditTransaction.run_id == run.run_id)).all()
        keys = [t.idempotency_key for t in txs]
        assert len(keys) == len(set(keys))
        assert run.total_credits_used == -sum(t.amount for t in txs) > 0
        assert billing.reconcile(session=s).ok
        state = automation.processing_state(session=s, run=run)
        assert state["status"] == "completed" and state["percentage"] == 100
        assert [st["finished"] for st in state["stages"]] == [True] * 6
        image_paths = [i.path for i in s.exec(select(Image).where(Image.site_id == site["site_id"])).all()]
    from igny8_app.settings import get_settings

    for rel in image_paths:
        path = get_settings().media_dir / rel
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # an AI call per item: 2 clustering batches of ≤20, one per cluster, task, content, image
    assert provider.calls.count("cluster_keywords") == 2
    assert provider.calls.count("render_image") == counts["images"]


def test_pause_after_current_item_then_resume_continues_with_next(site):
    run = _run(site["site_id"])
    done = []

    def pause_on_third_content(name, n):  # noqa: ANN001
        if name == "write_content":
            done.append(n)
            if len(done) == 3:
                automation.pause_run(run_id=run.run_id)

    assert execute_run(run.id, provider=CountingProvider(on_call=pause_on_third_content)) == "paused"
    with read_session() as s:
        r = s.get(AutomationRun, run.id)
        assert r.status == "paused" and r.pause_reason == "operator" and r.requested_action is None
        prog = s.exec(select(StageProgress).where(StageProgress.run_pk == run.id, StageProgress.stage == 4)).one()
        assert prog.processed_items == 3  # the current item finished, then it stopped
    assert _counts(site["site_id"])["content"] == 3
    automation.resume_run(run_id=run.run_id)
    provider = CountingProvider()
    assert execute_run(run.id, provider=provider) == "completed"
    counts = _counts(site["site_id"])
    assert provider.calls.count("write_content") == counts["tasks"] - 3  # never repeats a committed one
    assert counts["content"] == counts["tasks"]


def test_cancel_is_final_and_releases_the_site(site):
    run = _run(site["site_id"])

    def cancel_on_first_idea(name, n):  # noqa: ANN001
        if name == "generate_ideas":
            automation.cancel_run(run_id=run.run_id)

    assert execute_run(run.id, provider=CountingProvider(on_call=cancel_on_first_idea)) == "cancelled"
    with read_session() as s:
        r = s.get(AutomationRun, run.id)
        assert r.status == "cancelled" and r.cancelled_at and r.completed_at
        assert s.get(SiteLock, site["site_id"]) is None
    assert _counts(site["site_id"])["ideas"] > 0
    from igny8_app.domain.errors import Conflict

    with pytest.raises(Conflict):
        automation.resume_run(run_id=run.run_id)
    assert execute_run(run.id, provider=CountingProvider()) == "not_acquired"
    automation.start_run(site_id=site["site_id"], enqueue=False)  # the site is free again


def test_pause_before_any_worker_takes_effect_at_once(site):
    run = _run(site["site_id"])
    state = automation.pause_run(run_id=run.run_id)
    assert state["status"] == "paused"
    assert execute_run(run.id, provider=CountingProvider()) == "not_acquired"
    state = automation.cancel_run(run_id=run.run_id)
    assert state["status"] == "cancelled"


def test_insufficient_credits_mid_run_pauses_and_resume_works_after_top_up(site):
    run = _run(site["site_id"])
    _drain_to(site["account_id"], 12)  # leave just enough for a little work
    assert execute_run(run.id, provider=CountingProvider()) == "paused"
    with read_session() as s:
        r = s.get(AutomationRun, run.id)
        assert r.status == "paused" and r.pause_reason == "insufficient_credits"
        assert billing.balance(session=s, account_id=site["account_id"]) >= 0
        assert billing.reconcile(session=s).ok
    with write_session() as s:
        billing.grant(session=s, account_id=site["account_id"], amount=50_000, idempotency_key="topup",
                      description="top up")
    automation.resume_run(run_id=run.run_id)
    assert execute_run(run.id, provider=CountingProvider()) == "completed"
    with read_session() as s:
        assert billing.reconcile(session=s).ok


def _drain_to(account_id: int, left: int) -> None:
    from igny8_app.domain.costs import Usage

    with write_session() as s:
        bal = billing.balance(session=s, account_id=account_id)
        # a per_image charge of N images costs 2N credits: drain in one deduction
        from igny8_app.models import CreditCostConfig

        cfg = s.exec(select(CreditCostConfig).where(CreditCostConfig.operation_type == "images")).one()
        n = (bal - left) // cfg.credits_cost
        billing.charge(session=s, account_id=account_id, operation_type="images", usage=Usage(images=n),
                       idempotency_key="drain", description="drain for test")


def test_failed_items_are_marked_not_charged_and_the_run_goes_on(site):
    run = _run(site["site_id"])
    provider = CountingProvider(fail_on=lambda name, n: name == "write_content" and n % 2 == 0)
    assert execute_run(run.id, provider=provider) == "completed"
    with read_session() as s:
        failed = s.exec(select(Task).where(Task.site_id == site["site_id"], Task.status == "failed")).all()
        assert failed and all(t.last_error and t.attempts == 1 for t in failed)
        charged = {t.object_id for t in s.exec(select(CreditTransaction).where(
            CreditTransaction.run_id == run.run_id, CreditTransaction.stage == 4)).all()}
        assert not charged & {t.id for t in failed}
        prog = s.exec(select(StageProgress).where(StageProgress.run_pk == run.id, StageProgress.stage == 4)).one()
        assert prog.failed_items == len(failed)
    counts = automation.retry_failed_items(site_id=site["site_id"])
    assert counts["tasks"] == len(failed)


def test_a_second_job_cannot_work_a_leased_run(site):
    run = _run(site["site_id"])
    results = []
    barrier = threading.Event()

    def slow(name, n):  # noqa: ANN001
        if n == 1:
            barrier.set()
            results.append(execute_run(run.id, provider=CountingProvider(), owner="intruder"))

    assert execute_run(run.id, provider=CountingProvider(on_call=slow), owner="first") == "completed"
    assert results == ["not_acquired"]


def test_start_refuses_second_run_and_low_balance(site):
    from igny8_app.domain.errors import Conflict, InsufficientCredits

    _run(site["site_id"])
    with pytest.raises(Conflict, match="already has an active run"):
        _run(site["site_id"])
    with write_session() as s:
        account = make_account(s, credits=1)
        other = make_site(s, account)
        keywords.import_keywords(session=s, site_id=other.id, data=demo_csv_small())
        other_id = other.id
    with pytest.raises(InsufficientCredits) as exc:
        _run(other_id)
    assert "balance is 1" in exc.value.message and str(exc.value.needed) in exc.value.message
