"""Sessions and passwords: change (ends other sessions), reset by single-use expiring link, reset
forced by an owner or a platform admin, and failed-login throttling per account and per IP
(real Redis), each with a positive control."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlmodel import select

from igny8_app import db as dbmod
from igny8_app.domain.errors import Forbidden, NotFound, RateLimited, Unauthenticated, ValidationError
from igny8_app.models import AccountAudit, PasswordReset, User
from igny8_app.services.accounts import access as accounts
from igny8_app.services.notifications import mail as mailer
from igny8_app.services.accounts import passwords
from igny8_app.services.accounts import signin
from igny8_app.services.accounts import throttle
from tests.factories import PASSWORD, make_account, make_user


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))


@pytest.fixture
def outbox(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Emails handed to the mail queue (the SMTP delivery itself is tested in test_notifications)."""
    sent: list[dict] = []
    monkeypatch.setattr(mailer, "send", lambda **kw: sent.append(kw) or True)
    return sent


def _link_token(mail: dict) -> str:
    return re.search(r"/reset\?token=([\w-]+)", mail["body"]).group(1)


@pytest.fixture
def people(db):
    with dbmod.write_session() as s:
        make_account(s, "Pw Co")
        ids = {r: make_user(s, account="Pw Co", role=r, email=f"{r}@pw.example").id for r in ("owner", "admin")}
        ids["outsider"] = make_user(s, account="Else Co", email="boss@else.example").id
        ids["root"] = make_user(s, email="root@pw.example", superuser=True).id
        return ids


def _login(email: str, password: str = PASSWORD, ip: str = "10.1.0.1") -> str:
    return signin.sign_in(email=email, password=password, ip=ip)


def _alive(token: str) -> bool:
    try:
        with dbmod.write_session() as s:
            accounts.resolve_session(session=s, token=token)
        return True
    except Unauthenticated:
        return False


# --- change -----------------------------------------------------------------------------------------

def test_change_password_ends_other_sessions_but_keeps_this_one(people, redis) -> None:
    here, there = _login("admin@pw.example"), _login("admin@pw.example")
    with dbmod.write_session() as s:
        user = s.get(User, people["admin"])
        with pytest.raises(ValidationError, match="current password"):
            passwords.change_password(session=s, user=user, current_password="wrong-one", new_password="new-pass-1",
                                      keep_session_token=here)
    assert _alive(here) and _alive(there)  # a refused change ends nothing
    with dbmod.write_session() as s:
        ended = passwords.change_password(session=s, user=s.get(User, people["admin"]), current_password=PASSWORD,
                                          new_password="new-pass-1", keep_session_token=here)
    assert ended == 1 and _alive(here) and not _alive(there)
    with pytest.raises(Unauthenticated):
        _login("admin@pw.example")
    assert _alive(_login("admin@pw.example", "new-pass-1"))


# --- reset by email link ------------------------------------------------------------------------------

def test_reset_link_is_single_use_expiring_and_ends_all_sessions(people, redis, outbox) -> None:
    old_session = _login("owner@pw.example")
    passwords.request_reset(email="nobody@pw.example")
    assert outbox == []  # unknown addresses get nothing (and the page says the same either way)
    passwords.request_reset(email="OWNER@pw.example")
    assert [m["to"] for m in outbox] == ["owner@pw.example"]
    token = _link_token(outbox[0])
    assert "expires in 60 minutes" in outbox[0]["body"]
    with dbmod.read_session() as s:
        assert passwords.reset_email(session=s, token=token) == "owner@pw.example"
        assert s.exec(select(PasswordReset.token_hash)).one() == accounts.token_hash(token)
    with pytest.raises(ValidationError):
        passwords.complete_reset(token=token, new_password="short")
    new_session = passwords.complete_reset(token=token, new_password="brand-new-pass")
    assert _alive(new_session) and not _alive(old_session)
    assert _alive(_login("owner@pw.example", "brand-new-pass"))
    with pytest.raises(NotFound):  # single use
        passwords.complete_reset(token=token, new_password="another-pass-2")

    passwords.request_reset(email="owner@pw.example")
    expired = _link_token(outbox[-1])
    with dbmod.write_session() as s:
        s.execute(sa.update(PasswordReset).where(PasswordReset.token_hash == accounts.token_hash(expired))
                  .values(expires_at=accounts.utcnow() - timedelta(seconds=1)))
    with pytest.raises(NotFound):
        passwords.complete_reset(token=expired, new_password="another-pass-2")


def test_reset_requests_are_capped_per_user_per_hour(people, redis, outbox) -> None:
    for _ in range(passwords.MAX_RESETS_PER_HOUR + 3):
        passwords.request_reset(email="owner@pw.example")
    assert len(outbox) == passwords.MAX_RESETS_PER_HOUR
    passwords.request_reset(email="admin@pw.example")  # positive control: another user still gets one
    assert outbox[-1]["to"] == "admin@pw.example"


