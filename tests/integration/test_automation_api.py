"""The automation REST API: token auth, tenant isolation, roles, transitions, validation, happy path.

Runs the real routes in a Starlette app through TestClient (no Reflex), on SQLite and PostgreSQL,
against a real Redis (run_now and resume queue RQ jobs; no worker is needed: with nobody holding
the run's lease, pause and cancel take effect at once).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.testclient import TestClient

from igny8_app import db as dbmod
from igny8_app.api import automation_routes, openapi
from igny8_app.models import AutomationRun, Keyword, SiteLock
from igny8_app.queue import get_queue
from igny8_app.services.accounts import access as accounts
from igny8_app.services.content import keywords
from tests.factories import make_account, make_site, make_user

A = "/api/v1/automation"
KEYWORDS_CSV = ("keyword,volume\n" + "\n".join(
    f"{w} coffee {kind},{10 * i + 1}" for i, (w, kind) in enumerate(
        (w, k) for w in ("best", "cheap", "organic", "cold brew", "decaf") for k in ("beans", "grinder"))
)).encode()
GETS = ["current_run", "current_processing", "history", "logs", "estimate", "pipeline_overview"]
POSTS = ["run_now", "pause", "resume", "cancel", "retry_failed"]


@dataclass
class World:
    client: TestClient
    site_id: int
    site_name: str
    other_site_id: int
    tokens: dict[str, str]

    def call(self, method: str, name: str, who: str = "owner", *, site_id: int | None = None, slash: str = "",
             **params):
        params = {"site_id": self.site_id if site_id is None else site_id, **params}
        headers = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        return self.client.request(method, f"{A}/{name}{slash}", params=params, headers=headers)

    def get(self, name: str, who: str = "owner", **kw):
        return self.call("GET", name, who, **kw)

    def post(self, name: str, who: str = "owner", **kw):
        return self.call("POST", name, who, **kw)


def app() -> Starlette:
    return Starlette(routes=[*automation_routes.routes, *openapi.routes])


@pytest.fixture
def fast_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    """API tokens, not passwords, are under test: hash the factories' passwords cheaply."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def world(db, redis, fast_hash) -> World:
    with dbmod.write_session() as s:
        acme = make_account(s, "Acme", credits=100_000)
        users = {role: make_user(s, account="Acme", role=role) for role in ("owner", "editor", "viewer")}
        site = make_site(s, acme, name="Acme Coffee Blog")
        keywords.import_keywords(session=s, site_id=site.id, data=KEYWORDS_CSV)
        rival = make_account(s, "Rival", credits=100_000)
        users["rival"] = make_user(s, account="Rival", role="owner")
        other = make_site(s, rival, name="Rival Secret Site")
        keywords.import_keywords(session=s, site_id=other.id, data=KEYWORDS_CSV)
        tokens = {who: accounts.create_api_token(session=s, user_id=u.id)[1] for who, u in users.items()}
        ids = site.id, site.name, other.id
    with TestClient(app()) as client:
        yield World(client, ids[0], ids[1], ids[2], tokens)


def error(resp, status: int, code: str) -> str:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error", "detail"} and body["error"] == code, body
    return body["detail"]


def start(w: World, who: str = "owner", site_id: int | None = None) -> str:
    r = w.post("run_now", who, site_id=site_id)
    assert r.status_code == 201, r.text
    return r.json()["run_id"]


# --- authentication and authorisation -----------------------------------------------------------

def test_every_endpoint_needs_a_valid_token(world: World) -> None:
    for method, names in (("GET", GETS), ("POST", POSTS)):
        for name in names:
            error(world.call(method, name, None), 401, "unauthenticated")
            for header in ("Bearer igny8_not-a-token", "Basic dXNlcjpwdw==", "Bearer", "Bearer  "):
                r = world.client.request(method, f"{A}/{name}", params={"site_id": world.site_id},
                                         headers={"Authorization": header})
                error(r, 401, "unauthenticated")
    with dbmod.read_session() as s:
        assert s.execute(sa.select(sa.func.count()).select_from(AutomationRun)).scalar_one() == 0


