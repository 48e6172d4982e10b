"""A page load is a read: it takes no write lock (on SQLite no ``BEGIN IMMEDIATE``), so it never
queues behind a writer; the session's ``last_seen_at`` is stamped at most once a minute, in its own
short write transaction. The real ``SessionState`` methods run on a stand-in for the Reflex state."""

from __future__ import annotations

import re
import types
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from igny8_app import db as dbmod
from igny8_app.domain.enums import Role
from igny8_app.domain.roles import Permission
from igny8_app.models import UserSession, utcnow
from igny8_app.services.accounts import access as accounts
from igny8_app.state import SessionState
from tests.factories import make_account, make_site, make_user


@pytest.fixture
def viewer(db):
    with dbmod.write_session() as s:
        account = make_account(s, credits=100)
        user = make_user(s, account=account.name, role=Role.VIEWER)
        site = make_site(s, account)
        token = accounts.open_session(session=s, user=user)
        return SimpleNamespace(site_id=site.id, user_id=user.id, token=token)


def _page(site_id: int, token: str) -> SimpleNamespace:
    page = SimpleNamespace(active_site_id=site_id, show_inactive=False,
                           router=SimpleNamespace(page=SimpleNamespace(path="/keywords")))
    for name, fn in vars(SessionState).items():
        if name.startswith("_") and not name.startswith("__") and isinstance(fn, types.FunctionType):
            setattr(page, name, types.MethodType(fn, page))
    page._session_token = lambda: token
    return page


@pytest.fixture
def transactions():
    """Every transaction on the app's engine: [{"begin": mode, "sql": [...], "end": commit|rollback}]."""
    engine = dbmod.get_engine()
    log: list[dict] = []
    current: dict[int, dict] = {}

    def begin(conn):  # noqa: ANN001
        current[id(conn)] = tx = {"begin": conn.get_execution_options().get("sqlite_begin", "DEFERRED"),
                                  "sql": [], "end": None}
        log.append(tx)

    def sql(conn, _cursor, statement, *_a):  # noqa: ANN001
        if id(conn) in current:
            m = re.match(r'\s*(UPDATE|INSERT INTO|DELETE FROM)\s+"?(\w+)', statement, re.I)
            current[id(conn)]["sql"].append(f"{m.group(1).split()[0].upper()} {m.group(2)}" if m
                                            else statement.split()[0].upper())

    def end(kind):
        def fn(conn):  # noqa: ANN001
            tx = current.pop(id(conn), None)
            if tx is not None:
                tx["end"] = kind
        return fn

    hooks = [("begin", begin), ("before_cursor_execute", sql), ("commit", end("commit")),
             ("rollback", end("rollback"))]
    for name, fn in hooks:
        event.listen(engine, name, fn)
    yield log
    for name, fn in hooks:
        event.remove(engine, name, fn)


def _writes(log: list[dict]) -> list[dict]:
    return [t for t in log if t["begin"] == "IMMEDIATE" or any(q.split()[0] in ("INSERT", "UPDATE", "DELETE")
                                                               for q in t["sql"])]


def test_a_page_load_takes_no_write_lock_while_the_session_is_fresh(viewer, transactions) -> None:
    page = _page(viewer.site_id, viewer.token)
    page.load_session = types.MethodType(SessionState.__dict__["load_session"].fn, page)
    page.load_session()  # the on_load of every page
    with page._authorize(Permission.READ) as ctx:  # the page's own loader
        assert ctx.site.id == viewer.site_id
    assert transactions, "the page read nothing?"
    assert _writes(transactions) == []


def test_a_page_load_is_not_held_up_by_a_writer(viewer, db, monkeypatch) -> None:
    """Another process holds SQLite's write lock; the page still loads (it would wait out the busy
    timeout and fail with "database is locked" if it asked for the lock)."""
    if not db.startswith("sqlite"):
        pytest.skip("the write lock is SQLite's")
    import sqlite3

    monkeypatch.setenv("IGNY8_SQLITE_BUSY_TIMEOUT_S", "1")
    from igny8_app.settings import reset_settings

    reset_settings()
    dbmod.dispose_engines()
    other = sqlite3.connect(sa.engine.make_url(db).database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        page = _page(viewer.site_id, viewer.token)
        with page._authorize(Permission.READ) as ctx:
            assert ctx.user.id == viewer.user_id
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_last_seen_is_touched_at_most_once_a_minute_in_its_own_short_write(viewer, transactions) -> None:
    stale = utcnow() - timedelta(minutes=5)
    with dbmod.write_session() as s:
        s.execute(sa.update(UserSession).where(UserSession.user_id == viewer.user_id).values(last_seen_at=stale))
    transactions.clear()
    page = _page(viewer.site_id, viewer.token)
    for _ in range(3):  # three page events within the minute
        with page._authorize(Permission.READ):
            pass
    writes = _writes(transactions)
    assert len(writes) == 1, writes
    assert writes[0]["sql"] == ["UPDATE user_session"] and writes[0]["end"] == "commit"  # nothing else in it
    with dbmod.read_session() as s:
        seen = s.execute(sa.select(UserSession.last_seen_at).where(UserSession.user_id == viewer.user_id)).scalar_one()
    assert seen.replace(tzinfo=None) > stale.replace(tzinfo=None) + timedelta(minutes=4)


def test_two_touches_racing_write_once(viewer) -> None:
    stale = utcnow() - timedelta(minutes=5)
    with dbmod.write_session() as s:
        s.execute(sa.update(UserSession).where(UserSession.user_id == viewer.user_id).values(last_seen_at=stale))
    with dbmod.read_session() as a, dbmod.read_session() as b:  # both read "due" before either writes
        assert accounts.authenticate(session=a, token=viewer.token)[1]
        assert accounts.authenticate(session=b, token=viewer.token)[1]
    wrote = []
    for _ in range(2):
        with dbmod.write_session() as w:
            wrote.append(accounts.touch_session(session=w, token=viewer.token))
    assert wrote == [True, False]


def test_an_api_read_takes_no_write_lock_and_touches_its_token_once(viewer, transactions) -> None:
    from starlette.datastructures import QueryParams

    from igny8_app.api import automation_routes
    from igny8_app.models import ApiToken

    with dbmod.write_session() as s:
        _, token = accounts.create_api_token(session=s, user_id=viewer.user_id)
    transactions.clear()
    params = QueryParams({"site_id": str(viewer.site_id)})
    for _ in range(3):
        assert automation_routes.authorize(token, params, Permission.READ).site_id == viewer.site_id
    writes = _writes(transactions)
    assert len(writes) == 1 and writes[0]["sql"] == ["UPDATE api_token"], writes  # the first use, alone
    with dbmod.read_session() as s:
        assert s.execute(sa.select(ApiToken.last_used_at)).scalar_one() is not None
