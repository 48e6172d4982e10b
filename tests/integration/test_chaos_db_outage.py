"""The run loop in-process against a database that fails under it for a moment, at one exact point
(the chaos tier, tests/integration/test_chaos_db.py, does the same at random under real workers):

* SQLite: another connection holds the write lock past the busy timeout ("database is locked");
* PostgreSQL: the loop's connection is terminated in the middle of an item's transaction, or the
  whole server (a private cluster) is stopped between two items and started again.

None of these is the run's fault: the loop waits for the database and carries on. The run
completes with the outputs and credits of an undisturbed run, and is never marked failed."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
import sqlalchemy as sa

from igny8_app import db as dbmod
from igny8_app.ai.offline import OfflineProvider
from igny8_app.models import AutomationRun
from igny8_app.services.automation import control as automation
from igny8_app.services.automation import run_loop
from igny8_app.services.automation.run_loop import execute_run
from igny8_app.services.automation.watchdog import recover_stale_runs
from igny8_app.settings import get_settings, reset_settings
from tests.chaos import reference_outputs
from tests.engine_helpers import all_pending_done, check_exactly_once, get_run, seed_site
from tests.private_pg import private_database

KEYWORDS = 12
FAULT_AT_CALL = 4  # the first article (stage 4): stages 1-2 are behind, much is still to do


class FaultAtCall(OfflineProvider):
    """The offline provider that runs ``fault()`` during its ``at``-th AI call."""

    def __init__(self, at: int, fault) -> None:  # noqa: ANN001
        super().__init__()
        self.at, self.fault, self.calls = at, fault, 0

    def _delay(self) -> None:
        self.calls += 1
        if self.calls == self.at:
            self.fault()


def _expect_undisturbed(site, run_pk: int, ref) -> None:  # noqa: ANN001
    ref_outputs, ref_credits, _ = ref
    final = get_run(run_pk)
    assert (final.status, final.error, final.lease_owner) == ("completed", None, None)
    all_pending_done(site.site_id)
    outputs = check_exactly_once(site.site_id, site.account_id)["outputs"]
    assert outputs == ref_outputs
    assert final.total_credits_used == ref_credits


# --- faults ---------------------------------------------------------------------------------------

def _hold_sqlite_write_lock(path: str, seconds: float, held: list[float]) -> None:
    """Another writer takes the write lock now and keeps it ``seconds`` (in a thread)."""
    locked = threading.Event()

    def hold() -> None:
        conn = sqlite3.connect(path, timeout=30, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        t = time.monotonic()
        locked.set()
        time.sleep(seconds)
        conn.execute("COMMIT")
        conn.close()
        held.append(time.monotonic() - t)

    threading.Thread(target=hold, daemon=True).start()
    assert locked.wait(10)


def _kill_pg_connection_mid_transaction(url: str, run_pk: int, killed: list[int]) -> None:
    """Lock the run's row from another connection, wait until a connection of the loop blocks on
    it (its next item transaction, ``SELECT … FOR UPDATE``), terminate that backend, let go.
    The loop's connection dies inside its transaction; the server stays up."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    holder = engine.connect()
    holder.begin()
    holder.execute(sa.select(AutomationRun.__table__.c.id).where(AutomationRun.__table__.c.id == run_pk)
                   .with_for_update())
    holder_pid = holder.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()

    def kill() -> None:
        try:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                deadline = time.monotonic() + 20
                while not killed and time.monotonic() < deadline:
                    for (pid,) in c.exec_driver_sql(
                            "SELECT pid FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", (holder_pid,)):
                        c.exec_driver_sql("SELECT pg_terminate_backend(%s)", (pid,))
                        killed.append(pid)
                    time.sleep(0.02)
        finally:
            holder.rollback()
            holder.close()
            engine.dispose()

    threading.Thread(target=kill, daemon=True).start()


# --- tests ----------------------------------------------------------------------------------------