def test_revoked_token_is_refused(world: World) -> None:
    from igny8_app.models import ApiToken, utcnow

    with dbmod.write_session() as s:
        s.execute(sa.update(ApiToken).values(revoked_at=utcnow()))
    error(world.get("current_run"), 401, "unauthenticated")


def test_viewer_reads_but_may_not_start_pause_or_retry(world: World) -> None:
    for name in GETS:
        assert world.get(name, "viewer").status_code == 200, name
    assert "viewer" in error(world.post("run_now", "viewer"), 403, "forbidden")
    run_id = start(world, "editor")
    for name in ("pause", "cancel", "resume", "retry_failed"):
        error(world.post(name, "viewer", run_id=run_id), 403, "forbidden")
    assert world.get("current_processing", "viewer").json()["status"] == "running"


def test_another_accounts_site_and_run_are_not_found_and_nothing_leaks(world: World) -> None:
    rival_run = start(world, "rival", site_id=world.other_site_id)
    own_run = start(world)
    for method, names in (("GET", GETS), ("POST", POSTS)):
        for name in names:
            r = world.call(method, name, "owner", site_id=world.other_site_id)
            assert error(r, 404, "not_found") == "Site not found."
            assert "Rival" not in r.text and rival_run not in r.text
    # Own site, but the rival's run id: not found, and the rival's run is untouched.
    for name in ("pause", "resume", "cancel"):
        detail = error(world.post(name, run_id=rival_run), 404, "not_found")
        assert "Rival" not in detail
    error(world.get("logs", run_id=rival_run), 404, "not_found")
    # A site id that does not exist looks the same as someone else's.
    assert error(world.get("history", site_id=2**31 - 1), 404, "not_found") == "Site not found."
    # And the rival cannot touch ours.
    error(world.post("cancel", "rival", run_id=own_run), 404, "not_found")
    with dbmod.read_session() as s:
        statuses = dict(s.execute(sa.select(AutomationRun.run_id, AutomationRun.status)).all())
    assert statuses == {rival_run: "running", own_run: "running"}


# --- conflicts ----------------------------------------------------------------------------------

def test_run_now_while_a_run_is_active_is_a_conflict(world: World) -> None:
    run_id = start(world)
    assert run_id in error(world.post("run_now", "editor"), 409, "conflict")
    world.post("pause", run_id=run_id)
    assert "paused" in error(world.post("run_now"), 409, "conflict")


def test_illegal_transitions_are_conflicts(world: World) -> None:
    run_id = start(world)
    assert "already running" in error(world.post("resume", run_id=run_id), 409, "conflict")
    assert world.post("pause", run_id=run_id).json()["status"] == "paused"
    assert "already paused" in error(world.post("pause", run_id=run_id), 409, "conflict")
    assert world.post("cancel", run_id=run_id).json()["status"] == "cancelled"
    for name in ("resume", "pause", "cancel"):
        assert "cancelled" in error(world.post(name, run_id=run_id), 409, "conflict")
    # without run_id the site's current run is meant; there is none now
    for name in ("pause", "resume", "cancel"):
        assert "no running or paused run" in error(world.post(name), 409, "conflict")


def test_resume_of_a_completed_run_is_a_conflict(world: World) -> None:
    run_id = start(world)
    with dbmod.write_session() as s:  # what the run loop does when stage 6 ends
        run = s.exec(sa.select(AutomationRun).where(AutomationRun.run_id == run_id)).scalar_one()
        run.status, run.completed_at = "completed", run.started_at
        s.execute(sa.delete(SiteLock).where(SiteLock.run_pk == run.id))
    assert "completed" in error(world.post("resume", run_id=run_id), 409, "conflict")
    assert world.get("current_run").json() is None
    assert world.get("history").json()["runs"][0]["status"] == "completed"


