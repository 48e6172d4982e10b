"""Per-site automation configuration: validation, the API (owners/admins edit, others read), the CLI,
and what a run does with its snapshot (caps, the exact credit cap, batch delays, review gates).
Real database (SQLite and PostgreSQL) and Redis."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient
from typer.testing import CliRunner

from igny8_app.api import automation_routes
from igny8_app.cli import app as cli_app
from igny8_app.db import read_session, write_session
from igny8_app.domain.enums import Role
from igny8_app.models import Account, AutomationConfig, AutomationRun, ContentIdea, CreditTransaction, SiteLock
from igny8_app.services.accounts import access as accounts
from igny8_app.services.automation import control as automation
from igny8_app.services.automation import config as automation_config
from igny8_app.services.automation.config import ConfigInvalid
from igny8_app.services.automation.run_loop import execute_run
from tests.engine_helpers import seed_site
from tests.factories import make_user

pytestmark = pytest.mark.usefixtures("redis")
API = Starlette(routes=automation_routes.routes)


@pytest.fixture
def site(db):
    ref = seed_site(n_keywords=24, credits=50_000, in_article_images=1)
    return ref


def _cfg(site_id: int) -> AutomationConfig:
    with read_session() as s:
        cfg = s.exec(select(AutomationConfig).where(AutomationConfig.site_id == site_id)).one()
        s.expunge(cfg)
        return cfg


# --- validation ---------------------------------------------------------------------------------

def test_valid_update_saves_and_computes_the_next_run(site):
    now = datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc)
    with write_session() as s:
        s.get(Account, site.account_id).timezone = "Europe/Berlin"
    out = automation_config.update_config(site_id=site.site_id, now=now, changes={
        "enabled": "true", "frequency": "weekly", "weekday": "0", "scheduled_time": "03:30",
        "stage_4_batch_size": 3, "max_content_per_run": "", "max_credits_per_run": "900",
        "review_after_stages": "2,1"})
    # Monday 2026-03-16 03:30 CET = 02:30 UTC
    assert out["next_run_at"] == "2026-03-16T02:30:00+00:00"
    assert out["next_run_local"] == "2026-03-16 03:30 CET"
    assert out["schedule"] == "every Monday at 03:30 (Europe/Berlin)"
    cfg = _cfg(site.site_id)
    assert (cfg.enabled, cfg.weekday, cfg.stage_4_batch_size, cfg.max_credits_per_run, cfg.review_after_stages) == (
        True, 0, 3, 900, [1, 2])
    # disabling clears the next run
    assert automation_config.update_config(site_id=site.site_id, changes={"enabled": False})["next_run_at"] is None


@pytest.mark.parametrize("changes, field, fragment", [
    ({"stage_1_batch_size": 0}, "stage_1_batch_size", "between 1 and 100"),
    ({"stage_3_batch_size": 51}, "stage_3_batch_size", "between 1 and 50"),
    ({"within_stage_delay": -1}, "within_stage_delay", "between 0 and 3600 seconds"),
    ({"between_stage_delay": "soon"}, "between_stage_delay", "whole number"),
    ({"max_ideas_per_run": 0}, "max_ideas_per_run", "between 1 and 1000000"),
    ({"in_article_images": 9}, "in_article_images", "between 0 and 5"),
    ({"frequency": "hourly"}, "frequency", "daily, weekly, monthly"),
    ({"frequency": "monthly", "month_day": 31}, "month_day", "between 1 and 28"),
    ({"scheduled_time": "25:00"}, "scheduled_time", "HH:MM"),
    ({"review_after_stages": [6]}, "review_after_stages", "between 1 and 5"),
    ({"enabled": "maybe"}, "enabled", "true or false"),
    ({"max_credits_per_run": 50_001, "stage_1_batch_size": 0}, "max_credits_per_run",
     "more than the account's balance of 50,000"),
    ({"colour": "red"}, "colour", "not a configuration setting"),
])
def test_invalid_values_are_refused_with_a_clear_message_and_nothing_saved(site, changes, field, fragment):
    before = _cfg(site.site_id)
    with pytest.raises(ConfigInvalid) as err:
        automation_config.update_config(site_id=site.site_id, changes={"stage_2_batch_size": 7, **changes})
    assert field in err.value.errors and fragment in err.value.errors[field], err.value.errors
    assert err.value.http_status == 422
    after = _cfg(site.site_id)
    assert after.stage_2_batch_size == before.stage_2_batch_size  # all or nothing


def test_weekly_and_monthly_default_their_day_and_a_cap_above_the_balance_is_a_conflict(site):
    out = automation_config.update_config(site_id=site.site_id, changes={"frequency": "weekly", "weekday": None})
    assert out["weekday"] == 0 and out["schedule"].startswith("every Monday")
    out = automation_config.update_config(site_id=site.site_id, changes={"frequency": "monthly"})
    assert (out["month_day"], out["weekday"]) == (1, None)
    with pytest.raises(automation_config.CapAboveBalance) as err:
        automation_config.update_config(site_id=site.site_id, changes={"max_credits_per_run": 50_001})
    assert err.value.http_status == 409 and "balance of 50,000" in err.value.errors["max_credits_per_run"]


def test_all_invalid_fields_are_reported_together(site):
    with pytest.raises(ConfigInvalid) as err:
        automation_config.update_config(site_id=site.site_id, changes={
            "stage_1_batch_size": 500, "in_article_images": -1, "scheduled_time": "noon"})
    assert set(err.value.errors) == {"stage_1_batch_size", "in_article_images", "scheduled_time"}
    assert "Stage 1 batch size" in err.value.message and "In-article images" in err.value.message


def test_a_cap_set_earlier_does_not_lock_the_form_when_the_balance_falls(site):
    automation_config.update_config(site_id=site.site_id, changes={"max_credits_per_run": 40_000})
    with write_session() as s:
        s.execute(sa.update(Account).where(Account.id == site.account_id).values(credits=100))
    out = automation_config.update_config(site_id=site.site_id, changes={"stage_2_batch_size": 2})
    assert out["max_credits_per_run"] == 40_000 and out["stage_2_batch_size"] == 2
    with pytest.raises(ConfigInvalid):
        automation_config.update_config(site_id=site.site_id, changes={"max_credits_per_run": 30_000})


# --- API ----------------------------------------------------------------------------------------

def _token(site, role: Role) -> str:
    with write_session() as s:
        account = s.get(Account, site.account_id)
        user = make_user(s, account=account.name, role=role)
        return accounts.create_api_token(session=s, user_id=user.id)[1]


@pytest.mark.parametrize("role, can_edit", [(Role.OWNER, True), (Role.ADMIN, True), (Role.EDITOR, False),
                                            (Role.VIEWER, False)])
def test_api_owners_and_admins_edit_others_read(site, role, can_edit):
    client = TestClient(API, headers={"Authorization": f"Bearer {_token(site, role)}"})
    q = {"site_id": site.site_id}
    got = client.get("/api/v1/automation/config", params=q)
    assert got.status_code == 200 and got.json()["site_id"] == site.site_id
    r = client.put("/api/v1/automation/update_config", params=q, json={"enabled": True, "scheduled_time": "04:15"})
    if can_edit:
        assert r.status_code == 200, r.text
        assert r.json()["enabled"] is True and r.json()["next_run_at"]
    else:
        assert r.status_code == 403 and r.json()["error"] == "forbidden"
        assert _cfg(site.site_id).enabled is False


def test_api_validation_errors_and_other_accounts(site):
    client = TestClient(API, headers={"Authorization": f"Bearer {_token(site, Role.OWNER)}"})
    q = {"site_id": site.site_id}
    r = client.put("/api/v1/automation/update_config", params=q, json={"stage_1_batch_size": 0})
    assert r.status_code == 422 and "Stage 1 batch size: must be between 1 and 100" in r.json()["detail"]
    r = client.put("/api/v1/automation/update_config", params=q, content=b"{not json")
    assert r.status_code == 422 and r.json()["detail"] == "The body is not valid JSON."
    r = client.put("/api/v1/automation/update_config", params=q, json=[1, 2])
    assert r.status_code == 422
    other = seed_site(n_keywords=0, credits=10)
    for method, path in (("GET", "config"), ("PUT", "update_config")):
        r = client.request(method, f"/api/v1/automation/{path}", params={"site_id": other.site_id},
                           json={"enabled": True})
        assert r.status_code == 404, r.text


# --- CLI ----------------------------------------------------------------------------------------

def test_cli_config_show_and_set(site):
    runner = CliRunner()
    r = runner.invoke(cli_app, ["config", "set", "--site", str(site.site_id), "enabled=true", "frequency=monthly",
                                "month_day=15", "scheduled_time=06:00", "max_credits_per_run=", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["frequency"] == "monthly" and data["month_day"] == 15 and data["max_credits_per_run"] is None
    r = runner.invoke(cli_app, ["config", "show", "--site", str(site.site_id)])
    assert r.exit_code == 0 and "monthly on day 15 at 06:00 (UTC)" in r.stdout
    r = runner.invoke(cli_app, ["config", "set", "--site", str(site.site_id), "in_article_images=12"])
    assert r.exit_code == 1 and "In-article images: must be between 0 and 5" in r.stderr


# --- what a run does with its snapshot ----------------------------------------------------------

def test_a_run_uses_its_snapshot_not_the_live_config(site):
    automation_config.update_config(site_id=site.site_id, changes={"max_ideas_per_run": 2, "max_tasks_per_run": 2,
                                                                   "max_content_per_run": 2})
    run = automation.start_run(site_id=site.site_id, enqueue=False)
    assert run.config_snapshot["max_ideas_per_run"] == 2
    # changed mid-run: the running run keeps its snapshot
    automation_config.update_config(site_id=site.site_id, changes={"max_ideas_per_run": 50, "max_tasks_per_run": 50,
                                                                   "max_content_per_run": 50})
    assert execute_run(run.id) == "completed"
    with read_session() as s:
        done = s.get(AutomationRun, run.id)
        assert done.stage_results["3"]["processed_items"] == 2
        assert done.stage_results["4"]["processed_items"] == 2
        assert done.config_snapshot["max_ideas_per_run"] == 2
    assert automation.get_processing_state(run_id=run.run_id)["stages"][2]["processed_items"] == 2


def test_credit_cap_is_exact_and_ends_with_cap_reached_not_failure(site):
    cap = 120
    automation_config.update_config(site_id=site.site_id, changes={"max_credits_per_run": cap})
    run = automation.start_run(site_id=site.site_id, enqueue=False)
    assert execute_run(run.id) == "cap_reached"
    with read_session() as s:
        done = s.get(AutomationRun, run.id)
        charged = -s.execute(sa.select(sa.func.sum(CreditTransaction.amount))
                             .where(CreditTransaction.run_id == run.run_id)).scalar_one()
        assert done.status == "completed" and done.error is None
        assert done.stage_results["result"] == "cap_reached"
        info = done.stage_results["cap_reached"]
        assert charged == done.total_credits_used <= cap
        assert done.total_credits_used + info["next_item_credits"] > cap  # the next item did not fit
        assert s.get(SiteLock, site.site_id) is None  # the site is free again
    with read_session() as s:
        summary = automation.history(session=s, site_id=site.site_id)[0]
    assert summary["result"] == "cap_reached" and summary["status"] == "completed"
    assert automation.get_processing_state(run_id=run.run_id)["result"] == "cap_reached"  # the live card says so


def test_review_gate_pauses_after_the_stage_and_resume_continues(site):
    automation_config.update_config(site_id=site.site_id, changes={"review_after_stages": [2],
                                                                   "max_tasks_per_run": 1, "max_content_per_run": 1})
    run = automation.start_run(site_id=site.site_id, enqueue=False)
    assert execute_run(run.id) == "paused"
    with read_session() as s:
        paused = s.get(AutomationRun, run.id)
        assert (paused.status, paused.pause_reason, paused.current_stage) == ("paused", "review", 3)
        ideas = s.execute(sa.select(sa.func.count()).select_from(ContentIdea)
                          .where(ContentIdea.site_id == site.site_id)).scalar_one()
        assert ideas > 0 and paused.stage_results["2"]["processed_items"] > 0
        assert "3" not in paused.stage_results  # nothing after the gate ran
    with read_session() as s:
        log = automation.logs(session=s, run=automation.get_run(session=s, run_id=run.run_id))
    assert any("Paused for review after stage 2" in e["message"] for e in log)
    automation.resume_run(run_id=run.run_id)
    assert execute_run(run.id) == "completed"


def test_batch_size_sets_how_many_items_run_between_delays(site, monkeypatch):
    from igny8_app.services.automation import run_loop

    waits: list[float] = []
    real_wait = run_loop._wait
    monkeypatch.setattr(run_loop, "_wait", lambda seconds, stop: (waits.append(seconds), real_wait(0, stop))[1])
    automation_config.update_config(site_id=site.site_id, changes={
        "within_stage_delay": 7, "between_stage_delay": 11, "stage_3_batch_size": 3, "max_ideas_per_run": 6,
        "max_tasks_per_run": 1, "max_content_per_run": 1, "max_images_per_run": 1})
    run = automation.start_run(site_id=site.site_id, enqueue=False)
    assert execute_run(run.id) == "completed"
    with read_session() as s:
        done = s.get(AutomationRun, run.id)
        per_stage = {n: done.stage_results[str(n)]["processed_items"] for n in range(1, 7)}
    assert per_stage[3] == 6
    between = waits.count(11)
    within = waits.count(7)
    assert between == 5  # after stages 1-5
    # stage 1: one delay per keyword batch; stage 2: per cluster (batch 1); stage 3: 6 items / 3 = 2;
    # stages 4, 5, 6: one item each (batch 1)
    batches_1 = 2 if per_stage[1] > 20 else 1
    assert within == batches_1 + per_stage[2] + 2 + 1 + 1 + 1
