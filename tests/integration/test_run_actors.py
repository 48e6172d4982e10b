"""Who did it: every operator path records its actor on the run's activity log, and the log
shows it. A user in the browser and an API token's user are named by email; the CLI by its
``--as EMAIL`` or 'command line'; the scheduler and the watchdog by name. A pause or cancel that a
worker applies after its item names whoever asked for it. Real database (SQLite and PostgreSQL)
and Redis; the page's handlers run on a stand-in for the Reflex state with its real methods."""

from __future__ import annotations

import types
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.testclient import TestClient

from igny8_app.api import automation_routes
from igny8_app.db import read_session, write_session
from igny8_app.domain.enums import Role, RunStatus
from igny8_app.models import AutomationRun, RunEvent, utcnow
from igny8_app.pages.automation.state import AutomationState, LiveRunState
from igny8_app.services.accounts import access as accounts
from igny8_app.services.automation import control as automation
from igny8_app.services.automation import run_loop, scheduler
from igny8_app.services.automation.watchdog import recover_stale_runs
from igny8_app.state import SessionState
from tests.factories import make_user
from tests.integration.test_cli_run import cli, ok_json
from tests.integration.test_scheduler import schedule, u
from tests.engine_helpers import seed_site

pytestmark = pytest.mark.usefixtures("redis")
ANN = "ann@example.com"


def log(run_id: str) -> list[tuple[str, str | None]]:
    """The run's activity log as (message, actor), oldest first."""
    with read_session() as s:
        run = automation.get_run(session=s, run_id=run_id)
        return [(e["message"], e["actor"]) for e in automation.logs(session=s, run=run)]


@pytest.fixture
def site(db):
    return seed_site(n_keywords=24, credits=50_000).site_id


@pytest.fixture
def ann(site):
    """ann@example.com, an editor of the site's account, signed in (a browser session) and with a token."""
    with write_session() as s:
        account = s.execute(sa.text("select a.name from account a join site t on t.account_id = a.id "
                                    "where t.id = :i"), {"i": site}).scalar_one()
        user = make_user(s, account=account, role=Role.EDITOR, email=ANN)
        return SimpleNamespace(session=accounts.open_session(session=s, user=user),
                               token=accounts.create_api_token(session=s, user_id=user.id)[1])


class Page(SimpleNamespace):
    """Stands in for a LiveRunState instance; the page's own helper methods are bound to it."""


def page_for(site_id: int, token: str) -> Page:
    page = Page(active_site_id=site_id, run={}, pending_action="", confirm_cancel=False, card_open=False,
                error="", run_status="", run_stage=0, skipped_stages=[])
    for cls in (SessionState, AutomationState, LiveRunState):
        for name, fn in vars(cls).items():
            if name.startswith("_") and not name.startswith("__") and isinstance(fn, types.FunctionType):
                setattr(page, name, types.MethodType(fn, page))
    page._session_token = lambda: token
    page._reload = lambda ctx: automation.processing_state(
        session=ctx.session, run=automation.current_run(session=ctx.session, site_id=site_id))
    return page


def test_browser_user_is_named_for_start_pause_resume_cancel(site, ann):
    page = page_for(site, ann.session)
    LiveRunState.__dict__["run_now"].fn(page)
    run_id = page.run["run_id"]
    for action in ("pause", "resume", "cancel"):
        list(page._control(action))
        assert not page.error, page.error
    assert page.run["status"] == RunStatus.CANCELLED.value
    entries = log(run_id)
    assert entries[0][1] == ANN and entries[0][0].startswith(f"Run started (manual) by {ANN}")
    assert (f"Paused by {ANN} (no item was in progress).", ANN) in entries
    assert (f"Resumed by {ANN}; continuing with the next item.", ANN) in entries
    assert entries[-1] == (f"Cancelled by {ANN}.", ANN)


def test_api_token_names_its_user(site, ann):
    client = TestClient(Starlette(routes=automation_routes.routes))
    headers = {"Authorization": f"Bearer {ann.token}"}
    r = client.post("/api/v1/automation/run_now", params={"site_id": site}, headers=headers)
    assert r.status_code == 201, r.text
    run_id = r.json()["run_id"]
    for action in ("pause", "resume", "cancel"):
        assert client.post(f"/api/v1/automation/{action}", params={"site_id": site}, headers=headers).status_code == 200
    events = client.get("/api/v1/automation/logs", params={"site_id": site, "run_id": run_id}, headers=headers).json()
    assert [e["actor"] for e in events["events"]] == [ANN] * 4
    assert [e["message"].split(";")[0].split(" (")[0] for e in events["events"]] == [
        "Run started", f"Paused by {ANN}", f"Resumed by {ANN}", f"Cancelled by {ANN}."]


