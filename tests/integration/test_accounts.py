"""Accounts: argon2 passwords, login sessions (idle and lifetime limits), API tokens, authorisation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
import sqlalchemy as sa
from sqlmodel import select

from igny8_app.domain.enums import Role
from igny8_app.domain.errors import Forbidden, NotFound, Unauthenticated, ValidationError
from igny8_app.domain.roles import Permission
from igny8_app.models import Account, Membership, User, UserSession, utcnow
from igny8_app.services.accounts import access as accounts
from tests.factories import PASSWORD, make_account, make_site, make_user

GENERIC = "Wrong email or password."
PRODUCTION_HASHER = accounts._hasher


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Still argon2id, with tiny costs: the production parameters take ~0.1-0.5 s per hash."""
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))


# --- users and passwords ------------------------------------------------------------------------

def test_password_is_stored_as_an_argon2_hash(session, monkeypatch) -> None:
    monkeypatch.setattr(accounts, "_hasher", PRODUCTION_HASHER)
    user = make_user(session, email="ann@example.com")
    stored = session.execute(sa.select(User.password_hash).where(User.id == user.id)).scalar_one()
    assert stored != PASSWORD and PASSWORD not in stored
    assert stored.startswith("$argon2id$")
    params = stored.split("$")[3]  # e.g. m=65536,t=3,p=4
    cost = dict(kv.split("=") for kv in params.split(","))
    assert int(cost["m"]) >= 19_456 and int(cost["t"]) >= 2  # at least OWASP's argon2id minimum
    assert accounts.verify_password(stored, PASSWORD)
    assert not accounts.verify_password(stored, PASSWORD + "x")
    assert not accounts.verify_password("not a hash", PASSWORD)


def test_two_users_with_the_same_password_get_different_hashes(session) -> None:
    a, b = make_user(session), make_user(session)
    assert a.password_hash != b.password_hash  # salted


def test_login_upgrades_a_weaker_hash(session, monkeypatch) -> None:
    make_user(session, email="old@example.com")  # hashed with the cheap test parameters
    monkeypatch.setattr(accounts, "_hasher", PRODUCTION_HASHER)
    user, _ = accounts.login(session=session, email="old@example.com", password=PASSWORD)
    session.flush()
    stored = session.execute(sa.select(User.password_hash).where(User.id == user.id)).scalar_one()
    assert not PRODUCTION_HASHER.check_needs_rehash(stored)
    assert accounts.verify_password(stored, PASSWORD)


def test_create_user_normalises_email_and_refuses_duplicates_and_weak_passwords(session) -> None:
    user = make_user(session, email="  Mixed.Case@Example.COM ")
    assert user.email == "mixed.case@example.com"
    with pytest.raises(ValidationError, match="already exists"):
        make_user(session, email="MIXED.case@example.com")
    with pytest.raises(ValidationError, match="8 characters"):
        accounts.create_user(session=session, email="short@example.com", password="1234567")
    with pytest.raises(ValidationError, match="not a valid email"):
        accounts.create_user(session=session, email="no-at-sign", password=PASSWORD)


def test_create_user_with_account_name_creates_or_joins_the_account(session) -> None:
    owner = make_user(session, account="Acme")
    editor = make_user(session, account="Acme", role=Role.EDITOR)
    (acme,) = session.exec(select(Account).where(Account.name == "Acme")).all()
    roles = dict(session.exec(select(Membership.user_id, Membership.role).where(Membership.account_id == acme.id)).all())
    assert roles == {owner.id: "owner", editor.id: "editor"}


# --- login sessions -----------------------------------------------------------------------------

def test_login_opens_a_session_whose_token_resolves_to_the_user(session) -> None:
    user = make_user(session, email="bob@example.com")
    logged_in, token = accounts.login(session=session, email=" BOB@example.com", password=PASSWORD)
    assert logged_in.id == user.id and logged_in.last_login_at is not None
    assert accounts.resolve_session(session=session, token=token).id == user.id
    row = session.exec(select(UserSession)).one()
    assert row.token_hash == accounts.token_hash(token) and token not in row.token_hash
    # a new login is a new, independent session
    _, token2 = accounts.login(session=session, email="bob@example.com", password=PASSWORD)
    assert token2 != token


