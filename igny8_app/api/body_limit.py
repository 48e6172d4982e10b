"""One limit on every request body, checked BEFORE the body is read: a pure ASGI middleware around
the whole app (our API routes and Reflex's own: /_upload, /ping…), installed as the last
``api_transformer`` in igny8_app.py.

Without it each route read the whole body (``await request.body()``) and only then compared its
length, so 64 MiB sent to the unauthenticated Stripe webhook was buffered (RSS +100 MiB) before its
413, and a declared 10 GB ``Content-Length`` with a slow body held the connection open for as long
as the client liked. Now:

* a declared ``Content-Length`` over the path's limit is answered 413 at once, the body unread;
* a body without one (chunked) is counted as it arrives and cut off as soon as it passes the limit:
  at most limit + one chunk is ever read;
* either way the 413 says ``Connection: close``, so the server drops the connection instead of
  reading (or waiting for) the rest.

Websocket and lifespan scopes pass through untouched. The routes' own checks stay as defense in
depth and read their numbers from here (``API_BODY_BYTES``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from igny8_app.services.billing.stripe_checkout import MAX_WEBHOOK_BYTES
from igny8_app.settings import MAX_IMPORT_BYTES

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger(__name__)

KIB = 1024
API_BODY_BYTES = 64 * KIB  # the largest body the JSON API takes is a few hundred bytes
#: Room for the multipart framing and form fields around a CSV of exactly MAX_IMPORT_BYTES, so a
#: file a little over the limit still reaches the Keywords page and gets its clear message there.
UPLOAD_OVERHEAD_BYTES = 1024 * KIB
DEFAULT_BODY_BYTES = 64 * KIB  # every other path: login forms and the like

#: THE table: path prefix (whole segments) -> largest body in bytes. The longest match wins;
#: paths matching nothing get DEFAULT_BODY_BYTES.
BODY_LIMITS: tuple[tuple[str, int], ...] = (
    ("/api/v1/billing/stripe/webhook", MAX_WEBHOOK_BYTES),  # Stripe events are a few KB
    ("/_upload", MAX_IMPORT_BYTES + UPLOAD_OVERHEAD_BYTES),  # Reflex's upload endpoint: the keyword CSV
    ("/api", API_BODY_BYTES),
)


def limit_for(path: str, limits: tuple[tuple[str, int], ...] = BODY_LIMITS,
              default: int = DEFAULT_BODY_BYTES) -> int:
    best_len, best = -1, default
    for prefix, limit in limits:
        base = prefix.rstrip("/")
        if (path == base or path.startswith(base + "/")) and len(base) > best_len:
            best_len, best = len(base), limit
    return best


def _human(n: int) -> str:
    if n % (1024 * KIB) == 0:
        return f"{n // (1024 * KIB)} MiB"
    if n % KIB == 0:
        return f"{n // KIB} KiB"
    return f"{n} bytes"


class BodyTooLarge(Exception):
    """Raised from receive() into the app once the body passed its limit: it must stop reading."""


class BodyLimit:
    def __init__(self, app: ASGIApp, *, limits: tuple[tuple[str, int], ...] = BODY_LIMITS,
                 default: int = DEFAULT_BODY_BYTES):
        self.app = app
        self.limits = limits
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope.get("path", ""), self.limits, self.default)
        declared = [v for k, v in scope.get("headers", []) if k.lower() == b"content-length"]
        if declared:
            if len(declared) > 1 or not declared[0].strip().isdigit():
                await _refuse(send, 400, "bad_request", "The Content-Length header is malformed.")
                return
            if int(declared[0]) > limit:
                await _refuse(send, 413, "too_large", f"The request body is larger than {_human(limit)}.")
                return

        received = 0
        inner_started = False  # the app began its own response
        refused = False  # we answered 413: whatever the app sends from now on is dropped

        async def limited_receive() -> Message:
            nonlocal received, refused
            if refused:
                raise BodyTooLarge
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    if not inner_started:
                        await _refuse(send, 413, "too_large", f"The request body is larger than {_human(limit)}.")
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal inner_started
            if refused:
                return
            if message["type"] == "http.response.start":
                inner_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not refused or inner_started:  # a real error, or a response we could not replace: the server aborts
                raise
            # the app's reaction to BodyTooLarge (Starlette turns it into a 500 and re-raises): the 413 is out
            log.info("refused a request body over %s bytes on %s", limit, scope.get("path"))


async def _refuse(send: Send, status: int, error: str, detail: str) -> None:
    body = json.dumps({"error": error, "detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def limit_bodies(app: ASGIApp) -> ASGIApp:
    """The api_transformer: wraps the app Reflex built (our routes mounted with its own)."""
    return BodyLimit(app)
