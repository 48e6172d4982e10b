"""Shared helpers for API routes: JSON errors, token auth, cookies."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
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


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1:value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def client_ip_from(peer: str, headers: Mapping[str, str], trusted: Sequence) -> str:
    """The client's address: the peer's, unless the peer is a trusted proxy; then walk
    X-Forwarded-For from the right (each proxy appends the address it saw) past the trusted
    proxies and take the first address that is not one. Entries left of it are whatever the
    client sent and are never believed. ``headers`` has lowercase names (ASGI, Reflex)."""
    def is_trusted(addr) -> bool:  # noqa: ANN001
        return any(addr in net for net in trusted)

    current = _ip(peer or "")
    if current is None or not trusted or not is_trusted(current):
        return peer or "unknown"
    for entry in reversed((headers.get("x-forwarded-for") or "").split(",")):
        if not entry.strip():
            continue
        addr = _ip(entry)
        if addr is None:  # not an address a proxy wrote: stop at the last hop we know
            break
        current = addr
        if not is_trusted(addr):
            break
    return str(current)


def client_ip(request: Request) -> str:
    """The client address of an API request (see client_ip_from; IGNY8_TRUSTED_PROXIES)."""
    from igny8_app.settings import get_settings

    peer = request.client.host if request.client else "unknown"
    return client_ip_from(peer, request.headers, get_settings().trusted_proxies)


def router_client_ip(router) -> str:  # noqa: ANN001 - reflex's RouterData; this module does not import Reflex
    """The client address of a Reflex event: the websocket's peer and its handshake headers
    (both set by the server for the connection, never by the client's event)."""
    from igny8_app.settings import get_settings

    return client_ip_from(router.session.client_ip or "unknown", router.headers.raw_headers,
                          get_settings().trusted_proxies)
