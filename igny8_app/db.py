"""Engine and session scopes.

SQLite serves several writing processes (web app, RQ workers, CLI), so every connection uses
WAL and a busy timeout (``IGNY8_SQLITE_BUSY_TIMEOUT_S``), and write transactions start with
``BEGIN IMMEDIATE``: the write lock is taken up front, waiting (up to the busy timeout) instead of
failing half-way with "database is locked". Read-only scopes use a plain deferred ``BEGIN``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from igny8_app.settings import get_settings


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        busy_timeout_s = get_settings().sqlite_busy_timeout_s
        engine = create_engine(
            url,
            connect_args={"timeout": busy_timeout_s, "check_same_thread": False},
        )

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record):  # noqa: ANN001
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see _sqlite_begin)
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={busy_timeout_s * 1000}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # noqa: ANN001
            mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


_ENGINES: dict[str, Engine] = {}


def get_engine() -> Engine:
    url = get_settings().database_url
    engine = _ENGINES.get(url)
    if engine is None:
        engine = _ENGINES[url] = make_engine(url)
    return engine


def dispose_engines() -> None:
    """Drop pooled connections (after fork, or when tests switch databases)."""
    for engine in _ENGINES.values():
        engine.dispose()
    _ENGINES.clear()


@contextmanager
def write_session() -> Iterator[Session]:
    """A unit of work: one write transaction, committed on success, rolled back on error."""
    engine = get_engine().execution_options(sqlite_begin="IMMEDIATE")
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def read_session() -> Iterator[Session]:
    """A read-only scope (deferred transaction, never committed)."""
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
        finally:
            session.rollback()


def is_transient_db_error(exc: BaseException) -> bool:
    """The database said "not now", not "wrong": the connection was lost or refused (a server
    restart, a terminated backend, a network blip), PostgreSQL asked for a retry (serialization
    failure, deadlock), or SQLite's write lock stayed taken past the busy timeout. The unit of work
    was rolled back (or, if the connection died during COMMIT, maybe committed), so the caller may
    run it again once the database answers -- provided it is idempotent, as the run loop's item
    transactions are (lease fence, idempotency keys, only pending items are picked)."""
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    if not isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError)):
        return False
    if isinstance(exc.orig, sqlite3.Error):  # also "no such table", "disk I/O error": not transient
        message = str(exc.orig).lower()
        return "database is locked" in message or "database table is locked" in message or "busy" in message
    return True  # psycopg: connection failures, admin shutdown, serialization failure, deadlock


def insert_ignore(session: Session, table, rows: list[dict], *, conflict_columns: list[str]) -> int:  # noqa: ANN001
    """INSERT … ON CONFLICT DO NOTHING on SQLite and PostgreSQL; returns how many rows went in."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table).on_conflict_do_nothing(index_elements=conflict_columns).returning(table.c.id)
    return len(session.execute(stmt, rows).all())


def upgrade_database(url: str | None = None, revision: str = "head") -> None:
    """Apply Alembic migrations (the only schema source) to ``url`` or the configured database."""
    from alembic import command
    from alembic.config import Config

    from igny8_app.settings import REPO_ROOT

    cfg = Config(str(REPO_ROOT / "alembic.ini"))
    cfg.attributes["configure_logging"] = False
    if url:
        cfg.attributes["url"] = url
    command.upgrade(cfg, revision)


def _after_fork_in_child() -> None:
    # RQ forks a work horse per job: never share the parent's pooled connections with it.
    for engine in _ENGINES.values():
        engine.dispose(close=False)


import os as _os  # noqa: E402

_os.register_at_fork(after_in_child=_after_fork_in_child)
