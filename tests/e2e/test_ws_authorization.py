"""Forged websocket events against protected handlers: anonymous, another account's owner, and a
viewer are refused and see nothing; the same event from an authorised session works (the positive
control proves the event name and payload are right, since Reflex drops a misspelt one silently)."""

from __future__ import annotations

import hashlib
import json
import sqlite3

import pytest

from igny8_app.pages.keywords.state import KeywordsState
from igny8_app.state import SessionState
from tests.ws_client import ReflexClient

STATE = KeywordsState.get_full_name()
SESSION = SessionState.get_full_name()  # inherited handlers are registered on the class defining them
ADD = f"{STATE}.add_keyword"
LOAD = f"{STATE}.load_keywords"
SETVAR = f"{SESSION}.setvar"
SELECT = f"{SESSION}.select_site"
HYDRATE = f"{SESSION}.load_session"
SECRET_KEYWORD_FRAGMENT = "hydrangeas"  # on the first (newest-first) page of the demo site


def _db(app):
    return sqlite3.connect(app.data_dir / "igny8.db")


def _count(app, keyword: str) -> int:
    with _db(app) as c:
        return c.execute("select count(*) from keyword where keyword = ?", (keyword,)).fetchone()[0]


def _demo_site_id(app) -> int:
    with _db(app) as c:
        return c.execute("select s.id from site s join account a on a.id = s.account_id "
                         "where a.name = 'Demo Gardens' order by s.id limit 1").fetchone()[0]


@pytest.fixture(scope="module")
def rival(live_app):
    r = live_app.cli("create-user", "--email", "rival@example.com", "--password", "rival-password",
                     "--account", "Rival Co", "--role", "owner")
    assert r.returncode == 0, r.stderr
    r = live_app.cli("create-site", "--account", "Rival Co", "--name", "Rival Site", "--domain", "rival.example.com",
                     "--json")
    assert r.returncode == 0, r.stderr
    return {"cookie": live_app.login_cookie("rival@example.com", "rival-password"),
            "site_id": json.loads(r.stdout)["id"]}


def _attack(live_app, cookie: str | None, keyword: str) -> ReflexClient:
    """Try every route to the demo site's data: select it, force the var, then add and load."""
    site_id = _demo_site_id(live_app)
    client = ReflexClient(live_app.url, session_cookie=cookie)
    client.send(HYDRATE)
    client.send(SELECT, {"site_id": str(site_id)})
    client.send(SETVAR, {"var_name": "active_site_id", "value": site_id})
    client.send(ADD, {"form": {"keyword": keyword, "volume": "10", "difficulty": "", "intent": ""}})
    client.send(LOAD)
    return client


def test_anonymous_event_changes_nothing_and_leaks_nothing(live_app):
    client = _attack(live_app, None, "anonymous injected keyword")
    try:
        assert _count(live_app, "anonymous injected keyword") == 0
        assert SECRET_KEYWORD_FRAGMENT not in client.all_text()
        assert "/login" in client.all_text()  # sent to the login page
    finally:
        client.close()


def test_other_account_owner_cannot_touch_demo_site(live_app, rival):
    client = _attack(live_app, rival["cookie"], "rival injected keyword")
    try:
        # select_site is refused and setvar has no setter (auto setters are off), so the rival's
        # add can only ever reach the rival's own site: never the demo site.
        assert _demo_site_id(live_app) not in _keyword_site(live_app, "rival injected keyword")
        assert _keyword_site(live_app, "rival injected keyword") <= {rival["site_id"]}
        assert SECRET_KEYWORD_FRAGMENT not in client.all_text()
    finally:
        client.close()


def _keyword_site(app, keyword: str) -> set[int]:
    with _db(app) as c:
        return {r[0] for r in c.execute("select site_id from keyword where keyword = ?", (keyword,))}


def test_viewer_cannot_add_keywords(live_app):
    cookie = live_app.login_cookie(*live_app.creds("viewer"))
    client = ReflexClient(live_app.url, session_cookie=cookie)
    try:
        client.send(HYDRATE)
        client.send(ADD, {"form": {"keyword": "viewer injected keyword", "volume": "1"}})
        assert _count(live_app, "viewer injected keyword") == 0
        assert "may not do this" in client.all_text()
        # but a viewer may read, and pick any site of its own account (another test may have left
        # the viewer on the second site, so choose the demo site explicitly)
        client.send(SELECT, {"site_id": str(_demo_site_id(live_app))})
        client.send(LOAD)
        assert SECRET_KEYWORD_FRAGMENT in client.all_text()
    finally:
        client.close()


@pytest.mark.parametrize("role", ["owner", "editor"])
def test_positive_control_authorised_session_changes_data(live_app, role):
    login = live_app.creds(role)
    keyword = f"authorised keyword {login[0]}"
    cookie = live_app.login_cookie(*login)
    client = ReflexClient(live_app.url, session_cookie=cookie)
    try:
        client.send(HYDRATE)
        client.send(SELECT, {"site_id": str(_demo_site_id(live_app))})  # other tests may leave another site active
        client.send(ADD, {"form": {"keyword": keyword, "volume": "10", "difficulty": "", "intent": ""}})
        assert _count(live_app, keyword) == 1
        assert _keyword_site(live_app, keyword) == {_demo_site_id(live_app)}
        client.send(LOAD)
        assert SECRET_KEYWORD_FRAGMENT in client.all_text()
    finally:
        client.close()


def test_revoked_session_is_refused(live_app):
    cookie = live_app.login_cookie(*live_app.creds("owner"))
    with _db(live_app) as c:
        c.execute("update user_session set revoked_at = '2026-01-01 00:00:00' where token_hash = ?",
                  (hashlib.sha256(cookie.encode()).hexdigest(),))
    client = ReflexClient(live_app.url, session_cookie=cookie)
    try:
        client.send(HYDRATE)
        client.send(ADD, {"form": {"keyword": "after logout keyword", "volume": "1"}})
        assert _count(live_app, "after logout keyword") == 0
    finally:
        client.close()
