"""A minimal Reflex websocket client for security tests: it speaks the same Socket.IO protocol
as the browser, so it can send any event (including forged ones) with any cookie."""

from __future__ import annotations

import json
import threading
import time
import uuid

import socketio

NAMESPACE = "/_event"  # socket.io-client takes the namespace from the URL path, like the browser does


class ReflexClient:
    def __init__(self, base_url: str, *, session_cookie: str | None = None, path: str = "/keywords",
                 headers: dict[str, str] | None = None) -> None:
        self.token = str(uuid.uuid4())
        self.path = path
        self.deltas: list[dict] = []
        self._cv = threading.Condition()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("event", self._on_event, namespace=NAMESPACE)
        headers = {**(headers or {}), **({"Cookie": f"igny8_session={session_cookie}"} if session_cookie else {})}
        self.sio.connect(f"{base_url}?token={self.token}", socketio_path="/_event", transports=["websocket"],
                         headers=headers, namespaces=[NAMESPACE], wait_timeout=10)

    def _on_event(self, data) -> None:  # noqa: ANN001
        if isinstance(data, str):
            data = json.loads(data)
        with self._cv:
            self.deltas.append(data)
            self._cv.notify_all()

    def send(self, handler: str, payload: dict | None = None, *, quiet: float = 0.6,
             timeout: float = 10.0) -> list[dict]:
        """Send one event and return the updates it produced.

        Reflex 0.10 marks no "last update" of an event, and a refused event may produce none, so
        this waits until the socket has been quiet for ``quiet`` seconds (events of one client are
        processed in order, so a later send never sees an earlier event's updates arrive late).
        """
        start = len(self.deltas)
        self.sio.emit("event", {
            "name": handler,
            "payload": payload or {},
            "router_data": {"pathname": self.path, "query": {}, "asPath": self.path},
        }, namespace=NAMESPACE)
        deadline = time.time() + timeout
        seen = start
        last_change = time.time()
        with self._cv:
            while time.time() < deadline:
                if len(self.deltas) != seen:
                    seen, last_change = len(self.deltas), time.time()
                elif time.time() - last_change >= quiet:
                    break
                self._cv.wait(0.05)
        return self.deltas[start:]

    def all_text(self, start: int = 0) -> str:
        """Every update received (from index ``start`` on), as one JSON text to search."""
        with self._cv:
            return json.dumps(self.deltas[start:])

    def close(self) -> None:
        self.sio.disconnect()
