"""Demo data (`igny8 demo`): the platform superuser gets a random password that is printed once
and recovered with `igny8 force-password-reset --print-password`; demo data is created only on an
empty database (or with IGNY8_DEMO=1). Real database (SQLite and PostgreSQL), real Redis."""

from __future__ import annotations

import json

import pytest
from argon2 import PasswordHasher
from sqlmodel import select
from typer.testing import CliRunner

from igny8_app import db as dbmod
from igny8_app.cli import app
from igny8_app.domain.errors import Unauthenticated
from igny8_app.models import User
from igny8_app.services.accounts import access as accounts
from igny8_app.services.system import demo
from igny8_app.services.accounts import signin
from tests.factories import make_user

runner = CliRunner()
SUPERUSER_EMAIL = "admin@igny8.local"


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))


def _demo_json() -> dict:
    r = runner.invoke(app, ["demo", "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


def _logins(data: dict) -> dict[str, tuple[str, str | None]]:
    return {x["role"]: (x["email"], x["password"]) for x in data["logins"]}


def _can_log_in(email: str, password: str) -> bool:
    try:
        signin.sign_in(email=email, password=password, ip="10.77.0.1")
        return True
    except Unauthenticated:
        return False


def test_the_demo_superuser_password_is_random_and_works(db, redis) -> None:
    first = _demo_json()
    assert first["created"] is True
    email, password = _logins(first)["superuser"]
    assert email == SUPERUSER_EMAIL
    assert password and password != "platform-admin-pass" and len(password) >= 20
    assert _can_log_in(email, password)  # control: the printed password is the real one
    assert not _can_log_in(email, "platform-admin-pass")  # the old well-known one is not


def test_the_superuser_password_comes_from_secrets(db, redis, monkeypatch) -> None:
    import secrets

    monkeypatch.setattr(secrets, "token_urlsafe", lambda n=None: "drawn-from-secrets-" + "x" * max(0, (n or 0) - 4))
    password = _logins(_demo_json())["superuser"][1]
    assert password.startswith("drawn-from-secrets-")
    assert _can_log_in(SUPERUSER_EMAIL, password)


def test_a_later_run_does_not_reprint_the_superuser_password_but_says_how_to_recover_it(db, redis) -> None:
    first = _logins(_demo_json())
    again = _demo_json()
    assert again["created"] is False
    logins = _logins(again)
    assert logins["superuser"] == (SUPERUSER_EMAIL, None)  # only its hash is stored
    assert logins["owner"] == first["owner"]  # the account's demo users keep their known passwords
    assert "force-password-reset" in again["recover_superuser"]
    text = runner.invoke(app, ["demo"]).output
    assert first["superuser"][1] not in text
    assert "already exists" in text and "igny8 force-password-reset --email admin@igny8.local" in text


def test_force_password_reset_can_print_a_new_random_password(db, redis) -> None:
    old = _logins(_demo_json())["superuser"][1]
    r = runner.invoke(app, ["force-password-reset", "--email", SUPERUSER_EMAIL, "--by", SUPERUSER_EMAIL,
                            "--print-password", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["email"] == SUPERUSER_EMAIL and "link" not in data
    new = data["password"]
    assert new and new != old and len(new) >= 20
    assert _can_log_in(SUPERUSER_EMAIL, new)
    assert not _can_log_in(SUPERUSER_EMAIL, old)
    text = runner.invoke(app, ["force-password-reset", "--email", SUPERUSER_EMAIL, "--by", SUPERUSER_EMAIL,
                               "--print-password"]).output
    assert "New password for admin@igny8.local" in text and "shown once" in text


def test_print_password_needs_a_platform_admin(db, redis) -> None:
    with dbmod.write_session() as s:
        make_user(s, account="Somebody Co", email="owner@some.example")
        make_user(s, account="Somebody Co", email="member@some.example", role="viewer")
    r = runner.invoke(app, ["force-password-reset", "--email", "member@some.example", "--by", "owner@some.example",
                            "--print-password", "--json"])
    assert r.exit_code == 1 and "platform admin" in r.output
    assert _can_log_in("member@some.example", "correct-horse-battery")  # control: nothing changed


def test_demo_data_is_not_added_to_a_database_that_has_users(db, redis, monkeypatch) -> None:
    with dbmod.write_session() as s:
        make_user(s, account="Real Customer", email="real@customer.example")
    skipped = _demo_json()
    assert skipped["created"] is False and skipped["skipped"] is True and skipped["logins"] == []
    with dbmod.read_session() as s:
        assert s.exec(select(User.email).order_by(User.email)).all() == ["real@customer.example"]
    assert "IGNY8_DEMO=1" in runner.invoke(app, ["demo"]).output
    monkeypatch.setenv("IGNY8_DEMO", "1")  # asked for explicitly: created anyway
    from igny8_app.settings import reset_settings

    reset_settings()
    forced = _demo_json()
    assert forced["created"] is True and _logins(forced)["superuser"][1]


def test_igny8_demo_0_never_creates_demo_data(db, redis, monkeypatch) -> None:
    monkeypatch.setenv("IGNY8_DEMO", "0")
    assert _demo_json()["created"] is False
    with dbmod.read_session() as s:
        assert s.exec(select(User.id)).first() is None  # still empty
    monkeypatch.setenv("IGNY8_DEMO", "")
    assert _demo_json()["created"] is True  # control: the default creates it on an empty database
