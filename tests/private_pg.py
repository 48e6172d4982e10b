"""A private PostgreSQL cluster for tests that must stop and restart the server (the machine's own
PostgreSQL is shared and never touched).

``initdb`` and ``postgres`` refuse to run as root, so when the tests run as root the cluster is run
as the ``postgres`` OS user (``runuser``), in a temporary folder owned by it (pytest's tmp_path is
not reachable by that user). It listens on a free TCP port on 127.0.0.1 with its unix socket in the
same folder, trust auth. ``fsync`` is off: a restart, even an immediate one, never loses a
committed transaction (the WAL is replayed from the OS page cache); only a machine crash would.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

PG_BIN_DIRS = [Path(os.environ["PG_BIN"])] if os.environ.get("PG_BIN") else [
    Path("/usr/lib/postgresql/15/bin"), *sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)]
PG_USER = "postgres"


def find_pg_bin() -> Path | None:
    """The folder holding initdb, pg_ctl and postgres, or None when PostgreSQL is not installed."""
    for d in PG_BIN_DIRS:
        if all((d / exe).is_file() for exe in ("initdb", "pg_ctl", "postgres")):
            return d
    return None


def missing_reason() -> str | None:
    """Why a private cluster cannot be started here (None: it can)."""
    if find_pg_bin() is None:
        return f"PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in {[str(d) for d in PG_BIN_DIRS]}"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(PG_USER)
        except KeyError:
            return f"running as root and there is no {PG_USER!r} OS user to run the cluster as"
        if shutil.which("runuser") is None:
            return "running as root and runuser is missing"
    return None


class PrivatePostgres:
    """``start()``, ``restart(mode)``, ``stop(mode)``, ``cleanup()``; ``url(dbname)`` for SQLAlchemy."""

    def __init__(self, port: int) -> None:
        reason = missing_reason()
        if reason:
            raise RuntimeError(reason)
        self.bin = find_pg_bin()
        self.port = port
        self.root = Path(tempfile.mkdtemp(prefix="igny8-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.as_root = os.geteuid() == 0
        self._later: list[threading.Thread] = []
        if self.as_root:
            user = pwd.getpwnam(PG_USER)
            os.chown(self.root, user.pw_uid, user.pw_gid)

    # --- commands --------------------------------------------------------------------------------

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", PG_USER, "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=self.root)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited with {proc.returncode}:\n{proc.stdout}\n{proc.stderr}\n"
                               f"{self.log_tail()}")
        return proc

    def _pg_ctl(self, action: str, *extra: str) -> None:
        self._run("pg_ctl", action, "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", *extra)

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "--auth=trust", "-U", PG_USER, "-E", "UTF8", "--no-sync",
                  timeout=120)
        conf = "\n".join([
            "listen_addresses = '127.0.0.1'", f"port = {self.port}", f"unix_socket_directories = '{self.root}'",
            "fsync = off", "full_page_writes = off", "max_connections = 200", "shared_buffers = 32MB",
            "log_min_messages = warning", ""])
        with open(self.data / "postgresql.conf", "a") as fh:
            fh.write(conf)

    def start(self) -> None:
        self._pg_ctl("start")

    def stop(self, mode: str = "fast") -> None:
        """``fast``: roll back open transactions and disconnect, then shut down cleanly; ``immediate``:
        kill every backend at once, crash recovery on the next start (the harsher fault)."""
        self._pg_ctl("stop", "-m", mode)

    def restart(self, mode: str = "fast") -> None:
        self._pg_ctl("restart", "-m", mode)

    def start_after(self, seconds: float, done: list[str] | None = None) -> None:
        """Start the (stopped) server ``seconds`` from now, in a thread; ``done`` gets "started"."""
        def later() -> None:
            time.sleep(seconds)
            self.start()
            if done is not None:
                done.append("started")

        thread = threading.Thread(target=later, name="pg-start-after", daemon=True)
        self._later.append(thread)
        thread.start()

    def is_running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def create_database(self, name: str) -> None:
        import sqlalchemy as sa

        engine = sa.create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        finally:
            engine.dispose()

    def url(self, dbname: str) -> str:
        return f"postgresql+psycopg://{PG_USER}@127.0.0.1:{self.port}/{dbname}"

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return f"--- {self.log}\n" + self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def cleanup(self) -> None:
        """Stop the server (immediate: nothing to keep) if it runs, then delete the folder."""
        for thread in self._later:  # a pending start_after would start it again
            thread.join(120)
        try:
            if self.is_running():
                self.stop("immediate")
        except Exception:  # noqa: BLE001 - kill the postmaster if pg_ctl cannot stop it
            try:
                pid = int((self.data / "postmaster.pid").read_text().split()[0])
                os.kill(pid, 9)
                time.sleep(0.5)
            except (OSError, ValueError, IndexError):
                pass
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def private_database(data_dir: Path, monkeypatch) -> Iterator[PrivatePostgres]:  # noqa: ANN001
    """A private cluster with a migrated database ``igny8``; the app's settings (DATABASE_URL,
    IGNY8_DATA_DIR, SECRET_KEY) point at it. Skips the test when the server binaries are missing.
    The cluster is removed afterwards, also when the test fails."""
    import pytest

    from igny8_app import db as dbmod
    from tests.conftest import _use_database, free_port

    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    pg = PrivatePostgres(free_port())
    try:
        pg.init()
        pg.start()
        pg.create_database("igny8")
        url = pg.url("igny8")
        dbmod.upgrade_database(url)
        data_dir.mkdir(parents=True, exist_ok=True)
        _use_database(monkeypatch, url, data_dir)
        yield pg
    finally:
        dbmod.dispose_engines()
        pg.cleanup()
