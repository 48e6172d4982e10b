"""The request-body limit (igny8_app/api/body_limit.py), a pure ASGI middleware, against a tiny
ASGI app: a declared length over the limit is refused before the body is read, a chunked body is cut
off at the limit, anything under it passes through intact, and the per-path table picks the limit."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json

import pytest

from igny8_app.api import body_limit
from igny8_app.api.body_limit import BodyLimit, limit_for
from igny8_app.services.billing.stripe_checkout import MAX_WEBHOOK_BYTES
from igny8_app.settings import MAX_IMPORT_BYTES

KIB = 1024
TABLE = (("/hook", 100), ("/up", 1000), ("/api", 10))


def http_scope(path: str, headers: dict[str, str] | None = None, method: str = "POST") -> dict:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
            "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
            "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
            "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}


class Client:
    """Feeds a request body in chunks and records what the app saw and what went out."""

    def __init__(self, chunks: list[bytes]):
        self.chunks = list(chunks)
        self.receive_calls = 0
        self.sent: list[dict] = []

    async def receive(self) -> dict:
        self.receive_calls += 1
        if not self.chunks:
            await asyncio.sleep(3600)  # a client that sends nothing more: must never be waited for
        chunk = self.chunks.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(self.chunks)}

    async def send(self, message: dict) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        return next(m["status"] for m in self.sent if m["type"] == "http.response.start")

    @property
    def headers(self) -> dict[bytes, bytes]:
        return dict(next(m["headers"] for m in self.sent if m["type"] == "http.response.start"))

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")


class EchoApp:
    """Reads the whole body (as Starlette's request.body() does), answers 200 with it."""

    def __init__(self):
        self.calls = 0
        self.seen = b""

    async def __call__(self, scope, receive, send):
        self.calls += 1
        if scope["type"] == "websocket":
            await send({"type": "websocket.accept"})
            return
        parts = []
        while True:
            msg = await receive()
            parts.append(msg.get("body", b""))
            if not msg.get("more_body"):
                break
        self.seen = b"".join(parts)
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": self.seen})


class StarletteLikeApp(EchoApp):
    """Like Starlette's ServerErrorMiddleware: an exception while reading becomes a 500, then re-raised."""

    async def __call__(self, scope, receive, send):
        try:
            await super().__call__(scope, receive, send)
        except Exception:
            await send({"type": "http.response.start", "status": 500, "headers": []})
            await send({"type": "http.response.body", "body": b"Internal Server Error"})
            raise


def run(app, scope, client: Client, timeout: float = 5) -> None:
    _run(asyncio.wait_for(app(scope, client.receive, client.send), timeout))


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_read():
    inner = EchoApp()
    client = Client([b"x" * 10])
    run(BodyLimit(inner, limits=TABLE, default=5), http_scope("/hook", {"Content-Length": "10000000000"}), client)
    assert client.receive_calls == 0 and inner.calls == 0
    assert client.status == 413
    assert client.headers[b"connection"] == b"close"
    assert json.loads(client.body) == {"error": "too_large", "detail": "The request body is larger than 100 bytes."}
    assert int(client.headers[b"content-length"]) == len(client.body)


def test_a_chunked_body_over_the_limit_is_cut_off_after_at_most_one_chunk_past_it():
    inner = EchoApp()
    chunk = b"y" * 30
    client = Client([chunk] * 1000)  # 30,000 bytes offered, limit 100
    run(BodyLimit(inner, limits=TABLE, default=5), http_scope("/hook", {"Transfer-Encoding": "chunked"}), client)
    assert client.status == 413 and client.headers[b"connection"] == b"close"
    assert client.receive_calls * len(chunk) <= 100 + len(chunk)  # read at most limit + one chunk
    assert client.receive_calls == 4  # 120 > 100 at the fourth chunk
    assert [m["type"] for m in client.sent] == ["http.response.start", "http.response.body"]  # only the 413


def test_a_chunked_overflow_inside_an_app_that_turns_errors_into_500_still_answers_413():
    inner = StarletteLikeApp()
    client = Client([b"z" * 64] * 100)
    run(BodyLimit(inner, limits=TABLE, default=5), http_scope("/up", {}), client)
    assert client.status == 413 and b"Internal Server Error" not in client.body
    assert client.receive_calls == 16  # 16 * 64 = 1024 > 1000


def test_a_body_under_the_limit_passes_through_intact():
    inner = EchoApp()
    parts = [bytes([i]) * 33 for i in range(30)]  # 990 bytes in 30 chunks: under /up's 1000
    client = Client(parts)
    run(BodyLimit(inner, limits=TABLE, default=5), http_scope("/up", {"Content-Length": "990"}), client)
    assert client.status == 200 and inner.seen == b"".join(parts) and client.body == b"".join(parts)
    assert b"connection" not in client.headers


def test_exactly_the_limit_passes():
    inner = EchoApp()
    client = Client([b"a" * 50, b"b" * 50])
    run(BodyLimit(inner, limits=TABLE, default=5), http_scope("/hook", {"Content-Length": "100"}), client)
    assert client.status == 200 and inner.seen == b"a" * 50 + b"b" * 50


def test_a_malformed_content_length_is_a_400():
    inner = EchoApp()
    client = Client([b"x"])
    run(BodyLimit(inner, limits=TABLE, default=5), http_scope("/hook", {"Content-Length": "12, 13"}), client)
    assert client.status == 400 and inner.calls == 0 and client.receive_calls == 0


def test_websocket_and_lifespan_scopes_pass_through_untouched():
    inner = EchoApp()
    scope = {"type": "websocket", "path": "/hook", "headers": [(b"content-length", b"99999999")]}

    async def receive():
        raise AssertionError("the middleware must not read a websocket")

    sent = []

    async def send(m):
        sent.append(m)

    _run(BodyLimit(inner, limits=TABLE, default=5)(scope, receive, send))
    assert inner.calls == 1 and sent == [{"type": "websocket.accept"}]

    seen = []

    async def app(scope, receive, send):
        seen.append((scope, receive, send))

    mw = BodyLimit(app, limits=TABLE, default=5)
    _run(mw({"type": "lifespan"}, receive, send))
    assert seen[0][1] is receive and seen[0][2] is send  # the very same callables, not wrappers


@pytest.mark.parametrize(("path", "expected"), [
    ("/hook", 100), ("/hook/", 100), ("/hook/x", 100),
    ("/hooks", 5),  # a prefix only matches whole path segments
    ("/up", 1000), ("/api", 10), ("/api/v1/anything", 10), ("/apix", 5), ("/", 5), ("", 5),
])
def test_the_table_matches_whole_segments(path, expected):
    assert limit_for(path, TABLE, default=5) == expected


def test_the_longest_matching_prefix_wins():
    table = (("/api", 10), ("/api/v1/billing/stripe/webhook", 500))
    assert limit_for("/api/v1/billing/stripe/webhook", table, default=1) == 500
    assert limit_for("/api/v1/billing/stripe/webhook/", table, default=1) == 500
    assert limit_for("/api/v1/billing/usage", table, default=1) == 10


def test_the_apps_table():
    assert limit_for("/api/v1/billing/stripe/webhook") == MAX_WEBHOOK_BYTES == 512 * KIB
    assert limit_for("/api/v1/billing/stripe/webhook/") == MAX_WEBHOOK_BYTES
    assert limit_for("/api/v1/automation/runs") == 64 * KIB
    assert limit_for("/api/v1/billing/payments/buy") == 64 * KIB
    from reflex.constants import Endpoint

    upload = "/" + str(Endpoint.UPLOAD).strip("/")
    assert limit_for(upload) > MAX_IMPORT_BYTES  # a CSV of exactly 10 MiB plus its multipart framing
    assert limit_for(upload) <= MAX_IMPORT_BYTES + 2 * 1024 * KIB
    assert limit_for("/auth/login") == body_limit.DEFAULT_BODY_BYTES == 64 * KIB


def test_the_routes_read_their_limits_from_the_table():
    from igny8_app.api import automation_routes, billing_routes

    assert billing_routes.MAX_BODY_BYTES == automation_routes.MAX_BODY_BYTES == body_limit.API_BODY_BYTES


def test_the_app_is_wrapped_by_it():
    from igny8_app.igny8_app import app

    transformers = app.api_transformer if isinstance(app.api_transformer, (list, tuple)) else [app.api_transformer]
    assert transformers[-1] is body_limit.limit_bodies  # last: it wraps the API routes and Reflex's own


def _run(coro):  # noqa: ANN001, ANN202
    """asyncio.run in its own thread: earlier tests in the session (Playwright's sync API) can
    leave an event loop running in the main thread, where asyncio.run refuses to start."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()
