"""The unit of work: effects registered with ``on_commit`` run after the commit and never on a
rollback (a rolled-back SAVEPOINT drops its own); a read session takes no write lock and refuses
to write (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from igny8_app import db as dbmod
from igny8_app.models import Account


def _account(s, name: str) -> int:
    a = Account(name=name)
    s.add(a)
    s.flush()
    return a.id


def test_on_commit_runs_after_the_commit_in_order(db) -> None:
    seen: list[str] = []

    def visible(tag: str):  # the effect sees the committed row from another connection
        def fn() -> None:
            with dbmod.read_session() as r:
                seen.append(f"{tag}:{r.execute(sa.select(sa.func.count()).select_from(Account)).scalar_one()}")
        return fn

    with dbmod.write_session() as s:
        _account(s, "uow-a")
        dbmod.on_commit(s, visible("first"))
        dbmod.on_commit(s, lambda: seen.append("second"))
        assert seen == []  # nothing runs inside the transaction
    assert seen == ["first:1", "second"]


def test_on_commit_never_runs_on_rollback(db) -> None:
    seen: list[str] = []
    with pytest.raises(ZeroDivisionError), dbmod.write_session() as s:
        _account(s, "uow-b")
        dbmod.on_commit(s, lambda: seen.append("effect"))
        1 / 0
    assert seen == []
    with dbmod.write_session() as s:  # the next unit of work on a fresh session starts clean
        dbmod.on_commit(s, lambda: seen.append("next"))
    assert seen == ["next"]


def test_a_rolled_back_savepoint_drops_only_its_own_effects(db) -> None:
    seen: list[str] = []
    with dbmod.write_session() as s:
        dbmod.on_commit(s, lambda: seen.append("outer"))
        with pytest.raises(ValueError), s.begin_nested():
            dbmod.on_commit(s, lambda: seen.append("rolled back"))
            raise ValueError
        with s.begin_nested():
            dbmod.on_commit(s, lambda: seen.append("released"))
        assert seen == []  # a released SAVEPOINT is not the commit
    assert seen == ["outer", "released"]


def test_a_failing_effect_neither_undoes_the_commit_nor_stops_the_others(db) -> None:
    seen: list[str] = []
    with dbmod.write_session() as s:
        aid = _account(s, "uow-c")
        dbmod.on_commit(s, lambda: 1 / 0)
        dbmod.on_commit(s, lambda: seen.append("after"))
    assert seen == ["after"]
    with dbmod.read_session() as r:
        assert r.get(Account, aid) is not None


def test_a_read_session_refuses_to_write(db) -> None:
    with dbmod.write_session() as s:
        aid = _account(s, "uow-d")
    with dbmod.read_session() as r:
        with pytest.raises(RuntimeError, match="read_session"):
            r.execute(sa.update(Account).where(Account.id == aid).values(name="changed"))
    with dbmod.read_session() as r:
        r.get(Account, aid).name = "changed"
        with pytest.raises(RuntimeError, match="read_session"):
            r.flush()
    with dbmod.read_session() as r:
        assert r.get(Account, aid).name == "uow-d"
        with pytest.raises(RuntimeError, match="read_session"):
            dbmod.on_commit(r, lambda: None)


def test_a_read_session_takes_no_write_lock(db) -> None:
    """While a read session is open (and has read), another process's writer commits at once."""
    with dbmod.write_session() as s:
        _account(s, "uow-e")
    done = threading.Event()
    with dbmod.read_session() as r:
        r.execute(sa.select(Account)).all()

        def writer() -> None:
            with dbmod.write_session() as w:
                _account(w, "uow-f")
            done.set()

        t = threading.Thread(target=writer)
        t.start()
        assert done.wait(5), "a writer waited for a read session"
        t.join()


def test_a_run_started_in_the_callers_unit_of_work_is_queued_only_once_it_commits(db, redis) -> None:
    """The Automation page authorises and starts a run in one transaction: a rollback leaves no run
    and no job; the commit queues exactly one."""
    from igny8_app.models import AutomationRun
    from igny8_app.queue import get_queue
    from igny8_app.services.automation import control
    from tests.engine_helpers import seed_site

    ref = seed_site(n_keywords=6, credits=50_000)
    with pytest.raises(ZeroDivisionError), dbmod.write_session() as s:
        control.start_run(site_id=ref.site_id, session=s)
        1 / 0  # e.g. the page's reload fails after the start
    with dbmod.read_session() as r:
        assert r.execute(sa.select(sa.func.count()).select_from(AutomationRun)).scalar_one() == 0
    assert get_queue().count == 0
    with dbmod.write_session() as s:
        run = control.start_run(site_id=ref.site_id, session=s)
        assert get_queue().count == 0
        state = control.pause_run(run_id=run.run_id, site_id=ref.site_id, session=s)
        assert state["status"] == "paused"
    assert get_queue().job_ids and len(get_queue().job_ids) == 1
    assert get_queue().fetch_job(get_queue().job_ids[0]).func_name == "igny8_app.jobs.run_automation"
