"""Team administration: members, invitations (single-use, expiring, hashed), role changes, removals,
the guard rails (last owner, admins cannot make owners) and the audit log. Each refusal has a
positive control showing the same call succeeds when the rule allows it."""

from __future__ import annotations

import time

from datetime import timedelta

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlmodel import select

from igny8_app import db as dbmod
from igny8_app.domain.errors import Conflict, Forbidden, NotFound, RateLimited, Unauthenticated, ValidationError
from igny8_app.models import Invitation, Membership, User
from igny8_app.services.accounts import access as accounts
from igny8_app.services.accounts import audit
from igny8_app.services.accounts import invitations
from igny8_app.services.accounts import team
from igny8_app.services.accounts import throttle
from tests.factories import PASSWORD, make_account, make_site, make_user


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))


@pytest.fixture
def acct(db):
    """An account with one owner, one admin, one editor and one viewer (ids by role)."""
    with dbmod.write_session() as s:
        a = make_account(s, "Team Co")
        make_site(s, a)
        users = {r: make_user(s, account="Team Co", role=r, email=f"{r}@team.example") for r in
                 ("owner", "admin", "editor", "viewer")}
        return a.id, {r: u.id for r, u in users.items()}


def _user(s, uid: int) -> User:
    return s.get(User, uid)


def _role(s, account_id: int, uid: int) -> str | None:
    return s.exec(select(Membership.role).where(Membership.account_id == account_id,
                                                Membership.user_id == uid)).one_or_none()


def test_members_are_listed_with_role_and_last_login(acct) -> None:
    aid, ids = acct
    with dbmod.write_session() as s:
        accounts.login(session=s, email="editor@team.example", password=PASSWORD)
    with dbmod.read_session() as s:
        rows = {r["email"]: r for r in team.list_members(session=s, account_id=aid)}
    assert {r["role"] for r in rows.values()} == {"owner", "admin", "editor", "viewer"}
    assert rows["editor@team.example"]["last_login"] != "never"
    assert rows["viewer@team.example"]["last_login"] == "never"


def test_last_owner_cannot_be_demoted_or_removed_until_there_is_another(acct) -> None:
    aid, ids = acct
    with dbmod.write_session() as s:
        owner = _user(s, ids["owner"])
        with pytest.raises(Conflict, match="last owner cannot be demoted"):
            team.change_role(session=s, actor=owner, account_id=aid, user_id=ids["owner"], role="admin")
        with pytest.raises(Conflict, match="last owner cannot be removed"):
            team.remove_member(session=s, actor=owner, account_id=aid, user_id=ids["owner"])
    # positive control: with a second owner the first can step down, and then be removed
    with dbmod.write_session() as s:
        owner = _user(s, ids["owner"])
        team.change_role(session=s, actor=owner, account_id=aid, user_id=ids["admin"], role="owner")
        team.change_role(session=s, actor=owner, account_id=aid, user_id=ids["owner"], role="admin")
    with dbmod.write_session() as s:
        new_owner = _user(s, ids["admin"])
        assert _role(s, aid, ids["owner"]) == "admin"
        team.remove_member(session=s, actor=new_owner, account_id=aid, user_id=ids["owner"])
        assert _role(s, aid, ids["owner"]) is None
        with pytest.raises(Conflict):  # and now the new owner is the last one
            team.remove_member(session=s, actor=new_owner, account_id=aid, user_id=ids["admin"])


