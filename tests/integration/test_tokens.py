"""API tokens: list/create/revoke for oneself, owners over their account, and a revoked token is
refused by the REST API on the very next request (real routes through Starlette's TestClient)."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from igny8_app import db as dbmod
from igny8_app.api import automation_routes
from igny8_app.domain.errors import Forbidden, NotFound
from igny8_app.models import AccountAudit, ApiToken, User
from igny8_app.services.accounts import access as accounts
from igny8_app.services.accounts import tokens
from tests.factories import make_account, make_site, make_user


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))


@pytest.fixture
def world(db):
    with dbmod.write_session() as s:
        a = make_account(s, "Tok Co")
        site = make_site(s, a)
        owner = make_user(s, account="Tok Co", role="owner", email="owner@tok.example")
        editor = make_user(s, account="Tok Co", role="editor", email="editor@tok.example")
        other = make_user(s, account="Else Co", role="owner", email="owner@else.example")
        return {"account": a.id, "site": site.id, "owner": owner.id, "editor": editor.id, "other": other.id}


def _u(s, uid: int) -> User:
    return s.get(User, uid)


def test_revoked_token_stops_working_at_once_through_the_rest_api(world, redis) -> None:
    with dbmod.write_session() as s:
        row, plain = tokens.create_token(session=s, user=_u(s, world["editor"]), name="CI deploy")
    assert plain.startswith("igny8_") and row["prefix"] == plain[:10] + "…"
    client = TestClient(Starlette(routes=automation_routes.routes))
    url = "/api/v1/automation/current_run"
    headers = {"Authorization": f"Bearer {plain}"}
    assert client.get(url, params={"site_id": world["site"]}, headers=headers).status_code == 200
    with dbmod.read_session() as s:
        listed = tokens.list_tokens(session=s, user=_u(s, world["editor"]))
    assert [(t["name"], t["last_used"] != "never") for t in listed] == [("CI deploy", True)]
    with dbmod.write_session() as s:
        tokens.revoke_token(session=s, user=_u(s, world["editor"]), token_id=row["id"])
    r = client.get(url, params={"site_id": world["site"]}, headers=headers)
    assert r.status_code == 401 and r.json()["error"] == "unauthenticated"
    with dbmod.read_session() as s:
        assert tokens.list_tokens(session=s, user=_u(s, world["editor"])) == []
        assert s.exec(select(ApiToken.token_hash)).one() != plain  # stored hashed


def test_owners_see_and_revoke_their_members_tokens_others_do_not(world, redis) -> None:
    with dbmod.write_session() as s:
        ed, ed_plain = tokens.create_token(session=s, user=_u(s, world["editor"]), name="editor token")
        mine, _ = tokens.create_token(session=s, user=_u(s, world["owner"]), name="owner token")
        foreign, foreign_plain = tokens.create_token(session=s, user=_u(s, world["other"]), name="foreign")
    with dbmod.write_session() as s:
        editor, owner, other = _u(s, world["editor"]), _u(s, world["owner"]), _u(s, world["other"])
        assert [t["name"] for t in tokens.list_tokens(session=s, user=editor)] == ["editor token"]
        with pytest.raises(Forbidden):  # an editor cannot list the account's tokens
            tokens.list_tokens(session=s, user=editor, account_id=world["account"])
        with pytest.raises(Forbidden):  # nor revoke someone else's
            tokens.revoke_token(session=s, user=editor, token_id=mine["id"], account_id=world["account"])
        with pytest.raises(NotFound):  # another account's owner cannot reach into this account
            tokens.revoke_token(session=s, user=other, token_id=ed["id"], account_id=world["account"])
        with pytest.raises(NotFound):  # and an owner cannot revoke a non-member's token through their account
            tokens.revoke_token(session=s, user=owner, token_id=foreign["id"], account_id=world["account"])
        listed = tokens.list_tokens(session=s, user=owner, account_id=world["account"])
        assert sorted((t["name"], t["owner"]) for t in listed) == [("editor token", "editor@tok.example"),
                                                                   ("owner token", "owner@tok.example")]
    client = TestClient(Starlette(routes=automation_routes.routes))
    url = "/api/v1/automation/current_run"
    assert client.get(url, params={"site_id": world["site"]},
                      headers={"Authorization": f"Bearer {ed_plain}"}).status_code == 200
    with dbmod.write_session() as s:  # positive control: the owner revokes the editor's token
        tokens.revoke_token(session=s, user=_u(s, world["owner"]), token_id=ed["id"], account_id=world["account"])
    assert client.get(url, params={"site_id": world["site"]},
                      headers={"Authorization": f"Bearer {ed_plain}"}).status_code == 401
    with dbmod.read_session() as s:
        entry = s.exec(select(AccountAudit).where(AccountAudit.action == "token_revoked")).one()
        assert (entry.actor_email, entry.target) == ("owner@tok.example", "editor@tok.example")
        assert [t["name"] for t in tokens.list_tokens(session=s, user=_u(s, world["other"]))] == ["foreign"]