def test_failed_login_is_generic_and_opens_no_session(session) -> None:
    make_user(session, email="bob@example.com")
    for email, password in [("bob@example.com", "wrong-password"), ("bob@example.com", ""),
                            ("nobody@example.com", PASSWORD), ("not an email", PASSWORD), ("", "")]:
        with pytest.raises(Unauthenticated) as info:
            accounts.login(session=session, email=email, password=password)
        assert info.value.message == GENERIC  # never says whether the email exists
    assert session.exec(select(UserSession)).all() == []


def test_inactive_user_cannot_log_in_or_use_a_session(session) -> None:
    user = make_user(session, email="gone@example.com")
    _, token = accounts.login(session=session, email="gone@example.com", password=PASSWORD)
    user.is_active = False
    session.add(user)
    session.flush()
    with pytest.raises(Unauthenticated, match=GENERIC):
        accounts.login(session=session, email="gone@example.com", password=PASSWORD)
    with pytest.raises(Unauthenticated):
        accounts.resolve_session(session=session, token=token)


def test_missing_or_unknown_session_token_is_refused(session) -> None:
    make_user(session, email="eve@example.com")
    _, real = accounts.login(session=session, email="eve@example.com", password=PASSWORD)
    for token in (None, "", "made-up-token", real[:-2], accounts.token_hash(real)):
        with pytest.raises(Unauthenticated):
            accounts.resolve_session(session=session, token=token)


def test_logout_revokes_the_session(session) -> None:
    make_user(session, email="carl@example.com")
    _, token = accounts.login(session=session, email="carl@example.com", password=PASSWORD)
    _, other = accounts.login(session=session, email="carl@example.com", password=PASSWORD)
    accounts.logout(session=session, token=token)
    with pytest.raises(Unauthenticated):
        accounts.resolve_session(session=session, token=token)
    assert accounts.resolve_session(session=session, token=other).email == "carl@example.com"
    accounts.logout(session=session, token=None)  # harmless


def _login(session) -> tuple[str, UserSession]:
    make_user(session, email="dana@example.com")
    _, token = accounts.login(session=session, email="dana@example.com", password=PASSWORD)
    return token, session.exec(select(UserSession)).one()


def _set(session, row: UserSession, **values) -> None:
    session.execute(sa.update(UserSession).where(UserSession.id == row.id).values(**values))
    session.expire_all()


def test_expired_session_is_refused(session) -> None:
    token, row = _login(session)
    _set(session, row, expires_at=utcnow() - timedelta(seconds=1))
    with pytest.raises(Unauthenticated, match="expired"):
        accounts.resolve_session(session=session, token=token)


def test_idle_session_is_refused_even_before_it_expires(session, monkeypatch) -> None:
    monkeypatch.setenv("SESSION_IDLE_MINUTES", "30")
    from igny8_app.settings import reset_settings

    reset_settings()
    token, row = _login(session)
    _set(session, row, last_seen_at=utcnow() - timedelta(minutes=29))
    assert accounts.resolve_session(session=session, token=token).email == "dana@example.com"
    _set(session, row, last_seen_at=utcnow() - timedelta(minutes=31))
    with pytest.raises(Unauthenticated, match="expired"):
        accounts.resolve_session(session=session, token=token)


def test_using_a_session_keeps_it_alive(session) -> None:
    token, row = _login(session)
    stale = utcnow() - timedelta(hours=3)
    _set(session, row, last_seen_at=stale)
    accounts.resolve_session(session=session, token=token)
    session.expire_all()
    assert session.get(UserSession, row.id).last_seen_at > stale + timedelta(hours=2)


