"""Request bodies over their limit, against the real web process (granian, the whole Reflex app):
the unauthenticated Stripe webhook and Reflex's /_upload are refused within seconds, without the
web process buffering what it refuses (its RSS, sampled while the request runs, barely moves)."""

from __future__ import annotations

import select
import socket
import threading
import time
from pathlib import Path

import pytest
from reflex.utils.format import format_event_handler

from igny8_app.pages.keywords.state import KeywordsState

MIB = 1024 * 1024
WEBHOOK = "/api/v1/billing/stripe/webhook"


def _tree(root: int) -> list[int]:
    """root and all its descendants (granian serves from worker processes under serve.py)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssSampler:
    """Samples VmRSS of every process of the web app every 10 ms; peak growth per process."""

    def __init__(self, root: int):
        self.pids = _tree(root)
        self.base = {p: _rss_kib(p) for p in self.pids}
        self.peak = dict(self.base)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for p in self.pids:
                self.peak[p] = max(self.peak[p], _rss_kib(p))
            time.sleep(0.01)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        time.sleep(0.3)  # a late spike (e.g. a body joined after the last chunk) is still seen
        self._stop.set()
        self._thread.join()

    def growth_mib(self) -> float:
        return max(self.peak[p] - self.base[p] for p in self.pids) / 1024


def _status(data: bytes) -> int:
    return int(data.split(b" ", 2)[1])


def _send_until_answered(port: int, head: bytes, chunks, *, deadline_s: float) -> tuple[int, float, bytes, bool]:
    """Sends head, then chunks as fast as the server takes them, until it answers. Returns (status,
    seconds to the answer, the response bytes, whether the server then closed the connection)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=deadline_s)
    t0 = time.monotonic()
    response = b""
    try:
        sock.sendall(head)
        for chunk in chunks:
            if time.monotonic() - t0 > deadline_s:
                break
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
        sock.settimeout(max(0.5, deadline_s - (time.monotonic() - t0)))
        try:
            while b"\r\n\r\n" not in response:
                data = sock.recv(65536)
                if not data:
                    break
                response += data
        except (TimeoutError, socket.timeout):
            pass
        elapsed = time.monotonic() - t0
        closed = False
        sock.settimeout(3)
        try:  # after the answer the server hangs up: recv sees EOF (or a reset), never more waiting
            while True:
                data = sock.recv(65536)
                if not data:
                    closed = True
                    break
                response += data
        except ConnectionResetError:
            closed = True
        except (TimeoutError, socket.timeout):
            closed = False
        assert response, f"no answer within {deadline_s} s"
        return _status(response), elapsed, response, closed
    finally:
        sock.close()


def _chunked(total: int, size: int = 64 * 1024, prefix: bytes = b""):
    if prefix:
        yield b"%x\r\n" % len(prefix) + prefix + b"\r\n"
    piece = b"%x\r\n" % size + b"{" * size + b"\r\n"
    for _ in range(total // size):
        yield piece
    yield b"0\r\n\r\n"


def _slow(every_s: float = 0.1, size: int = 1024):
    while True:
        yield b"a" * size
        time.sleep(every_s)


#: what the Keywords page's upload sends: the handler's full name (reflex_base format_event_handler)
UPLOAD_HANDLER = format_event_handler(KeywordsState.handle_upload)  # follows the state's module path
BOUNDARY = "igny8boundary"
MULTIPART_HEAD = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"k.csv\"\r\n"
                  "Content-Type: text/csv\r\n\r\n").encode()


def _head(path: str, headers: dict[str, str]) -> bytes:
    if path == "/_upload":  # a well-formed upload, so Reflex would parse it (not a 400 for missing headers)
        headers = {**headers, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                   "Reflex-Client-Token": "e2e-token", "Reflex-Event-Handler": UPLOAD_HANDLER}
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.mark.parametrize("path", [WEBHOOK, "/_upload"])
def test_64_mib_chunked_is_refused_quickly_without_buffering(live_app, path):
    head = _head(path, {"Content-Type": "application/json", "Transfer-Encoding": "chunked",
                        "Stripe-Signature": "t=1,v1=00"})
    body = _chunked(64 * MIB, prefix=MULTIPART_HEAD if path == "/_upload" else b"")
    with RssSampler(live_app.proc.pid) as rss:
        status, elapsed, response, closed = _send_until_answered(live_app.port, head, body, deadline_s=10)
    print(f"{path}: {status} after {elapsed:.2f} s, RSS growth {rss.growth_mib():.1f} MiB, closed={closed}")
    assert status == 413, response[:300]
    assert elapsed < 3, f"refused after {elapsed:.1f} s"
    assert rss.growth_mib() < 24, f"the web process grew by {rss.growth_mib():.1f} MiB"
    assert b"connection: close" in response.lower()
    assert closed, "the server kept the connection open after refusing the body"


@pytest.mark.parametrize("path", [WEBHOOK, "/_upload", "/api/v1/automation/pause"])
def test_a_declared_10_gb_body_is_refused_at_once(live_app, path):
    head = _head(path, {"Content-Type": "application/json", "Content-Length": str(10 * 10**9)})
    with RssSampler(live_app.proc.pid) as rss:
        status, elapsed, response, closed = _send_until_answered(live_app.port, head, _slow(), deadline_s=35)
    print(f"{path}: {status} after {elapsed:.2f} s, RSS growth {rss.growth_mib():.1f} MiB, closed={closed}")
    assert status == 413, response[:300]
    assert elapsed < 3, f"refused after {elapsed:.1f} s"
    assert rss.growth_mib() < 24
    assert b"connection: close" in response.lower() and b"too_large" in response
    assert closed, "the server kept the connection open after refusing the body"


def test_the_webhook_still_takes_a_small_body(live_app):
    import httpx

    r = httpx.post(f"{live_app.url}{WEBHOOK}", content=b'{"id": "evt_1"}',
                   headers={"Stripe-Signature": "t=1,v1=00", "Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 400 and r.json()["error"] != "too_large"  # read, then refused for its signature
