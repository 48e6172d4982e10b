"""Shared fixtures.

* ``redis_url``: a real Redis. TEST_REDIS_URL if given, else a private ``redis-server`` started on a
  free port for this test session. Each test that asks for ``redis`` gets it flushed.
* ``db``: a real, isolated, migrated database per test, parametrised over SQLite and (when
  TEST_DATABASE_URL is set) PostgreSQL. SQLite tests copy a migrated template file; PostgreSQL
  tests get ``CREATE DATABASE … TEMPLATE`` of a migrated template, so no rows leak between tests.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from igny8_app import db as dbmod
from igny8_app.queue import reset_redis
from igny8_app.settings import reset_settings

PG_URL = os.environ.get("TEST_DATABASE_URL")
DB_BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- Redis --------------------------------------------------------------------------------------

@contextlib.contextmanager
def private_redis_server(workdir: Path):
    """A throwaway ``redis-server`` on a free port; yields its URL and stops it afterwards."""
    import redis as redis_lib

    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    client = redis_lib.Redis(port=port)
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis_lib.ConnectionError:
                time.sleep(0.05)
        else:
            raise RuntimeError("redis-server did not start")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(5)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory):
    """The Redis that integration tests flush and enqueue on. The e2e live app has its own (see
    tests/e2e/conftest.py) so its workers never take an integration test's jobs."""
    url = os.environ.get("TEST_REDIS_URL")
    if url:
        yield url
        return
    with private_redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
def redis(redis_url: str, monkeypatch: pytest.MonkeyPatch):
    import redis as redis_lib

    monkeypatch.setenv("REDIS_URL", redis_url)
    reset_settings()
    reset_redis()
    client = redis_lib.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    reset_redis()


# --- Databases ----------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    dbmod.upgrade_database(f"sqlite:///{path}")
    # fold the WAL into the main file so a plain copy is complete
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def _pg_admin_engine() -> sa.Engine:
    url = make_url(PG_URL)
    return sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def pg_template():
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL is not set")
    name = f"igny8_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = _pg_admin_engine()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    dbmod.upgrade_database(url)
    dbmod.dispose_engines()
    yield name
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def _use_database(monkeypatch: pytest.MonkeyPatch, url: str, data_dir: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("IGNY8_DATA_DIR", str(data_dir))
    monkeypatch.setenv("SECRET_KEY", "test-secret-key")
    reset_settings()
    dbmod.dispose_engines()


@pytest.fixture(params=DB_BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A fresh migrated database; yields its URL and points the app's settings at it."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    if request.param == "sqlite":
        path = data_dir / "igny8.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
        _use_database(monkeypatch, url, data_dir)
        yield url
        dbmod.dispose_engines()
        return
    template = request.getfixturevalue("pg_template")
    name = f"igny8_t_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin_engine()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    _use_database(monkeypatch, url, data_dir)
    yield url
    dbmod.dispose_engines()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture
def session(db: str):
    """A write session on the test database, committed at the end of the test."""
    with dbmod.write_session() as s:
        yield s


# --- Parallel runs (pytest-xdist) ---------------------------------------------------------------

def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under ``-n N --dist loadgroup`` every test that uses the live app (one per session, on the
    fixed IGNY8_TEST_PORT its frontend was built for) runs in one worker; the rest spread out.
    Each worker already has its own Redis (``redis_url``) and its own databases (``db``)."""
    for item in items:
        if "live_app" in getattr(item, "fixturenames", ()) or "/e2e/" in str(item.path):
            item.add_marker(pytest.mark.xdist_group("live_app"))
