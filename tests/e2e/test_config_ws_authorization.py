"""Forged websocket events against the settings modal and the System page: editors, viewers, another
account's owner and non-superusers are refused on the server and change nothing; the same events
from an owner / a superuser work (positive controls: the event names and payloads are right)."""

from __future__ import annotations

import json

import pytest
from redis import Redis
from rq import Queue
from rq.registry import FailedJobRegistry

from igny8_app.pages.automation.state import ConfigState
from igny8_app.pages.system.state import SystemState
from igny8_app.state import SessionState
from tests.ws_client import ReflexClient

SESSION = SessionState.get_full_name()
HYDRATE, SELECT = f"{SESSION}.load_session", f"{SESSION}.select_site"
SAVE = f"{ConfigState.get_full_name()}.save_config"
SYS = SystemState.get_full_name()
PASSWORD = "ws-config-password"
ROLES = ("owner", "admin", "editor", "viewer")


def _email(role: str, account: str = "cfg") -> str:
    return f"ws-{account}-{role}@example.com"


@pytest.fixture(scope="module")
def accounts(live_app):
    sites = {}
    for account, roles in (("cfg", ROLES), ("rival", ("owner",))):
        name = f"WS {account} Co"
        for role in roles:
            r = live_app.cli("create-user", "--email", _email(role, account), "--password", PASSWORD,
                             "--account", name, "--role", role)
            assert r.returncode == 0, r.stderr
        r = live_app.cli("create-site", "--account", name, "--name", f"WS {account} site",
                         "--domain", f"ws-{account}.example.com", "--json")
        assert r.returncode == 0, r.stderr
        sites[account] = json.loads(r.stdout)["id"]
    r = live_app.cli("create-user", "--email", "ws-super@example.com", "--password", PASSWORD, "--superuser")
    assert r.returncode == 0, r.stderr
    return sites


def _config(live_app, site_id: int) -> dict:
    r = live_app.cli("config", "show", "--site", str(site_id), "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def _save(live_app, email: str | None, site_id: int, batch: str) -> ReflexClient:
    client = ReflexClient(live_app.url, session_cookie=live_app.login_cookie(email, PASSWORD) if email else None,
                          path="/automation")
    client.send(HYDRATE)
    client.send(SELECT, {"site_id": str(site_id)})
    client.send(SAVE, {"data": {"frequency": "daily", "scheduled_time": "05:00", "stage_1_batch_size": batch,
                                **{f"stage_{n}_batch_size": "1" for n in range(2, 7)}, "within_stage_delay": "0",
                                "between_stage_delay": "0", "in_article_images": "1", "enabled": "on"}})
    return client


@pytest.mark.parametrize("who", [None, _email("editor"), _email("viewer"), _email("owner", "rival")],
                         ids=["anonymous", "editor", "viewer", "rival-owner"])
def test_config_save_is_refused(live_app, accounts, who):
    before = _config(live_app, accounts["cfg"])
    client = _save(live_app, who, accounts["cfg"], "42")
    try:
        assert _config(live_app, accounts["cfg"]) == before
    finally:
        client.close()


@pytest.mark.parametrize("role, batch", [("owner", "33"), ("admin", "34")])
def test_config_save_positive_control(live_app, accounts, role, batch):
    client = _save(live_app, _email(role), accounts["cfg"], batch)
    try:
        cfg = _config(live_app, accounts["cfg"])
        assert cfg["stage_1_batch_size"] == int(batch) and cfg["enabled"] is True
        assert "Saved. Next scheduled run" in client.all_text()
    finally:
        client.close()


def _failed_job(live_redis_url: str) -> str:
    conn = Redis.from_url(live_redis_url)
    job = Queue("igny8", connection=conn).enqueue("os.path.join", 1, 2, description="ws failing job")
    reg = FailedJobRegistry("igny8", connection=conn)
    import time

    for _ in range(300):  # the live app's workers fail it (a real RQ failure)
        if job.id in reg.get_job_ids():
            return job.id
        time.sleep(0.1)
    raise AssertionError("the job did not fail")


def test_system_handlers_refuse_non_superusers(live_app, live_redis_url, accounts):
    job_id = _failed_job(live_redis_url)
    reg = FailedJobRegistry("igny8", connection=Redis.from_url(live_redis_url))
    for who in (None, _email("owner")):
        client = ReflexClient(live_app.url, session_cookie=live_app.login_cookie(who, PASSWORD) if who else None,
                              path="/admin/system")
        try:
            client.send(HYDRATE)
            client.send(f"{SYS}.load_system")
            client.send(f"{SYS}.delete_job", {"job_id": job_id})
            client.send(f"{SYS}.retry_job", {"job_id": job_id})
            client.send(f"{SYS}.ask_release", {"site_id": accounts["cfg"]})
            client.send(f"{SYS}.release_lock")
            assert job_id in reg.get_job_ids()
            assert "ws failing job" not in client.all_text()  # no worker/job data leaks
        finally:
            client.close()
    client = ReflexClient(live_app.url, session_cookie=live_app.login_cookie("ws-super@example.com", PASSWORD),
                          path="/admin/system")
    try:
        client.send(HYDRATE)
        client.send(f"{SYS}.load_system")
        assert "ws failing job" in client.all_text()
        client.send(f"{SYS}.delete_job", {"job_id": job_id})
        assert job_id not in reg.get_job_ids()
    finally:
        client.close()
