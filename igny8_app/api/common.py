"""Shared helpers for API routes: JSON errors, token auth, cookies."""

from __future__ import annotations

from http.cookies import SimpleCookie

from starlette.requests import Request
from starlette.responses import JSONResponse

from igny8_app.domain.errors import DomainError

SESSION_COOKIE = "igny8_session"


def error_response(exc: DomainError) -> JSONResponse:
    return JSONResponse({"error": exc.code, "detail": exc.message}, status_code=exc.http_status)


def bearer_token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def session_token_from_cookie_header(cookie_header: str | None) -> str | None:
    if not cookie_header:
        return None
    jar = SimpleCookie()
    try:
        jar.load(cookie_header)
    except Exception:  # noqa: BLE001 - a malformed cookie header means "no session"
        return None
    morsel = jar.get(SESSION_COOKIE)
    return morsel.value if morsel else None


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"
