"""Login (POST form for API clients and tests), ticket completion, and logout.

The browser signs in through the login page's websocket handler, which hands over a one-time
ticket; ``/auth/complete`` swaps it for the HttpOnly session cookie. The Reflex state reads that
cookie from the websocket handshake headers on the server; JavaScript never sees it.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlparse

from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Route

from igny8_app.api.common import SESSION_COOKIE, client_ip
from igny8_app.domain.errors import RateLimited, Unauthenticated
from igny8_app.services.accounts import login_tickets
from igny8_app.services.accounts import signin
from igny8_app.settings import get_settings


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return True  # non-browser clients (tests, curl) send none
    return urlparse(origin).netloc == request.headers.get("host")


def safe_next(value: str | None) -> str:
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
    next_url = safe_next(str(form.get("next") or ""))
    if not _same_origin(request):
        return _back_to_login("Login was refused: the form came from another site.", email, next_url)
    try:
        token = signin.sign_in(email=email, password=password, ip=client_ip(request))
    except (Unauthenticated, RateLimited) as exc:
        return _back_to_login(exc.message, email, next_url)
    return _with_session_cookie(RedirectResponse(next_url, status_code=303), token)


def _with_session_cookie(response: RedirectResponse, token: str) -> RedirectResponse:
    settings = get_settings()
    response.set_cookie(SESSION_COOKIE, token, max_age=settings.session_lifetime_hours * 3600, httponly=True,
                        samesite="lax", secure=settings.public_url.startswith("https://"), path="/")
    return response


async def complete(request: Request) -> RedirectResponse:
    """Swap a one-time login ticket (from the login page's handler) for the HttpOnly cookie."""
    token = login_tickets.redeem(request.query_params.get("ticket"))
    if token is None:
        return RedirectResponse("/login?" + urlencode({"error": "That sign-in link has expired. Please sign in again."}),
                                status_code=303)
    return _with_session_cookie(RedirectResponse(safe_next(request.query_params.get("next")), status_code=303), token)


async def logout(request: Request) -> RedirectResponse:
    """POST revokes the session and drops the cookie; GET (after the UI revoked it) only drops the cookie."""
    if request.method == "POST" and _same_origin(request):
        signin.sign_out(token=request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


routes = [
    Route("/auth/login", login, methods=["POST"]),
    Route("/auth/complete", complete, methods=["GET"]),
    Route("/auth/logout", logout, methods=["GET", "POST"]),
]