def test_an_admin_cannot_make_anyone_owner(acct) -> None:
    aid, ids = acct
    with dbmod.write_session() as s:
        admin = _user(s, ids["admin"])
        with pytest.raises(Forbidden, match="Only an owner"):
            team.change_role(session=s, actor=admin, account_id=aid, user_id=ids["editor"], role="owner")
        with pytest.raises(Forbidden, match="Only an owner"):
            team.change_role(session=s, actor=admin, account_id=aid, user_id=ids["admin"], role="owner")
        with pytest.raises(Forbidden, match="Only an owner"):
            invitations.create_invitation(session=s, actor=admin, account_id=aid, email="new@x.example", role="owner")
        with pytest.raises(Forbidden, match="owner's role"):
            team.change_role(session=s, actor=admin, account_id=aid, user_id=ids["owner"], role="viewer")
        with pytest.raises(Forbidden, match="remove an owner"):
            team.remove_member(session=s, actor=admin, account_id=aid, user_id=ids["owner"])
    with dbmod.read_session() as s:
        assert _role(s, aid, ids["editor"]) == "editor" and _role(s, aid, ids["owner"]) == "owner"
        assert s.exec(select(Invitation)).all() == []
    # positive control: an admin may change non-owner roles, invite non-owners and remove members
    with dbmod.write_session() as s:
        admin = _user(s, ids["admin"])
        team.change_role(session=s, actor=admin, account_id=aid, user_id=ids["editor"], role="viewer")
        invitations.create_invitation(session=s, actor=admin, account_id=aid, email="new@x.example", role="admin")
        team.remove_member(session=s, actor=admin, account_id=aid, user_id=ids["viewer"])
    with dbmod.read_session() as s:
        assert _role(s, aid, ids["editor"]) == "viewer" and _role(s, aid, ids["viewer"]) is None
    # and an owner may make an owner
    with dbmod.write_session() as s:
        team.change_role(session=s, actor=_user(s, ids["owner"]), account_id=aid, user_id=ids["editor"], role="owner")
        assert _role(s, aid, ids["editor"]) == "owner"


def test_editors_and_outsiders_cannot_administer_the_team(acct) -> None:
    aid, ids = acct
    with dbmod.write_session() as s:
        outsider = make_user(s, account="Other Co", email="out@other.example")
        editor = _user(s, ids["editor"])
        with pytest.raises(Forbidden):
            team.change_role(session=s, actor=editor, account_id=aid, user_id=ids["viewer"], role="editor")
        with pytest.raises(Forbidden):
            invitations.create_invitation(session=s, actor=editor, account_id=aid, email="z@x.example", role="viewer")
        with pytest.raises(NotFound):  # another account's user learns nothing
            team.remove_member(session=s, actor=outsider, account_id=aid, user_id=ids["viewer"])
        with pytest.raises(NotFound):  # a member of another account cannot be touched through this one
            team.change_role(session=s, actor=_user(s, ids["owner"]), account_id=aid, user_id=outsider.id,
                             role="viewer")
        with pytest.raises(ValidationError, match="not a role"):
            team.change_role(session=s, actor=_user(s, ids["owner"]), account_id=aid, user_id=ids["viewer"],
                             role="god")
    with dbmod.read_session() as s:
        assert _role(s, aid, ids["viewer"]) == "viewer"


def test_every_change_is_in_the_audit_log(acct, redis) -> None:
    aid, ids = acct
    with dbmod.write_session() as s:
        owner = _user(s, ids["owner"])
        _, token = invitations.create_invitation(session=s, actor=owner, account_id=aid, email="Ann@New.example",
                                                 role="editor")
    invitations.accept(token=token, password="a-new-password", full_name="Ann", ip="10.0.0.1")
    with dbmod.write_session() as s:
        owner = _user(s, ids["owner"])
        team.change_role(session=s, actor=owner, account_id=aid, user_id=ids["viewer"], role="editor")
        team.remove_member(session=s, actor=owner, account_id=aid, user_id=ids["editor"])
        with pytest.raises(Conflict):  # refused changes leave no entry
            team.remove_member(session=s, actor=owner, account_id=aid, user_id=ids["owner"])
    with dbmod.read_session() as s:
        entries = audit.list_entries(session=s, account_id=aid)
    got = [(e["actor"], e["action"], e["target"], e["detail"]) for e in reversed(entries)]
    assert got == [
        ("owner@team.example", "invitation_sent", "ann@new.example", "as editor"),
        ("ann@new.example", "invitation_accepted", "ann@new.example", "as editor"),
        ("owner@team.example", "role_changed", "viewer@team.example", "viewer → editor"),
        ("owner@team.example", "member_removed", "editor@team.example", "was editor"),
    ]
    assert all(e["when"] for e in entries)