def test_insufficient_credits_names_both_numbers(db, redis, fast_hash) -> None:
    with dbmod.write_session() as s:
        acc = make_account(s, "Poor", credits=3)
        user = make_user(s, account="Poor")
        site = make_site(s, acc)
        keywords.import_keywords(session=s, site_id=site.id, data=KEYWORDS_CSV)
        token = accounts.create_api_token(session=s, user_id=user.id)[1]
    with TestClient(app()) as client:
        w = World(client, site.id, site.name, 0, {"owner": token})
        est = w.get("estimate").json()
        assert est["balance"] == 3 and est["required_to_start"] > 3
        detail = error(w.post("run_now"), 409, "insufficient_credits")
        assert str(est["required_to_start"]) in detail and "3" in detail
        assert w.get("current_run").json() is None and w.get("history").json() == {"runs": []}
        assert len(get_queue()) == 0


# --- validation ---------------------------------------------------------------------------------

def test_bad_site_id_is_invalid(world: World) -> None:
    for site_id in ("", "abc", "1.5", "-1", "0", "1e3", "0x10", "1_0", " 1", "\uff11", "99999999999", str(2**31)):
        for method, name in (("GET", "history"), ("POST", "run_now"), ("GET", "logs"), ("POST", "pause")):
            assert "site_id" in error(world.call(method, name, site_id=site_id), 422, "invalid"), site_id
    assert len(get_queue()) == 0


def test_missing_site_id_and_bad_lines_or_run_id_are_invalid(world: World) -> None:
    r = world.client.get(f"{A}/history", headers={"Authorization": f"Bearer {world.tokens['owner']}"})
    assert "site_id" in error(r, 422, "invalid")
    for lines in ("0", "5001", "abc", "-3", "10.0"):
        assert "lines" in error(world.get("logs", lines=lines), 422, "invalid")
    for run_id in ("run id with spaces", "x" * 65, "run;drop", "run\u00e9"):
        error(world.post("pause", run_id=run_id), 422, "invalid")
        error(world.get("logs", run_id=run_id), 422, "invalid")
    assert len(get_queue()) == 0


def test_wrong_method_is_a_json_405(world: World) -> None:
    for name in GETS:
        r = world.post(name)
        assert error(r, 405, "method_not_allowed") and r.headers["allow"] == "GET, HEAD"
    for name in POSTS:
        r = world.get(name)
        assert error(r, 405, "method_not_allowed") and r.headers["allow"] == "POST"
    error(world.call("DELETE", "pause"), 405, "method_not_allowed")


# --- happy paths --------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["owner", "editor"])
def test_run_pause_resume_cancel_history(world: World, who: str) -> None:
    assert world.get("current_run", who).json() is None
    assert world.get("current_processing", who).json() is None

    r = world.post("run_now", who)
    assert r.status_code == 201, r.text
    state = r.json()
    run_id = state["run_id"]
    assert state["status"] == "running" and state["site_id"] == world.site_id and state["current_stage"] == 1
    assert len(get_queue()) == 1

    current = world.get("current_run", who).json()
    assert current["run_id"] == run_id and current["status"] == "running" and current["trigger"] == "manual"
    assert world.get("current_processing", who).json()["run_id"] == run_id

    paused = world.post("pause", who, run_id=run_id).json()
    assert paused["status"] == "paused" and paused["pause_reason"] == "operator"
    assert paused["requested_action"] is None
    assert world.get("current_processing", who).json()["status"] == "paused"

    resumed = world.post("resume", who).json()  # run_id defaults to the site's current run
    assert resumed["run_id"] == run_id and resumed["status"] == "running" and resumed["pause_reason"] is None
    assert len(get_queue()) == 2  # resume queued a new job

    cancelled = world.post("cancel", who, run_id=run_id).json()
    assert cancelled["status"] == "cancelled" and cancelled["completed_at"]
    assert world.get("current_run", who).json() is None
    assert world.get("current_processing", who).json() is None

    runs = world.get("history", who).json()["runs"]
    assert [(h["run_id"], h["status"]) for h in runs] == [(run_id, "cancelled")]

    logs = world.get("logs", who).json()  # defaults to the last run
    assert logs["run_id"] == run_id
    messages = [e["message"] for e in logs["events"]]
    assert messages[0].startswith("Run started") and len(messages) >= 4
    assert any("Paused" in m for m in messages) and any("Resumed" in m for m in messages)
    assert "Cancelled" in messages[-1]
    last_two = world.get("logs", who, run_id=run_id, lines=2).json()["events"]
    assert [e["message"] for e in last_two] == messages[-2:]

    # the site can run again
    assert start(world, who) != run_id