def test_a_database_error_mid_item_waits_for_the_database_instead_of_failing_the_run(db, redis, monkeypatch):
    ref = reference_outputs(KEYWORDS)
    site = seed_site(n_keywords=KEYWORDS, in_article_images=1)
    run = automation.start_run(site_id=site.site_id, enqueue=False)
    evidence: list = []
    if get_settings().is_sqlite:
        busy_timeout_s = 1
        monkeypatch.setenv("IGNY8_SQLITE_BUSY_TIMEOUT_S", str(busy_timeout_s))
        reset_settings()
        dbmod.dispose_engines()
        path = db.removeprefix("sqlite:///")
        provider = FaultAtCall(FAULT_AT_CALL, lambda: _hold_sqlite_write_lock(path, 1.6 * busy_timeout_s, evidence))
    else:
        provider = FaultAtCall(FAULT_AT_CALL, lambda: _kill_pg_connection_mid_transaction(db, run.id, evidence))

    assert execute_run(run.id, provider=provider) == "completed"
    assert evidence, "the fault did not happen"
    _expect_undisturbed(site, run.id, ref)


@pytest.fixture
def private_pg(tmp_path, monkeypatch):
    with private_database(tmp_path / "data", monkeypatch) as pg:
        yield pg


def _stop_server_for(pg, seconds: float, log: list[str]) -> None:  # noqa: ANN001
    """Stop the server at once (every backend killed) and start it again ``seconds`` later."""
    pg.stop("immediate")
    log.append("stopped")
    pg.start_after(seconds, log)


def test_a_postgres_server_stopped_between_items_is_waited_out(private_pg, redis):
    ref = reference_outputs(KEYWORDS)
    site = seed_site(n_keywords=KEYWORDS, in_article_images=1)
    run = automation.start_run(site_id=site.site_id, enqueue=False)
    log: list[str] = []
    provider = FaultAtCall(FAULT_AT_CALL, lambda: _stop_server_for(private_pg, 1.5, log))

    assert execute_run(run.id, provider=provider) == "completed"
    assert log == ["stopped", "started"]
    _expect_undisturbed(site, run.id, ref)


def test_a_database_down_past_the_outage_limit_leaves_the_run_to_the_watchdog(private_pg, redis, monkeypatch):
    """The job does not wait forever: after DB_OUTAGE_MAX_S it ends (``db_unavailable``) with the run
    still ``running``, never ``failed``; once the database is back the watchdog queues it again."""
    monkeypatch.setattr(run_loop, "DB_OUTAGE_MAX_S", 0.5, raising=False)
    monkeypatch.setenv("RUN_HEARTBEAT_TIMEOUT_S", "1")
    reset_settings()
    ref = reference_outputs(KEYWORDS)
    site = seed_site(n_keywords=KEYWORDS, in_article_images=1)
    run = automation.start_run(site_id=site.site_id, enqueue=False)
    log: list[str] = []
    provider = FaultAtCall(FAULT_AT_CALL, lambda: _stop_server_for(private_pg, 2.5, log))

    assert execute_run(run.id, provider=provider) == "db_unavailable"
    deadline = time.monotonic() + 30
    while log != ["stopped", "started"]:
        assert time.monotonic() < deadline, log
        time.sleep(0.1)
    assert get_run(run.id).status == "running"
    time.sleep(1.1)  # the heartbeat goes stale
    assert recover_stale_runs() == [run.id]  # queued on the test's Redis; worked here in-process
    assert execute_run(run.id, provider=OfflineProvider()) == "completed"
    _expect_undisturbed(site, run.id, ref)


def test_a_database_error_that_is_not_transient_still_fails_the_run(db, redis):
    """Only "not now" errors are waited out: a query on a missing table is a bug, and fails the run."""
    site = seed_site(n_keywords=KEYWORDS, in_article_images=1)
    run = automation.start_run(site_id=site.site_id, enqueue=False)

    def broken_query() -> None:
        with dbmod.get_engine().connect() as conn:
            conn.exec_driver_sql("SELECT * FROM no_such_table")

    with pytest.raises(sa.exc.DBAPIError) as caught:
        broken_query()
    assert not dbmod.is_transient_db_error(caught.value)
    assert execute_run(run.id, provider=FaultAtCall(FAULT_AT_CALL, broken_query)) == "failed"
    final = get_run(run.id)
    assert final.status == "failed" and "no_such_table" in final.error, final.error
    check_exactly_once(site.site_id, site.account_id)  # failed cleanly: lock released, no lease