# --- invitations --------------------------------------------------------------------------------

def test_invitation_creates_a_user_signs_them_in_and_is_single_use(acct, redis) -> None:
    aid, ids = acct
    with dbmod.write_session() as s:
        _, token = invitations.create_invitation(session=s, actor=_user(s, ids["owner"]), account_id=aid,
                                                 email="bob@new.example", role="viewer")
        stored = s.exec(select(Invitation.token_hash)).one()
        assert token not in stored and stored == accounts.token_hash(token)  # only the hash is kept
        info = invitations.describe(session=s, token=token)
    assert info == {"account": "Team Co", "email": "bob@new.example", "role": "viewer", "existing_user": False}
    session_token = invitations.accept(token=token, password="bobs-password", full_name="Bob", ip="10.0.0.2")
    with dbmod.write_session() as s:
        bob = accounts.resolve_session(session=s, token=session_token)
        assert bob.email == "bob@new.example" and bob.full_name == "Bob"
        assert _role(s, aid, bob.id) == "viewer"
    with pytest.raises(ValidationError, match="already been used"):
        invitations.accept(token=token, password="another-password", ip="10.0.0.2")
    with dbmod.read_session() as s, pytest.raises(NotFound):
        invitations.describe(session=s, token=token + "x")


def test_an_existing_login_joins_with_its_password(acct, redis) -> None:
    aid, ids = acct
    with dbmod.write_session() as s:
        carol = make_user(s, account="Carol Co", email="carol@else.example")
        _, token = invitations.create_invitation(session=s, actor=_user(s, ids["owner"]), account_id=aid,
                                                 email="carol@else.example", role="admin")
        assert invitations.describe(session=s, token=token)["existing_user"] is True
    with pytest.raises(Unauthenticated):
        invitations.accept(token=token, password="wrong-password", ip="10.0.0.3")
    with dbmod.read_session() as s:
        assert _role(s, aid, carol.id) is None
    invitations.accept(token=token, password=PASSWORD, ip="10.0.0.3")
    with dbmod.read_session() as s:
        assert _role(s, aid, carol.id) == "admin"
        assert sorted(s.exec(select(Membership.role).where(Membership.user_id == carol.id)).all()) == ["admin", "owner"]


def test_wrong_passwords_on_the_accept_page_are_throttled(acct, redis) -> None:
    aid, ids = acct
    with dbmod.write_session() as s:
        make_user(s, account="Dan Co", email="dan@else.example")
        _, token = invitations.create_invitation(session=s, actor=_user(s, ids["owner"]), account_id=aid,
                                                 email="dan@else.example", role="viewer")
    for _ in range(throttle.MAX_FAILURES_PER_EMAIL):
        with pytest.raises(Unauthenticated):
            invitations.accept(token=token, password="nope-nope", ip="10.0.0.4")
    with pytest.raises(RateLimited):  # even the right password waits now
        invitations.accept(token=token, password=PASSWORD, ip="10.0.0.4")


def test_expired_and_revoked_invitations_do_not_work(acct, redis) -> None:
    aid, ids = acct
    with dbmod.write_session() as s:
        owner = _user(s, ids["owner"])
        inv, expired = invitations.create_invitation(session=s, actor=owner, account_id=aid, email="e@x.example",
                                                     role="viewer")
        s.execute(sa.update(Invitation).where(Invitation.id == inv.id).values(
            expires_at=inv.created_at - timedelta(seconds=1)))
        inv2, revoked = invitations.create_invitation(session=s, actor=owner, account_id=aid, email="r@x.example",
                                                      role="viewer")
        invitations.revoke_invitation(session=s, actor=owner, account_id=aid, invitation_id=inv2.id)
        _, first = invitations.create_invitation(session=s, actor=owner, account_id=aid, email="twice@x.example",
                                                 role="viewer")
        _, second = invitations.create_invitation(session=s, actor=owner, account_id=aid, email="twice@x.example",
                                                  role="editor")
        assert [p["email"] for p in invitations.list_pending(session=s, account_id=aid)] == ["twice@x.example"]
    with pytest.raises(ValidationError, match="expired"):
        invitations.accept(token=expired, password="password-1", ip="10.0.0.5")
    with pytest.raises(NotFound):
        invitations.accept(token=revoked, password="password-1", ip="10.0.0.5")
    with pytest.raises(NotFound):  # replaced by the newer invitation
        invitations.accept(token=first, password="password-1", ip="10.0.0.5")
    invitations.accept(token=second, password="password-1", ip="10.0.0.5")  # positive control
    with dbmod.read_session() as s:
        uid = s.exec(select(User.id).where(User.email == "twice@x.example")).one()
        assert _role(s, aid, uid) == "editor"
        assert s.exec(select(User).where(User.email.in_(["e@x.example", "r@x.example"]))).all() == []