def test_every_path_answers_with_and_without_trailing_slash(world: World) -> None:
    for name in GETS:
        a, b = world.get(name), world.get(name, slash="/")
        assert a.status_code == b.status_code == 200, (name, b.text)
        assert a.json() == b.json()
    r = world.post("run_now", slash="/")
    assert r.status_code == 201, r.text
    run_id = r.json()["run_id"]
    assert world.post("pause", slash="/").json()["status"] == "paused"
    assert world.post("resume", slash="/", run_id=run_id).json()["status"] == "running"
    assert world.post("cancel", slash="/").json()["status"] == "cancelled"
    assert world.post("retry_failed", slash="/").status_code == 200
    error(world.get("history", None, slash="/"), 401, "unauthenticated")
    error(world.get("history", site_id="x", slash="/"), 422, "invalid")


def test_history_is_the_last_20_runs_newest_first(world: World) -> None:
    ids = []
    for _ in range(22):
        run_id = start(world)
        world.post("cancel", run_id=run_id)
        ids.append(run_id)
    runs = world.get("history", "viewer").json()["runs"]
    assert [r["run_id"] for r in runs] == ids[::-1][:20]


def test_estimate_and_pipeline_overview(world: World) -> None:
    overview = world.get("pipeline_overview", "viewer").json()
    assert overview["site_id"] == world.site_id
    assert [s["stage"] for s in overview["stages"]] == [1, 2, 3, 4, 5, 6]
    assert overview["stages"][0] == {**overview["stages"][0], "pending": 10, "processed": 0, "failed": 0}
    est = world.get("estimate", "viewer").json()
    assert est["items"]["keywords"] == 10 and est["total"] == sum(est["stages"].values()) > 0
    assert est["balance"] == 100_000 and est["required_to_start"] >= est["total"]


def test_retry_failed_puts_failed_items_back(world: World) -> None:
    with dbmod.write_session() as s:
        s.execute(sa.update(Keyword).where(Keyword.site_id == world.site_id, Keyword.volume < 30)
                  .values(status="failed", last_error="boom", attempts=3))
        s.execute(sa.update(Keyword).where(Keyword.site_id == world.other_site_id).values(status="failed"))
    assert world.get("pipeline_overview").json()["stages"][0]["failed"] == 3
    body = world.post("retry_failed", "editor").json()
    assert body["total"] == 3 and body["retried"]["keywords"] == 3
    assert world.get("pipeline_overview").json()["stages"][0]["failed"] == 0
    with dbmod.read_session() as s:  # the other account's failures are not ours to retry
        other = s.execute(sa.select(sa.func.count()).select_from(Keyword)
                          .where(Keyword.site_id == world.other_site_id, Keyword.status == "failed")).scalar_one()
    assert other == 10


def test_estimate_shows_the_same_figures_as_the_command_line_and_the_run_keeps_them(world: World) -> None:
    from igny8_app.services.automation import control as automation
    from igny8_app.services.automation import estimate as run_estimate

    est = world.get("estimate", "viewer").json()
    with dbmod.read_session() as s:
        assert run_estimate.summary(est) == run_estimate.summary(
            automation.estimate(session=s, site_id=world.site_id))
    assert est["stages"]["3"] == 0 and est["basis"].startswith("stage parameters")
    state = world.post("run_now", "editor").json()
    assert state["estimate_total"] == est["total"] and state["estimate_remaining"] == est["total"]
    # while the run is active the page and the API show that run's own estimate: no new dry run
    assert world.get("estimate", "viewer").json()["total"] == est["total"]
