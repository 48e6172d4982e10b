"""Signing in: password check, failed-attempt throttling, session creation. One use case for the
login page (websocket handler) and the POST /auth/login route."""

from __future__ import annotations

from igny8_app.db import write_session
from igny8_app.domain.errors import RateLimited, Unauthenticated
from igny8_app.services import accounts, throttle


def sign_in(*, email: str, password: str, ip: str) -> str:
    """Return a new session token, or raise Unauthenticated / RateLimited with a user-facing message."""
    wait = throttle.is_throttled(email, ip)
    if wait:
        minutes = max(1, round(wait / 60))
        raise RateLimited(f"Too many failed attempts. Try again in about {minutes} minute(s).")
    try:
        with write_session() as s:
            _, token = accounts.login(session=s, email=email, password=password)
    except Unauthenticated:
        throttle.record_failure(email, ip)
        raise
    throttle.clear(email)
    return token


def sign_out(*, token: str | None) -> None:
    with write_session() as s:
        accounts.logout(session=s, token=token)
