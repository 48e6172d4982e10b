"""The stage registry is the one place a stage is declared: a finished run keeps the last stage's
number, and two do-nothing test stages (7 and 8, over a test-only table) appended to the registry
run in a full pipeline run and show in the processing state ("Stage 8/8"), the pipeline overview,
retry-failed, the review gates, the automation API and its OpenAPI document, with no other code change.
Real database (SQLite and PostgreSQL) and Redis; the offline provider, in-process run loop."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime

import pytest
import schemathesis
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from starlette.applications import Starlette
from starlette.testclient import TestClient

from igny8_app import db as dbmod
from igny8_app.ai.base import ProviderError, ProviderResult
from igny8_app.api import automation_routes, openapi
from igny8_app.domain.costs import Usage
from igny8_app.models import StageProgress
from igny8_app.models.base import UTCDateTime
from igny8_app.pipeline import stages as registry
from igny8_app.pipeline.stages.base import Applied, Queue, Stage, WorkItem, mark_done, next_rows
from igny8_app.services.accounts import access as accounts
from igny8_app.services.automation import config as automation_config
from igny8_app.services.automation import control as automation
from igny8_app.services.automation.overview import pipeline_overview
from igny8_app.services.automation.run_loop import execute_run
from igny8_app.services.billing import ledger as billing
from tests.engine_helpers import get_run, seed_site
from tests.factories import make_user

pytestmark = pytest.mark.usefixtures("redis")
A = "/api/v1/automation"


class _TestBase(DeclarativeBase):  # its own metadata: the app's models (and migrations) never see it
    pass


class ItemRow(_TestBase):
    """One row per item, with a status column per test stage (7 moves s7, 8 moves s8)."""

    __tablename__ = "test_stage_item"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.Integer, index=True)
    title: Mapped[str] = mapped_column(sa.String(100))
    s7_status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    s8_status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


FAIL_TITLE = "fails in stage 8"


def noop_stage(number: int, *, fail_once: set[str] | None = None) -> Stage:
    """A do-nothing stage over ``ItemRow``'s ``s<number>_status``: no AI, no credits."""
    queue = Queue(f"test stage {number} items", ItemRow, f"s{number}_status", "pending", ("done",), "title")

    def fetch(s, site_id, limit, config):  # noqa: ANN001, ANN202
        rows = next_rows(s, queue, site_id)
        return WorkItem(number, [rows[0].id], rows[0].title, f"t{number}:{rows[0].id}") if rows else None

    def compute(item, provider):  # noqa: ANN001, ANN202
        if fail_once is not None and item.title in fail_once:
            fail_once.discard(item.title)
            raise ProviderError(f"simulated failure of {item.title}", retryable=False)
        return ProviderResult(None, Usage(requests=0))

    def apply(s, item, result, ctx):  # noqa: ANN001, ANN202
        mark_done(s, queue, item.ids)
        return Applied(1, None, None, "test_item", item.ids[0])

    return Stage(number=number, name=f"test_{number}", title=f"Test stage {number}", icon="circle", unit="item",
                 queue=queue, operation_type=None, fetch=fetch, compute=compute, apply=apply)


@pytest.fixture
def world(db, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict]:
    from argon2 import PasswordHasher

    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    ref = seed_site(n_keywords=24, credits=50_000)
    _TestBase.metadata.create_all(dbmod.get_engine())  # each test has its own database
    with dbmod.write_session() as s:
        from igny8_app.models import Account

        user = make_user(s, account=s.get(Account, ref.account_id).name, role="owner")
        token = accounts.create_api_token(session=s, user_id=user.id)[1]
        s.add_all([ItemRow(site_id=ref.site_id, title=t) for t in ("first", FAIL_TITLE, "third")])
    with TestClient(Starlette(routes=[*automation_routes.routes, *openapi.routes]),
                    headers={"Authorization": f"Bearer {token}"}) as client:
        yield {"site_id": ref.site_id, "account_id": ref.account_id, "client": client}


def test_a_completed_run_keeps_the_last_stage_number(world) -> None:
    run = automation.start_run(site_id=world["site_id"], enqueue=False)
    assert execute_run(run.id) == "completed"
    done = get_run(run.id)
    assert (done.status, done.current_stage) == ("completed", registry.last().number)  # was 7: past the end
    state = automation.get_processing_state(run_id=done.run_id)
    assert (state["current_stage"], state["stage_count"], state["percentage"]) == (6, 6, 100)


