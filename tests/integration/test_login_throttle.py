"""The login throttle under concurrency (real Redis, real database, the real sign-in use case): an
attempt is counted before its password is checked, in one Redis operation, over a sliding window,
and a success refunds what it counted."""

from __future__ import annotations

import threading
import time

import pytest
from argon2 import PasswordHasher

from igny8_app import db as dbmod
from igny8_app.domain.errors import RateLimited, Unauthenticated
from igny8_app.services.accounts import access as accounts
from igny8_app.services.accounts import signin
from igny8_app.services.accounts import throttle
from tests.factories import PASSWORD, make_user

ATTEMPTS = 50


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every email that reached the password check (the real accounts.login, counted)."""
    seen: list[str] = []
    lock = threading.Lock()
    real = accounts.login

    def counted(*, session, email, password):  # noqa: ANN001
        with lock:
            seen.append(email)
        time.sleep(0.01)  # a password check takes time: the window a check-then-count race needs
        return real(session=session, email=email, password=password)

    monkeypatch.setattr(accounts, "login", counted)
    return seen


def _storm(attempt) -> dict[str, int]:  # noqa: ANN001
    """Run ATTEMPTS calls of attempt(i) at once; count how each ended."""
    start = threading.Barrier(ATTEMPTS)
    outcome = {"unauthenticated": 0, "rate_limited": 0}
    lock = threading.Lock()

    def one(i: int) -> None:
        start.wait()
        try:
            attempt(i)
            kind = "ok"
        except Unauthenticated:
            kind = "unauthenticated"
        except RateLimited:
            kind = "rate_limited"
        with lock:
            outcome[kind] = outcome.get(kind, 0) + 1

    threads = [threading.Thread(target=one, args=(i,)) for i in range(ATTEMPTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return outcome


def test_concurrent_wrong_passwords_for_one_email_pass_the_limit_no_more(db, redis, checks) -> None:
    with dbmod.write_session() as s:
        make_user(s, email="target@throttle.example")
    out = _storm(lambda i: signin.sign_in(email="target@throttle.example", password="wrong-guess", ip=f"10.4.{i}.1"))
    assert out["unauthenticated"] + out["rate_limited"] == ATTEMPTS
    assert len(checks) <= throttle.MAX_FAILURES_PER_EMAIL, f"{len(checks)} guesses reached the password check"
    assert out["unauthenticated"] == len(checks) and out["rate_limited"] == ATTEMPTS - len(checks)
    assert len(checks) >= 1  # control: the limit lets some through


def test_concurrent_wrong_passwords_from_one_ip_pass_the_limit_no_more(db, redis, checks) -> None:
    with dbmod.write_session() as s:
        make_user(s, email="someone@throttle.example")
    out = _storm(lambda i: signin.sign_in(email=f"guess{i}@throttle.example", password="wrong", ip="10.5.5.5"))
    assert len(checks) <= throttle.MAX_FAILURES_PER_IP, f"{len(checks)} guesses reached the password check"
    assert out["rate_limited"] == ATTEMPTS - len(checks)
    # control: another address is not affected
    assert signin.sign_in(email="someone@throttle.example", password=PASSWORD, ip="10.5.5.6")


def test_successful_logins_are_refunded_so_many_never_lock_an_address(db, redis, checks) -> None:
    with dbmod.write_session() as s:
        make_user(s, email="busy@throttle.example")
    for i in range(throttle.MAX_FAILURES_PER_IP - 1):  # an address just under its limit
        with pytest.raises(Unauthenticated):
            signin.sign_in(email=f"typo{i}@throttle.example", password="x", ip="10.6.6.6")
    for _ in range(3 * throttle.MAX_FAILURES_PER_IP):  # sequentially: each success gives back its count
        assert signin.sign_in(email="busy@throttle.example", password=PASSWORD, ip="10.6.6.6")
    with pytest.raises(Unauthenticated):  # the last failure the address may still make
        signin.sign_in(email="typo-last@throttle.example", password="x", ip="10.6.6.6")
    with pytest.raises(RateLimited):
        signin.sign_in(email="busy@throttle.example", password=PASSWORD, ip="10.6.6.6")


def test_the_window_slides(db, redis, monkeypatch) -> None:
    """Failures count for WINDOW_S after each one, not until a fixed window from the first ends."""
    window = 4
    monkeypatch.setattr(throttle, "WINDOW_S", window)
    with dbmod.write_session() as s:
        make_user(s, email="slide@throttle.example")
    half = throttle.MAX_FAILURES_PER_EMAIL // 2

    def fail(n: int, tag: str) -> None:
        for i in range(n):
            with pytest.raises(Unauthenticated):
                signin.sign_in(email="slide@throttle.example", password="nope", ip=f"10.8.{tag}.{i}")

    fail(half, "1")
    first_done = time.monotonic()
    time.sleep(window / 2)
    fail(throttle.MAX_FAILURES_PER_EMAIL - half, "2")
    second_start = time.monotonic()
    with pytest.raises(RateLimited):
        signin.sign_in(email="slide@throttle.example", password=PASSWORD, ip="10.8.9.9")
    time.sleep(max(0.0, first_done + window + 0.3 - time.monotonic()))
    # the first half left the window, the second is still in it: room for exactly as many as left
    assert time.monotonic() < second_start + window - 1, "too slow to tell the windows apart"
    fail(half, "3")
    with pytest.raises(RateLimited):  # a fixed window would have started over after 4 s and let this in
        signin.sign_in(email="slide@throttle.example", password=PASSWORD, ip="10.8.9.9")


def test_rate_limited_attempts_do_not_extend_the_lock(db, redis, monkeypatch) -> None:
    monkeypatch.setattr(throttle, "WINDOW_S", 2)
    with dbmod.write_session() as s:
        make_user(s, email="patient@throttle.example")
    for i in range(throttle.MAX_FAILURES_PER_EMAIL):
        with pytest.raises(Unauthenticated):
            signin.sign_in(email="patient@throttle.example", password="nope", ip=f"10.9.0.{i}")
    deadline = time.time() + 1.5
    while time.time() < deadline:  # an attacker hammering a locked account
        with pytest.raises(RateLimited):
            signin.sign_in(email="patient@throttle.example", password="nope", ip="10.9.1.1")
        time.sleep(0.1)
    time.sleep(0.8)
    assert signin.sign_in(email="patient@throttle.example", password=PASSWORD, ip="10.9.2.2")
