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
    def __init__(self, base_url: str, *, session_cookie: str | None = None, path: str = "/keywords") -> None:
        self.token = str(uuid.uuid4())
        self.path = path
        self.deltas: list[dict] = []
        self._cv = threading.Condition()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("event", self._on_event, namespace=NAMESPACE)
        headers = {"Cookie": f"igny8_session={session_cookie}"} if session_cookie else {}
        self.sio.connect(f"{base_url}?token={self.token}", socketio_path="/_event", transports=["websocket"],
                         headers=headers, namespaces=[NAMESPACE], wait_timeout=10)

    def _on_event(self, data) -> None:  # noqa: ANN001
        if isinstance(data, str):
            data = json.loads(data)
        with self._cv:
            self.deltas.append(data)
            self._cv.notify_all()

    def send(self, handler: str, payload: dict | None = None, *, timeout: float = 10.0) -> list[dict]:
        """Send one event and wait for its final update. Returns the updates it produced."""
        start = len(self.deltas)
        self.sio.emit("event", {
            "name": handler,
            "payload": payload or {},
            "router_data": {"pathname": self.path, "query": {}, "asPath": self.path},
        }, namespace=NAMESPACE)
        deadline = time.time() + timeout
        with self._cv:
            while time.time() < deadline:
                got = self.deltas[start:]
                if any(d.get("final") for d in got):
                    return got
                self._cv.wait(0.1)
        return self.deltas[start:]

    def all_text(self) -> str:
        return json.dumps(self.deltas)

    def close(self) -> None:
        self.sio.disconnect()
