"""Signing in: password check, failed-attempt throttling, session creation. One use case for the
login page (websocket handler) and the POST /auth/login route."""

from __future__ import annotations

from sqlmodel import Session

from igny8_app.db import on_commit, within
from igny8_app.domain.errors import RateLimited, Unauthenticated
from igny8_app.services.accounts import access as accounts
from igny8_app.services.accounts import throttle


def sign_in(*, email: str, password: str, ip: str, session: Session | None = None) -> str:
    """Return a new session token, or raise Unauthenticated / RateLimited with a user-facing message.
    The attempt is refunded once the sign-in has committed."""
    attempt = throttle.begin(email, ip)  # counted before the password is checked
    if attempt.wait_s:
        raise RateLimited(throttle.refused_message(attempt.wait_s))
    try:
        with within(session) as s:
            _, token = accounts.login(session=s, email=email, password=password)
            on_commit(s, lambda: throttle.refund(attempt))
    except Unauthenticated:
        raise  # a failed attempt stays counted for the window
    except Exception:
        throttle.refund(attempt, clear_email=False)  # not a wrong password (e.g. the database is down)
        raise
    return token


def sign_out(*, token: str | None, session: Session | None = None) -> None:
    with within(session) as s:
        accounts.logout(session=s, token=token)