def test_registered_stages_7_and_8_run_and_show_everywhere(world) -> None:
    client, site = world["client"], {"site_id": world["site_id"]}
    with ExitStack() as stack:
        stack.enter_context(registry.registered(noop_stage(7)))
        stack.enter_context(registry.registered(noop_stage(8, fail_once={FAIL_TITLE})))
        assert registry.numbers() == [1, 2, 3, 4, 5, 6, 7, 8] and registry.last().number == 8
        doc = client.get(openapi.OPENAPI_PATH).json()
        schema = schemathesis.openapi.from_dict(doc)

        def call(method: str, name: str, status: int = 200, *, params: dict | None = None, **kw):  # noqa: ANN202
            r = client.request(method, f"{A}/{name}", params={**site, **(params or {})}, **kw)
            assert r.status_code == status, (name, r.text)
            schema[f"{A}/{name}"][method].validate_response(r)
            return r.json()

        # the estimate chains through the new stages too: no hook, no credits, their items counted
        est = call("GET", "estimate")
        assert sorted(est["stages"], key=int) == ["1", "2", "3", "4", "5", "6", "7", "8"]
        assert est["stages"]["7"] == est["stages"]["8"] == 0
        assert est["items"]["test stage 7 items"] >= 3 and est["items"]["test stage 8 items"] >= 3

        # a review gate after stage 7 is a valid setting now that 7 is not the last stage
        call("PUT", "update_config", json={"review_after_stages": [7]})
        run_id = call("POST", "run_now", 201)["run_id"]
        run_pk = get_run_pk(run_id)
        assert execute_run(run_pk) == "paused"  # after stage 7, for review

        state = call("GET", "current_processing")
        assert (state["status"], state["pause_reason"], state["current_stage"]) == ("paused", "review", 8)
        assert f"Stage {state['current_stage']}/{state['stage_count']}" == "Stage 8/8"  # the card's heading
        assert state["stage_name"] == "Test stage 8"
        assert [st["stage"] for st in state["stages"]] == [1, 2, 3, 4, 5, 6, 7, 8]
        assert state["stages"][6]["processed_items"] == 3 and state["stages"][6]["finished"]

        call("POST", "resume")
        assert execute_run(run_pk) == "completed"
        done = get_run(run_pk)
        assert (done.status, done.current_stage) == ("completed", 8)
        with dbmod.read_session() as s:
            prog = {p.stage: (p.processed_items, p.failed_items, p.credits_used, p.finished_at is not None)
                    for p in s.execute(sa.select(StageProgress).where(StageProgress.run_pk == run_pk)).scalars()}
            assert billing.reconcile(session=s).ok
        assert prog[7] == (3, 0, 0, True) and prog[8] == (2, 1, 0, True)

        overview = call("GET", "pipeline_overview")["stages"]
        assert overview == pipeline_overview_now(world["site_id"])
        assert overview[-2:] == [
            {"stage": 7, "name": "Test stage 7", "pending": 0, "processed": 3, "failed": 0},
            {"stage": 8, "name": "Test stage 8", "pending": 0, "processed": 2, "failed": 1}]

        retried = call("POST", "retry_failed")
        assert retried["retried"]["test stage 8 items"] == 1 and retried["total"] == 1
        run_id = call("POST", "run_now", 201)["run_id"]  # the retried item is worked in the next run
        assert execute_run(get_run_pk(run_id)) == "completed"
        assert pipeline_overview_now(world["site_id"])[-1] == {
            "stage": 8, "name": "Test stage 8", "pending": 0, "processed": 3, "failed": 0}
        assert any("Stage 8 (Test stage 8) started: 1 item(s)." == e["message"]
                   for e in call("GET", "logs", params={"run_id": run_id})["events"])
        last = call("GET", "history")["runs"][0]
        assert (last["status"], last["current_stage"]) == ("completed", 8)

        props = doc["components"]["schemas"]
        assert props["ProcessingState"]["properties"]["current_stage"]["enum"] == [1, 2, 3, 4, 5, 6, 7, 8]
        assert "8 = Test stage 8" in props["ProcessingState"]["properties"]["current_stage"]["description"]
        assert props["ProcessingState"]["properties"]["stage_count"]["enum"] == [8]
        assert "test stage 8 items" in props["RetryFailed"]["properties"]["retried"]["properties"]
        assert props["Config"]["properties"]["review_after_stages"]["items"]["maximum"] == 7
        assert automation_config.review_stages() == (1, 2, 3, 4, 5, 6, 7)
    # unregistered: the shipped six again, everywhere
    assert registry.numbers() == [1, 2, 3, 4, 5, 6]
    doc = client.get(openapi.OPENAPI_PATH).json()
    assert doc["components"]["schemas"]["ProcessingState"]["properties"]["current_stage"]["enum"] == [1, 2, 3, 4, 5, 6]
    assert len(pipeline_overview_now(world["site_id"])) == 6


def get_run_pk(run_id: str) -> int:
    with dbmod.read_session() as s:
        return automation.get_run(session=s, run_id=run_id).id


def pipeline_overview_now(site_id: int) -> list[dict]:
    with dbmod.read_session() as s:
        return pipeline_overview(session=s, site_id=site_id)
