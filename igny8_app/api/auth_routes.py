"""Login and logout as plain form posts, so the session cookie can be HttpOnly.

The Reflex state reads the same cookie from the websocket handshake headers on the server
(``self.router.headers.cookie``); JavaScript never sees it.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlparse

from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from igny8_app.api.common import SESSION_COOKIE, client_ip
from igny8_app.db import write_session
from igny8_app.domain.errors import Unauthenticated
from igny8_app.services import accounts, throttle
from igny8_app.settings import get_settings


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return True  # non-browser clients (tests, curl) send none
    return urlparse(origin).netloc == request.headers.get("host")


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//"):
        return value
    return "/keywords"


def _back_to_login(error: str, email: str, next_url: str) -> RedirectResponse:
    return RedirectResponse("/login?" + urlencode({"error": error, "email": email, "next": next_url}),
                            status_code=303)


async def login(request: Request) -> RedirectResponse:
    form = await request.form()
    email = str(form.get("email") or "").strip()
    password = str(form.get("password") or "")
    next_url = _safe_next(str(form.get("next") or ""))
    if not _same_origin(request):
        return _back_to_login("Login was refused: the form came from another site.", email, next_url)
    ip = client_ip(request)
    wait = throttle.is_throttled(email, ip)
    if wait:
        minutes = max(1, round(wait / 60))
        return _back_to_login(f"Too many failed attempts. Try again in about {minutes} minute(s).", email, next_url)
    try:
        with write_session() as s:
            _, token = accounts.login(session=s, email=email, password=password)
    except Unauthenticated as exc:
        throttle.record_failure(email, ip)
        return _back_to_login(exc.message, email, next_url)
    throttle.clear(email)
    settings = get_settings()
    response = RedirectResponse(next_url, status_code=303)
    response.set_cookie(SESSION_COOKIE, token, max_age=settings.session_lifetime_hours * 3600, httponly=True,
                        samesite="lax", secure=settings.public_url.startswith("https://"), path="/")
    return response


async def logout(request: Request) -> RedirectResponse:
    token = request.cookies.get(SESSION_COOKIE)
    if _same_origin(request):
        with write_session() as s:
            accounts.logout(session=s, token=token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


routes = [
    Route("/auth/login", login, methods=["POST"]),
    Route("/auth/logout", logout, methods=["POST"]),
]