def test_members_cannot_be_invited_twice(acct) -> None:
    aid, ids = acct
    with dbmod.write_session() as s, pytest.raises(ValidationError, match="already a member"):
        invitations.create_invitation(session=s, actor=_user(s, ids["owner"]), account_id=aid,
                                      email="EDITOR@team.example", role="viewer")


def test_removed_member_loses_access_to_the_account(acct) -> None:
    aid, ids = acct
    with dbmod.write_session() as s:
        site_id = s.exec(sa.text("select id from site where account_id=:a").bindparams(a=aid)).scalar()
        viewer = _user(s, ids["viewer"])
        viewer.active_site_id = site_id
        s.add(viewer)
    with dbmod.write_session() as s:
        team.remove_member(session=s, actor=_user(s, ids["owner"]), account_id=aid, user_id=ids["viewer"])
    with dbmod.write_session() as s:
        viewer = _user(s, ids["viewer"])
        assert viewer.active_site_id is None
        with pytest.raises(NotFound):
            accounts.authorize_site(session=s, user=viewer, site_id=site_id, permission=accounts.Permission.READ)


def test_two_owners_demoting_each_other_at_once_leave_one_owner(acct, db) -> None:
    """Both owners are locked by the first demotion, so the second sees it and is refused. On
    PostgreSQL the second transaction really runs concurrently (it is observed waiting on the
    lock before the first commits); SQLite serialises write transactions by design."""
    import threading

    aid, ids = acct
    with dbmod.write_session() as s:
        team.change_role(session=s, actor=_user(s, ids["owner"]), account_id=aid, user_id=ids["admin"], role="owner")
    outcome: dict[str, object] = {}

    def second() -> None:
        try:
            with dbmod.write_session() as s2:
                team.change_role(session=s2, actor=_user(s2, ids["admin"]), account_id=aid, user_id=ids["admin"],
                                 role="viewer")
            outcome["result"] = "demoted"
        except Exception as exc:  # noqa: BLE001
            outcome["result"] = exc

    t = None
    with dbmod.write_session() as s1:
        team.change_role(session=s1, actor=_user(s1, ids["admin"]), account_id=aid, user_id=ids["owner"],
                         role="admin")
        if db.startswith("postgresql"):
            t = threading.Thread(target=second)
            t.start()
            with dbmod.get_engine().connect() as probe:  # wait until the second one blocks on our locks
                deadline = time.monotonic() + 30  # patience for a loaded machine; it blocks in ms when idle
                while time.monotonic() < deadline:
                    waiting = probe.exec_driver_sql(
                        "select count(*) from pg_stat_activity where datname = current_database() "
                        "and wait_event_type = 'Lock'").scalar()
                    if waiting:
                        break
                    probe.exec_driver_sql("select pg_sleep(0.005)")
                assert waiting, "the second transaction never waited for the owner lock"
    if t is None:
        second()
    else:
        t.join(30)
    assert isinstance(outcome["result"], Conflict), outcome
    with dbmod.read_session() as s:
        assert _role(s, aid, ids["owner"]) == "admin" and _role(s, aid, ids["admin"]) == "owner"