def test_session_lifetime_comes_from_settings(session, monkeypatch) -> None:
    monkeypatch.setenv("SESSION_LIFETIME_HOURS", "2")
    from igny8_app.settings import reset_settings

    reset_settings()
    _, row = _login(session)
    assert timedelta(hours=1, minutes=59) < row.expires_at - row.created_at <= timedelta(hours=2)


# --- API tokens ---------------------------------------------------------------------------------

def test_api_token_resolves_and_only_its_hash_is_stored(session) -> None:
    user = make_user(session)
    row, plain = accounts.create_api_token(session=session, user_id=user.id, name="ci")
    assert accounts.resolve_api_token(session=session, token=plain).id == user.id
    assert row.token_hash == accounts.token_hash(plain) and plain not in (row.token_hash, row.prefix, row.name)
    row.revoked_at = utcnow()
    session.add(row)
    session.flush()
    with pytest.raises(Unauthenticated):
        accounts.resolve_api_token(session=session, token=plain)
    with pytest.raises(Unauthenticated):
        accounts.resolve_api_token(session=session, token=None)


# --- authorisation ------------------------------------------------------------------------------

@pytest.fixture
def tenants(session):
    acme, globex = make_account(session, "Acme"), make_account(session, "Globex")
    users = {role: make_user(session, account="Acme", role=role) for role in Role}
    return {
        "acme_site": make_site(session, acme),
        "globex_site": make_site(session, globex),
        "users": users,
        "outsider": make_user(session, account="Globex"),
        "superuser": make_user(session, superuser=True),
    }


def test_another_accounts_site_is_not_found_not_forbidden(session, tenants) -> None:
    for permission in Permission:
        with pytest.raises(NotFound, match="Site not found"):
            accounts.authorize_site(session=session, user=tenants["outsider"], site_id=tenants["acme_site"].id,
                                    permission=permission)
    with pytest.raises(NotFound):
        accounts.authorize_site(session=session, user=tenants["users"][Role.OWNER], site_id=987_654,
                                permission=Permission.READ)


def test_viewer_may_read_but_not_run(session, tenants) -> None:
    viewer, site = tenants["users"][Role.VIEWER], tenants["acme_site"]
    got, access = accounts.authorize_site(session=session, user=viewer, site_id=site.id, permission=Permission.READ)
    assert got.id == site.id and access.role is Role.VIEWER and not access.is_superuser
    with pytest.raises(Forbidden, match="viewer"):
        accounts.authorize_site(session=session, user=viewer, site_id=site.id, permission=Permission.RUN)


ALLOWED = {
    Role.VIEWER: {Permission.READ},
    Role.EDITOR: {Permission.READ, Permission.RUN},
    Role.ADMIN: {Permission.READ, Permission.RUN, Permission.MANAGE},
    Role.OWNER: set(Permission),
}


def test_site_permissions_follow_the_role(session, tenants) -> None:
    site = tenants["acme_site"]
    for role, allowed in ALLOWED.items():
        user = tenants["users"][role]
        for permission in Permission:
            if permission in allowed:
                _, access = accounts.authorize_site(session=session, user=user, site_id=site.id,
                                                    permission=permission)
                assert access.role is role
            else:
                with pytest.raises(Forbidden):
                    accounts.authorize_site(session=session, user=user, site_id=site.id, permission=permission)


def test_superuser_may_do_everything_anywhere(session, tenants) -> None:
    su = tenants["superuser"]
    for site in (tenants["acme_site"], tenants["globex_site"]):
        for permission in Permission:
            _, access = accounts.authorize_site(session=session, user=su, site_id=site.id, permission=permission)
            assert access.is_superuser


def test_role_change_takes_effect(session, tenants) -> None:
    viewer, site = tenants["users"][Role.VIEWER], tenants["acme_site"]
    accounts.add_membership(session=session, user_id=viewer.id, account_id=site.account_id, role=Role.EDITOR)
    session.flush()
    accounts.authorize_site(session=session, user=viewer, site_id=site.id, permission=Permission.RUN)
    assert [(a.name, r) for a, r in accounts.user_accounts(session=session, user=viewer)] == [("Acme", Role.EDITOR)]
