"""Database faults for the chaos harness (tests/chaos.py): a PostgreSQL server restarted under the
workers (tests/private_pg.py), and a second SQLite writer that storms the write lock.

The storm is a separate process (``python -m tests.chaos_db storm ...``) so the lock is taken the
way another program would take it: in bursts, it holds ``BEGIN IMMEDIATE`` (with a write) for
longer than the workers' busy timeout, lets go for a few milliseconds and takes it again; between
bursts it is quiet so the runs make progress; after ``bursts`` bursts it stops (bounded CI time).
Each hold is appended to a log file.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent  # no app imports: the storm process stays light


# --- the SQLite lock storm ------------------------------------------------------------------------

@dataclass
class Storm:
    log: Path

    def holds(self) -> list[float]:
        """How long each hold of the write lock lasted (s)."""
        if not self.log.exists():
            return []
        return [float(x) for x in self.log.read_text().split()]


@contextlib.contextmanager
def sqlite_lock_storm(db_path: Path, *, log: Path, hold_s: tuple[float, float], gap_s: float = 0.02,
                      burst_s: float = 4.0, quiet_s: float = 2.0, bursts: int = 3, seed: int = 0) -> Iterator[Storm]:
    """A second writer storming the write lock of ``db_path`` while the block runs."""
    proc = subprocess.Popen([sys.executable, "-m", "tests.chaos_db", "storm", "--db", str(db_path), "--log", str(log),
                             "--hold", str(hold_s[0]), str(hold_s[1]), "--gap", str(gap_s), "--burst", str(burst_s),
                             "--quiet", str(quiet_s), "--bursts", str(bursts), "--seed", str(seed)], cwd=REPO)
    try:
        yield Storm(log)
    finally:
        proc.terminate()  # an open transaction is rolled back when the process goes
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _storm(db: str, log: str, hold: tuple[float, float], gap: float, burst: float, quiet: float, bursts: int,
           seed: int) -> None:
    rng = random.Random(seed)
    conn = sqlite3.connect(db, timeout=60, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=60000")
    conn.execute("CREATE TABLE IF NOT EXISTS chaos_storm (id INTEGER PRIMARY KEY, held_s REAL NOT NULL)")
    with open(log, "a") as out:
        for _ in range(bursts):
            burst_end = time.monotonic() + burst
            while time.monotonic() < burst_end:
                conn.execute("BEGIN IMMEDIATE")  # waits for the workers' writer, then every other writer waits
                took = time.monotonic()
                held = rng.uniform(*hold)
                conn.execute("INSERT INTO chaos_storm (held_s) VALUES (?)", (held,))
                time.sleep(held)
                conn.execute("COMMIT")
                out.write(f"{time.monotonic() - took:.3f}\n")
                out.flush()
                time.sleep(gap)
            time.sleep(quiet)


# --- PostgreSQL server faults ---------------------------------------------------------------------

def pg_faults(pg, rng: random.Random, modes: list[str]) -> list[Callable[[], str]]:  # noqa: ANN001
    """One callable per mode: ``fast-restart`` (``pg_ctl restart -m fast``) or ``immediate`` (``pg_ctl
    stop -m immediate``, down 0.5-2 s, start: every backend killed, crash recovery on start)."""

    def make(mode: str) -> Callable[[], str]:
        def fault() -> str:
            t = time.monotonic()
            if mode == "fast-restart":
                pg.restart("fast")
            elif mode == "immediate":
                pg.stop("immediate")
                time.sleep(rng.uniform(0.5, 2.0))
                pg.start()
            else:
                raise ValueError(mode)
            return f"{mode} ({time.monotonic() - t:.1f} s down)"

        return fault

    return [make(m) for m in modes]


def worker_log_count(log_dir: Path, needle: str) -> int:
    return sum(f.read_text(errors="replace").count(needle) for f in log_dir.glob("*.log"))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["storm"])
    ap.add_argument("--db", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--hold", type=float, nargs=2, required=True)
    ap.add_argument("--gap", type=float, default=0.02)
    ap.add_argument("--burst", type=float, default=4.0)
    ap.add_argument("--quiet", type=float, default=2.0)
    ap.add_argument("--bursts", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    _storm(a.db, a.log, tuple(a.hold), a.gap, a.burst, a.quiet, a.bursts, a.seed)