def test_cli_names_the_as_email_or_command_line(site):
    run_id = ok_json("run", "start", "--site", str(site), "--as", ANN)["run_id"]
    ok_json("run", "pause", run_id, "--as", ANN)
    ok_json("run", "resume", run_id)
    ok_json("run", "cancel", run_id, "--as", "Bob@Example.com")
    assert log(run_id) == [
        (log(run_id)[0][0], ANN),
        (f"Paused by {ANN} (no item was in progress).", ANN),
        ("Resumed by command line; continuing with the next item.", "command line"),
        ("Cancelled by bob@example.com.", "bob@example.com"),
    ]
    assert log(run_id)[0][0].startswith(f"Run started (manual) by {ANN};")
    r = cli("run", "start", "--site", str(site))
    assert r.returncode == 0, r.stderr
    assert log(r.stdout.split()[1])[0][1] == "command line"


def test_scheduler_is_named_for_runs_and_skips(site):
    schedule(site, now=u(2026, 5, 1, 12), scheduled_time="02:00")
    started = scheduler.run_due(now=u(2026, 5, 2, 2, 0, 5)).started
    assert log(started[0])[0][1] == "scheduler"
    assert log(started[0])[0][0].startswith("Run started (scheduled) by scheduler;")
    skipped = scheduler.run_due(now=u(2026, 5, 3, 2, 0, 5)).skipped  # the first run still holds the site
    assert log(skipped[0]) == [(log(skipped[0])[0][0], "scheduler")]


def test_watchdog_is_named_when_it_recovers_a_run(site):
    run = automation.start_run(site_id=site, enqueue=False)
    with write_session() as s:
        s.execute(sa.update(AutomationRun).where(AutomationRun.id == run.id)
                  .values(heartbeat_at=utcnow() - timedelta(hours=1), lease_owner="dead-worker"))
    assert recover_stale_runs() == [run.id]
    last = log(run.run_id)[-1]
    assert last[1] == "watchdog" and "watchdog" in last[0]


def test_a_pause_or_cancel_applied_by_the_worker_names_who_asked(site, ann):
    for action, status in (("pause", RunStatus.PAUSED), ("cancel", RunStatus.CANCELLED)):
        run = automation.start_run(site_id=site, enqueue=False)
        with write_session() as s:  # a live worker holds the run: the action is a request
            s.execute(sa.update(AutomationRun).where(AutomationRun.id == run.id)
                      .values(heartbeat_at=utcnow(), lease_owner="worker-1"))
        state = getattr(automation, f"{action}_run")(run_id=run.run_id, actor=ANN)
        assert state["status"] == "running" and state["requested_action"] == action
        with write_session() as s:  # the worker, after its item
            held = s.get(AutomationRun, run.id)
            assert held.requested_by == ANN
            assert run_loop._stop(s, held, status) == status.value
        verb = "Paused" if action == "pause" else "Cancelled"
        assert log(run.run_id)[-1] == (f"{verb} by {ANN} after the current item.", ANN)
        with read_session() as s:
            assert s.get(AutomationRun, run.id).requested_by is None
            assert s.execute(sa.select(RunEvent.actor).where(RunEvent.run_pk == run.id)
                             .order_by(RunEvent.id)).scalars().all()[-2:] == [ANN, ANN]
        if action == "pause":
            automation.cancel_run(run_id=run.run_id)


def test_the_one_transition_function_refuses_an_illegal_change_and_writes_nothing(site):
    from igny8_app.domain.enums import PauseReason
    from igny8_app.domain.run_state import IllegalTransition
    from igny8_app.services.automation.transitions import transition

    run = automation.start_run(site_id=site, enqueue=False)
    automation.cancel_run(run_id=run.run_id, actor=ANN)
    before = log(run.run_id)
    for to, reason in ((RunStatus.RUNNING, None), (RunStatus.PAUSED, PauseReason.REVIEW), (RunStatus.COMPLETED, None)):
        with pytest.raises(IllegalTransition):
            with write_session() as s:
                transition(s, s.get(AutomationRun, run.id), to, "never written", reason=reason, actor=ANN)
    with pytest.raises(IllegalTransition):  # a pause needs its reason
        with write_session() as s:
            run2 = automation.start_run(site_id=site, enqueue=False)
            transition(s, s.get(AutomationRun, run2.id), RunStatus.PAUSED, "never written")
    assert log(run.run_id) == before
    with read_session() as s:
        assert s.get(AutomationRun, run.id).status == RunStatus.CANCELLED.value