def test_owner_or_superuser_can_force_a_reset_admins_and_outsiders_cannot(people, redis, outbox) -> None:
    target_session = _login("admin@pw.example")
    with dbmod.write_session() as s:
        aid = s.exec(sa.text("select id from account where name='Pw Co'")).scalar()
        with pytest.raises(Forbidden):
            passwords.force_reset(session=s, actor=s.get(User, people["admin"]), account_id=aid,
                                  user_id=people["owner"])
        with pytest.raises(NotFound):
            passwords.force_reset(session=s, actor=s.get(User, people["outsider"]), account_id=aid,
                                  user_id=people["admin"])
    assert _alive(target_session) and _alive(_login("owner@pw.example"))
    with dbmod.write_session() as s:  # positive control: the owner forces the admin's reset
        token = passwords.force_reset(session=s, actor=s.get(User, people["owner"]), account_id=aid,
                                      user_id=people["admin"])
    assert not _alive(target_session)
    with pytest.raises(Unauthenticated):  # the old password is gone
        _login("admin@pw.example")
    passwords.complete_reset(token=token, new_password="admin-new-pass")
    assert _alive(_login("admin@pw.example", "admin-new-pass"))
    with dbmod.write_session() as s:  # and a platform admin may force anyone's reset, even outside an account
        passwords.force_reset(session=s, actor=s.get(User, people["root"]), account_id=aid, user_id=people["owner"])
        with pytest.raises(Forbidden):  # an owner cannot without naming their account
            passwords.force_reset(session=s, actor=s.get(User, people["outsider"]), user_id=people["admin"])
        passwords.force_reset(session=s, actor=s.get(User, people["root"]), user_id=people["outsider"])
        entries = s.exec(select(AccountAudit.actor_email, AccountAudit.target)
                         .where(AccountAudit.action == "password_reset_forced").order_by(AccountAudit.id)).all()
    assert entries == [("owner@pw.example", "admin@pw.example"), ("root@pw.example", "owner@pw.example"),
                       ("root@pw.example", "boss@else.example")]
    with pytest.raises(Unauthenticated):
        _login("boss@else.example")


# --- failed-login throttling --------------------------------------------------------------------------

def test_failed_logins_are_throttled_per_account(people, redis) -> None:
    for i in range(throttle.MAX_FAILURES_PER_EMAIL - 1):  # each from another IP: only the email counts
        with pytest.raises(Unauthenticated):
            _login("owner@pw.example", "wrong-password", ip=f"10.2.0.{i}")
    assert _alive(_login("owner@pw.example", ip="10.2.1.1"))  # control: below the limit it works, and resets
    for i in range(throttle.MAX_FAILURES_PER_EMAIL):
        with pytest.raises(Unauthenticated):
            _login("owner@pw.example", "wrong-password", ip=f"10.3.0.{i}")
    with pytest.raises(RateLimited, match="Too many failed attempts"):
        _login("owner@pw.example", ip="10.3.1.1")  # even the right password now waits
    assert _alive(_login("admin@pw.example", ip="10.3.1.1"))  # control: other accounts are unaffected
    assert redis.ttl("igny8:login-fail:email:owner@pw.example") > 0  # the lock lifts by itself


def test_failed_logins_are_throttled_per_ip(people, redis) -> None:
    for i in range(throttle.MAX_FAILURES_PER_IP):  # many accounts guessed from one address
        with pytest.raises(Unauthenticated):
            _login(f"guess{i}@pw.example", "wrong-password", ip="10.9.9.9")
    with pytest.raises(RateLimited):
        _login("admin@pw.example", ip="10.9.9.9")
    assert _alive(_login("admin@pw.example", ip="10.9.9.10"))  # control: the same account from elsewhere


def test_platform_admin_forces_a_reset_from_the_cli(people, redis) -> None:
    import json

    from typer.testing import CliRunner

    from igny8_app.cli import app

    runner = CliRunner()
    refused = runner.invoke(app, ["force-password-reset", "--email", "admin@pw.example", "--by", "owner@pw.example",
                                  "--json"])
    assert refused.exit_code != 0 and "platform admin" in refused.output
    assert _alive(_login("admin@pw.example"))  # control: nothing changed
    done = runner.invoke(app, ["force-password-reset", "--email", "admin@pw.example", "--by", "root@pw.example",
                               "--json"])
    assert done.exit_code == 0, done.output
    link = json.loads(done.output)["link"]
    with pytest.raises(Unauthenticated):
        _login("admin@pw.example")
    passwords.complete_reset(token=link.split("token=")[1], new_password="from-the-cli-1")
    assert _alive(_login("admin@pw.example", "from-the-cli-1"))
