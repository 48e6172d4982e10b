"""GET /api/v1/health against parts that hang or fail: a database or Redis that accepts the TCP
connection and never answers is reported down within ~3 s; a locked SQLite file too. Anonymous
callers learn only which part failed ({"database": "down"}), never the error text (which names
hosts); the admins' service call (the System page) still gets the details."""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from igny8_app import db as dbmod
from igny8_app.api import system_routes
from igny8_app.queue import reset_redis
from igny8_app.services.system import operations as system
from igny8_app.settings import get_settings, reset_settings

API = Starlette(routes=system_routes.routes)
SECRET_HOST = "db-secret-host.invalid"


@contextmanager
def silent_listener() -> Iterator[int]:
    """A TCP port whose kernel completes every handshake (listen backlog) and that never sends a byte."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        yield s.getsockname()[1]


def _use_database(monkeypatch, url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    reset_settings()
    dbmod.dispose_engines()


def _use_redis(monkeypatch, url: str) -> None:
    monkeypatch.setenv("REDIS_URL", url)
    reset_settings()
    reset_redis()


def _timed_health() -> tuple[float, int, dict, str]:
    t0 = time.monotonic()
    r = TestClient(API).get("/api/v1/health")
    return time.monotonic() - t0, r.status_code, r.json(), r.text


def test_a_hanging_postgresql_is_reported_down_within_3_s(db, redis, monkeypatch):
    with silent_listener() as port:
        _use_database(monkeypatch, f"postgresql+psycopg://nobody:pw@127.0.0.1:{port}/none")
        elapsed, status, body, text = _timed_health()
        assert elapsed < 3.5, f"health took {elapsed:.1f} s"
        assert status == 503 and body["failing"] == ["database", "workers"], body  # no worker runs here
        assert body["checks"] == {"database": "down", "redis": "ok", "workers": "down"}
        assert str(port) not in text and "127.0.0.1" not in text and "timeout" not in text.lower()
        # a second probe while the first one's connection may still hang: as quick
        elapsed, status, body, _ = _timed_health()
        assert elapsed < 3.5 and body["checks"]["database"] == "down"
        # the admins' view says what went wrong
        t0 = time.monotonic()
        ok, report = system.health()
        assert time.monotonic() - t0 < 3.5 and not ok
        assert report["checks"]["database"].startswith("error: ") and report["checks"]["database"] != "error: "


def test_a_hanging_redis_is_reported_down_within_3_s(db, redis, monkeypatch):
    with silent_listener() as port:
        _use_redis(monkeypatch, f"redis://127.0.0.1:{port}/0")
        elapsed, status, body, text = _timed_health()
        assert elapsed < 3.5, f"health took {elapsed:.1f} s"
        assert status == 503 and body["failing"] == ["redis", "workers"], body
        assert body["checks"] == {"database": "ok", "redis": "down", "workers": "down"}
        assert str(port) not in text and "Timeout" not in text


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # SQLite's own file locking
def test_a_locked_sqlite_file_is_reported_down_within_3_s(db, redis, monkeypatch):
    path = get_settings().database_url.split("///", 1)[1]
    monkeypatch.setenv("IGNY8_SQLITE_BUSY_TIMEOUT_S", "60")  # the app's writers wait long: health must not
    reset_settings()
    dbmod.dispose_engines()
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("SELECT count(*) FROM sqlite_master").fetchone()  # takes the exclusive lock for good
        elapsed, status, body, text = _timed_health()
        assert elapsed < 3.5, f"health took {elapsed:.1f} s"
        assert status == 503 and body["checks"]["database"] == "down", body
        assert "locked" not in text
        _, report = system.health()
        assert "locked" in report["checks"]["database"], report
    finally:
        holder.close()
    elapsed, status, body, _ = _timed_health()
    assert body["checks"]["database"] == "ok", body


def test_anonymous_callers_never_see_host_names_or_exception_text(db, redis, monkeypatch):
    _use_database(monkeypatch, f"postgresql+psycopg://nobody:pw@{SECRET_HOST}:5432/none")
    _use_redis(monkeypatch, "redis://redis-secret-host.invalid:6379/0")
    ok, report = system.health()  # what an admin sees on the System page
    assert not ok
    details = report["checks"]
    assert SECRET_HOST in details["database"] and "OperationalError" in details["database"], details
    assert "redis-secret-host.invalid" in details["redis"] and "ConnectionError" in details["redis"], details
    elapsed, status, body, text = _timed_health()
    assert status == 503 and body == {"status": "unhealthy", "failing": ["database", "redis", "workers"],
                                      "checks": {"database": "down", "redis": "down", "workers": "down"},
                                      "workers": 0}
    for leak in ("secret-host", "OperationalError", "ConnectionError", "resolve", "Name or service",
                 details["database"].removeprefix("error: "), details["redis"].removeprefix("error: ")):
        assert leak not in text, leak


def test_a_check_that_hangs_past_its_driver_timeouts_is_cut_off_at_the_deadline(db, redis, monkeypatch):
    """The overall deadline, whatever the driver does (e.g. a server that hangs after the startup
    handshake, where no client-side timeout applies); and no second thread piles up behind a hung one."""
    release = threading.Event()
    started = []

    def hangs() -> str:
        started.append(1)
        release.wait(30)
        return "ok"

    monkeypatch.setattr(system, "_check_database", hangs)
    try:
        elapsed, status, body, text = _timed_health()
        assert elapsed < 3.5 and status == 503 and body["checks"]["database"] == "down", body
        _, report = system.health()  # the first probe still hangs: this one does not start another
        assert report["checks"]["database"] == "error: the previous database check has not answered yet"
        assert len(started) == 1
    finally:
        release.set()
    time.sleep(0.2)
    ok, report = system.health()
    assert report["checks"]["database"] == "ok" and len(started) == 2
