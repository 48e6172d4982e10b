"""One-time login tickets: how a websocket login becomes an HttpOnly cookie.

The login handler checks the password over the websocket, opens a session, and stores its token
in Redis under a random single-use ticket that lives 60 s. The browser is then sent to
``/auth/complete?ticket=…``, a plain HTTP route that swaps the ticket for the HttpOnly cookie.
The session token itself never appears in a URL, in the page, or in JavaScript.
"""

from __future__ import annotations

import hashlib
import secrets

from igny8_app.queue import get_redis

TICKET_TTL_S = 60


def _key(ticket: str) -> str:
    return "igny8:login-ticket:" + hashlib.sha256(ticket.encode()).hexdigest()


def issue(session_token: str) -> str:
    ticket = secrets.token_urlsafe(32)
    get_redis().set(_key(ticket), session_token, ex=TICKET_TTL_S)
    return ticket


def redeem(ticket: str | None) -> str | None:
    """The session token for a ticket, once; None when unknown, used or expired."""
    if not ticket:
        return None
    value = get_redis().getdel(_key(ticket))
    return value.decode() if value else None
