"""Forged websocket events against the account-administration handlers (Team, Sites, API tokens,
notifications): a viewer, an editor and another account's owner are refused and change nothing;
the same event from an authorised session works (the positive control proves the event name and
payload are right, since Reflex drops a misspelt one silently)."""

from __future__ import annotations

import json
import sqlite3
import uuid

import pytest

from igny8_app.pages.notifications.state import NotificationsState
from igny8_app.pages.sites.state import SitesAdminState
from igny8_app.pages.team.state import TeamState
from igny8_app.pages.tokens.state import TokensState
from igny8_app.state import SessionState
from tests.ws_client import ReflexClient

PW = "ws-admin-password"
HYDRATE = f"{SessionState.get_full_name()}.load_session"
SELECT = f"{SessionState.get_full_name()}.select_site"
TEAM = TeamState.get_full_name()
SITES = SitesAdminState.get_full_name()
TOKENS = TokensState.get_full_name()
NOTES = NotificationsState.get_full_name()


def _q(app, sql: str, *args):  # noqa: ANN001
    with sqlite3.connect(app.data_dir / "igny8.db") as c:
        return c.execute(sql, args).fetchall()


@pytest.fixture(scope="module")
def world(live_app):
    tag = uuid.uuid4().hex[:6]
    account, rival_account = f"WS Admin {tag}", f"WS Rival {tag}"
    people = {}
    for role in ("owner", "editor", "viewer"):
        email = f"{role}-{tag}@ws-admin.example"
        r = live_app.cli("create-user", "--email", email, "--password", PW, "--account", account, "--role", role,
                         "--json")
        assert r.returncode == 0, r.stderr
        people[role] = {"id": json.loads(r.stdout)["id"], "email": email}
    r = live_app.cli("create-user", "--email", f"rival-{tag}@ws-admin.example", "--password", PW, "--account",
                     rival_account, "--json")
    assert r.returncode == 0, r.stderr
    people["rival"] = {"id": json.loads(r.stdout)["id"], "email": f"rival-{tag}@ws-admin.example"}
    site = json.loads(live_app.cli("create-site", "--account", account, "--name", f"WS site {tag}", "--domain",
                                   f"ws{tag}.example.com", "--json").stdout)["id"]
    json.loads(live_app.cli("create-site", "--account", rival_account, "--name", f"Rival site {tag}", "--domain",
                            f"rv{tag}.example.com", "--json").stdout)
    token = json.loads(live_app.cli("api-token", "--email", people["owner"]["email"], "--name", "owner-ci",
                                    "--json").stdout)
    for p in people.values():
        p["cookie"] = live_app.login_cookie(p["email"], PW)
    return {"people": people, "site": site, "token_id": _q(live_app, "select id from api_token where user_id=?",
                                                           people["owner"]["id"])[0][0], "token": token}


def _client(live_app, who: dict, site: int | None = None) -> ReflexClient:
    c = ReflexClient(live_app.url, session_cookie=who["cookie"])
    c.send(HYDRATE)
    if site:
        c.send(SELECT, {"site_id": str(site)})
    return c


def _role(app, user_id: int) -> list:
    return [r[0] for r in _q(app, "select role from membership where user_id=?", user_id)]


@pytest.mark.parametrize("attacker", ["viewer", "editor", "rival"])
def test_team_handlers_refuse_non_managers(live_app, world, attacker):
    p = world["people"]
    c = _client(live_app, p[attacker], world["site"])  # the rival's select_site is refused too
    try:
        c.send(f"{TEAM}.change_role", {"user_id": p["viewer"]["id"], "role": "admin"})
        c.send(f"{TEAM}.open_remove", {"user_id": p["editor"]["id"], "email": p["editor"]["email"]})
        c.send(f"{TEAM}.confirm_remove")
        c.send(f"{TEAM}.send_invite", {"form": {"email": f"x-{attacker}@evil.example"}})
        c.send(f"{TEAM}.force_reset", {"user_id": p["editor"]["id"], "email": p["editor"]["email"]})
        c.send(f"{TEAM}.load_team")
        assert _role(live_app, p["viewer"]["id"]) == ["viewer"] and _role(live_app, p["editor"]["id"]) == ["editor"]
        # (the rival may invite people to their own account: never to this one)
        assert _q(live_app, "select count(*) from invitation i join site s on s.account_id = i.account_id "
                            "where s.id=? and i.email=?", world["site"], f"x-{attacker}@evil.example")[0][0] == 0
        assert _q(live_app, "select count(*) from password_reset where user_id=?", p["editor"]["id"])[0][0] == 0
        assert p["owner"]["email"] not in c.all_text()  # the member list never reached them
    finally:
        c.close()


def test_site_and_token_handlers_refuse_non_managers(live_app, world):
    p = world["people"]
    c = _client(live_app, p["editor"], world["site"])
    try:
        c.send(f"{SITES}.set_active", {"site_id": world["site"], "active": False})
        c.send(f"{SITES}.open_delete", {"site_id": world["site"], "name": "x"})
        name = _q(live_app, "select name from site where id=?", world["site"])[0][0]
        c.send(f"{SITES}.delete_site", {"form": {"confirm": name}})
        c.send(f"{TOKENS}.revoke", {"token_id": world["token_id"]})
        assert _q(live_app, "select is_active from site where id=?", world["site"]) == [(1,)]
        assert _q(live_app, "select revoked_at from api_token where id=?", world["token_id"]) == [(None,)]
    finally:
        c.close()
    r = _client(live_app, p["rival"])
    try:
        r.send(f"{NOTES}.open_item", {"notification_id": 1})
        r.send(f"{TOKENS}.revoke", {"token_id": world["token_id"]})
        assert _q(live_app, "select revoked_at from api_token where id=?", world["token_id"]) == [(None,)]
    finally:
        r.close()


def test_positive_control_owner_events_work(live_app, world):
    p = world["people"]
    c = _client(live_app, p["owner"], world["site"])
    try:
        c.send(f"{TEAM}.change_role", {"user_id": p["viewer"]["id"], "role": "editor"})
        assert _role(live_app, p["viewer"]["id"]) == ["editor"]
        c.send(f"{SITES}.set_active", {"site_id": world["site"], "active": False})
        assert _q(live_app, "select is_active from site where id=?", world["site"]) == [(0,)]
        c.send(f"{SITES}.set_active", {"site_id": world["site"], "active": True})
        c.send(f"{TOKENS}.revoke", {"token_id": world["token_id"]})
        assert _q(live_app, "select revoked_at from api_token where id=?", world["token_id"])[0][0] is not None
    finally:
        c.close()
