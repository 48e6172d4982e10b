"""Engine and session scopes.

SQLite serves several writing processes (web app, RQ workers, CLI), so every connection uses
WAL and a busy timeout (``IGNY8_SQLITE_BUSY_TIMEOUT_S``), and write transactions start with
``BEGIN IMMEDIATE``: the write lock is taken up front, waiting (up to the busy timeout) instead of
failing half-way with "database is locked". Read-only scopes use a plain deferred ``BEGIN`` and
refuse to write (``ReadOnlySession``), so a page load never queues behind a writer.

The unit of work: an entry point (page handler, API route, RQ job, CLI command, one turn of a
long-running loop) opens one ``write_session`` per command; services take ``session=`` and never
commit. Effects outside the database (queue a job, publish on Redis, send mail, delete files) are
registered with ``on_commit(session, fn)``: they run once the transaction has committed, and are
dropped when it rolls back (a rolled-back SAVEPOINT drops the effects registered inside it).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, create_engine

from igny8_app.settings import get_settings

log = logging.getLogger(__name__)
_EFFECTS = "igny8_after_commit"  # session.info key: [(transaction, fn), ...] registered
_READY = "igny8_committed"  # session.info key: the effects of the transaction that just committed


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
    """A unit of work: one write transaction, committed on success, rolled back on error. Effects
    registered with ``on_commit`` run after the commit."""
    engine = get_engine().execution_options(sqlite_begin="IMMEDIATE")
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def within(session: Session | None) -> Iterator[Session]:
    """The caller's unit of work (``session=``), or, for a caller that has none (tests, bench
    scripts), a ``write_session`` of its own. A service's command runs in ``with within(session) as s``."""
    if session is not None:
        yield session
        return
    with write_session() as s:
        yield s


class ReadOnlySession(Session):
    """A session that refuses to write: flushing a change, or executing INSERT/UPDATE/DELETE, raises
    (a handler that writes belongs in a ``write_session``)."""


@event.listens_for(ReadOnlySession, "before_flush")
def _refuse_flush(session, _ctx, _instances) -> None:  # noqa: ANN001
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("write in a read_session: use write_session for a command that changes data")


@event.listens_for(ReadOnlySession, "do_orm_execute")
def _refuse_dml(state) -> None:  # noqa: ANN001
    if state.is_insert or state.is_update or state.is_delete:
        raise RuntimeError("write in a read_session: use write_session for a command that changes data")


@contextmanager
def read_session() -> Iterator[Session]:
    """A read-only scope: a deferred transaction (no write lock on SQLite), never committed; it
    refuses writes."""
    with ReadOnlySession(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
        finally:
            session.rollback()


# --- after-commit effects ---------------------------------------------------------------------------

def on_commit(session: Session, fn: Callable[[], object]) -> None:
    """Run ``fn()`` once ``session``'s transaction has committed; never if it rolls back. Effects run
    in the order registered; one that raises is logged and does not stop the others (the command has
    committed: its effects are best effort, e.g. a job the watchdog would queue anyway)."""
    if isinstance(session, ReadOnlySession):
        raise RuntimeError("on_commit in a read_session: it never commits")
    tx = session.get_nested_transaction() or session.get_transaction() or session.begin()
    session.info.setdefault(_EFFECTS, []).append((tx, fn))


def _within(tx: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while tx is not None:
        if tx is ancestor:
            return True
        tx = tx.parent
    return False


@event.listens_for(OrmSession, "after_commit")
def _after_commit(session: OrmSession) -> None:
    effects = session.info.get(_EFFECTS)
    if not effects:
        return
    nested = session.get_nested_transaction()
    if nested is not None:  # a SAVEPOINT released: its effects now belong to the enclosing transaction
        session.info[_EFFECTS] = [(nested.parent if tx is nested else tx, fn) for tx, fn in effects]
        return
    session.info[_EFFECTS] = []
    session.info[_READY] = [fn for _tx, fn in effects]  # run once the transaction is closed (_after_end)


@event.listens_for(OrmSession, "after_soft_rollback")
def _after_rollback(session: OrmSession, previous: SessionTransaction) -> None:
    effects = session.info.get(_EFFECTS)
    if effects:
        session.info[_EFFECTS] = [(tx, fn) for tx, fn in effects if not _within(tx, previous)] \
            if previous.parent else []


@event.listens_for(OrmSession, "after_transaction_end")
def _after_end(session: OrmSession, transaction: SessionTransaction) -> None:
    if transaction.parent is not None or transaction.nested:
        return
    session.info.pop(_EFFECTS, None)  # closed without a commit: dropped
    for fn in session.info.pop(_READY, None) or []:
        try:
            fn()
        except Exception:  # noqa: BLE001
            log.exception("after-commit effect %r failed", fn)


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
