"""A small local stand-in for the Stripe API, for tests: real HTTP on 127.0.0.1, no network.

It serves ``POST /v1/checkout/sessions`` (form-encoded, as the ``stripe`` library sends it) and
answers with a Checkout Session whose ``url`` is a page of this server (``GET /pay/{id}``), so a
browser redirected there lands somewhere real. It records every request (path, headers, params)
and honours ``Idempotency-Key`` like Stripe does. ``fail_next`` makes the next create a 500.

``sign(payload, secret)`` builds a ``Stripe-Signature`` header with Stripe's documented scheme
(HMAC-SHA256 over ``"{timestamp}.{payload}"``), which the library has no public helper for.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl


def sign(payload: str | bytes, secret: str, *, timestamp: int | None = None) -> str:
    body = payload.decode() if isinstance(payload, bytes) else payload
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def checkout_event(session: dict[str, Any], *, event_type: str = "checkout.session.completed",
                   payment_status: str = "paid", event_id: str | None = None, **overrides: Any) -> str:
    """The JSON body Stripe posts for a Checkout Session event."""
    obj = {**session, "payment_status": payment_status, "status": "complete", **overrides}
    return json.dumps({"id": event_id or f"evt_{secrets.token_hex(8)}", "object": "event", "type": event_type,
                       "api_version": "2025-01-01", "created": int(time.time()), "livemode": False,
                       "data": {"object": obj}})


def unflatten(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """``line_items[0][price_data][currency]=usd`` -> nested dicts/lists, as Stripe decodes them."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _lists(root)


def _lists(node: Any) -> Any:
    if isinstance(node, dict):
        if node and all(k.isdigit() for k in node):
            return [_lists(node[k]) for k in sorted(node, key=int)]
        return {k: _lists(v) for k, v in node.items()}
    return node


@dataclass
class FakeStripe:
    server: ThreadingHTTPServer
    thread: threading.Thread
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    by_idempotency_key: dict[str, str] = field(default_factory=dict)
    fail_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def session_for_payment(self, payment_id: int) -> dict[str, Any]:
        return next(s for s in self.sessions.values() if s["client_reference_id"] == str(payment_id))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def _handler(fake_ref: list[FakeStripe]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802
            fake = fake_ref[0]
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            params = unflatten(parse_qsl(raw, keep_blank_values=True))
            with fake.lock:
                fake.requests.append({"path": self.path, "headers": dict(self.headers), "params": params})
                if self.path != "/v1/checkout/sessions":
                    return self._json(404, {"error": {"type": "invalid_request_error",
                                                      "message": f"Unrecognized request URL ({self.path})."}})
                if not self.headers.get("Authorization", "").startswith("Bearer sk_"):
                    return self._json(401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key"}})
                if fake.fail_next:
                    fake.fail_next -= 1
                    return self._json(500, {"error": {"type": "api_error", "message": "fake outage"}})
                key = self.headers.get("Idempotency-Key")
                if key and key in fake.by_idempotency_key:
                    return self._json(200, fake.sessions[fake.by_idempotency_key[key]])
                sid = f"cs_test_{secrets.token_hex(12)}"
                items = params.get("line_items") or []
                amount = sum(int(i["price_data"]["unit_amount"]) * int(i.get("quantity", 1)) for i in items)
                session = {"id": sid, "object": "checkout.session", "mode": params.get("mode"),
                           "amount_total": amount,
                           "currency": (items[0]["price_data"]["currency"] if items else "usd"),
                           "client_reference_id": params.get("client_reference_id"),
                           "metadata": params.get("metadata") or {}, "customer_email": params.get("customer_email"),
                           "payment_status": "unpaid", "status": "open",
                           "success_url": params.get("success_url"), "cancel_url": params.get("cancel_url"),
                           "url": f"{fake.base}/pay/{sid}", "livemode": False}
                fake.sessions[sid] = session
                if key:
                    fake.by_idempotency_key[key] = sid
            return self._json(200, session)

        def do_GET(self) -> None:  # noqa: N802
            fake = fake_ref[0]
            sid = self.path.rsplit("/", 1)[-1]
            session = fake.sessions.get(sid) if self.path.startswith("/pay/") else None
            if session is None:
                return self._json(404, {"error": {"message": "not found"}})
            html = (f"<!doctype html><title>Fake Stripe Checkout</title><h1 id='fake-checkout'>Fake Stripe Checkout"
                    f"</h1><p id='amount'>{session['amount_total']} {session['currency']}</p>"
                    f"<p id='session-id'>{sid}</p>").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(html)))
            self.end_headers()
            self.wfile.write(html)

    return Handler


def start_fake_stripe(host: str = "127.0.0.1", port: int = 0) -> FakeStripe:
    ref: list[FakeStripe] = []
    server = ThreadingHTTPServer((host, port), _handler(ref))
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="fake-stripe")
    fake = FakeStripe(server=server, thread=thread)
    ref.append(fake)
    thread.start()
    return fake
