"""Shared set-up for the benchmarks: a fresh migrated database (SQLite file or a new PostgreSQL
database), a private redis-server, seeded sites with synthetic keywords, RQ worker processes.

Not a benchmark itself; imported by bench/*.py (which put the repository root on sys.path).
"""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

TOPICS = ["coffee", "tomato", "bonsai", "orchid", "compost", "espresso", "hydrangea", "succulent",
          "mulch", "seedling", "pruning", "irrigation", "herb", "lavender", "fern", "cactus"]
ASPECTS = ["care", "guide", "tips", "problems", "varieties", "tools", "soil", "watering", "light",
           "pests", "pots", "fertilizer", "winter", "indoor", "beginners", "ideas"]


def synthetic_keywords(n: int) -> list[str]:
    """``n`` distinct, keyword-looking phrases (topic + aspect + a number for uniqueness)."""
    out = []
    i = 0
    while len(out) < n:
        t, a = TOPICS[i % len(TOPICS)], ASPECTS[(i // len(TOPICS)) % len(ASPECTS)]
        out.append(f"{t} {a} {i // (len(TOPICS) * len(ASPECTS))}")
        i += 1
    return out


def configure(database_url: str, redis_url: str | None, data_dir: Path, **env: str) -> None:
    """Point this process's settings, engines and Redis client at the given services."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["IGNY8_DATA_DIR"] = str(data_dir)
    if redis_url:
        os.environ["REDIS_URL"] = redis_url
    os.environ.update(env)
    from igny8_app import db
    from igny8_app.queue import reset_redis
    from igny8_app.settings import reset_settings

    reset_settings()
    db.dispose_engines()
    reset_redis()


@contextlib.contextmanager
def fresh_database(backend: str, tmp: Path) -> Iterator[str]:
    """A new, migrated database; yields its URL and drops it (PostgreSQL) afterwards."""
    import sqlalchemy as sa

    from igny8_app import db

    if backend == "sqlite":
        url = f"sqlite:///{tmp / f'bench-{uuid.uuid4().hex[:8]}.db'}"
        db.upgrade_database(url)
        yield url
        return
    name = f"igny8_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = str(sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False))
    try:
        db.upgrade_database(url)
        yield url
    finally:
        db.dispose_engines()
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@contextlib.contextmanager
def private_redis() -> Iterator[str]:
    from tests.conftest import private_redis_server

    with private_redis_server(Path(tempfile.mkdtemp(prefix="igny8-bench-redis-"))) as url:
        yield url


@dataclass
class Seeded:
    site_id: int
    account_id: int


def seed_sites(n_sites: int, n_keywords: int, *, credits: int = 50_000_000) -> list[Seeded]:
    """``n_sites`` sites (one account each) with ``n_keywords`` keywords, no delays, no in-article
    images (one featured image per article)."""
    from sqlmodel import select

    from igny8_app.db import write_session
    from igny8_app.models import AutomationConfig
    from igny8_app.services.content import keywords
    from tests.factories import make_account, make_site

    phrases = synthetic_keywords(n_keywords)
    csv = ("keyword,volume\n" + "\n".join(f"{p},{(i * 37) % 900 + 10}" for i, p in enumerate(phrases))
           + "\n").encode()
    out = []
    for _ in range(n_sites):
        with write_session() as s:
            account = make_account(s, credits=credits)
            site = make_site(s, account)
            report = keywords.import_keywords(session=s, site_id=site.id, data=csv)
            cfg = s.exec(select(AutomationConfig).where(AutomationConfig.site_id == site.id)).one_or_none()
            cfg = cfg or AutomationConfig(site_id=site.id)
            cfg.in_article_images = 0
            cfg.within_stage_delay = 0
            cfg.between_stage_delay = 0
            s.add(cfg)
            out.append(Seeded(site.id, account.id))
        assert getattr(report, "imported", n_keywords) == n_keywords, report
    return out


def wait_runs_done(run_pks: list[int], *, timeout: float = 3600, interval: float = 0.05) -> dict[int, float]:
    """Poll until every run is completed; returns run_pk -> monotonic time it was first seen done."""
    from igny8_app.db import read_session
    from igny8_app.models import AutomationRun

    done: dict[int, float] = {}
    deadline = time.monotonic() + timeout
    while len(done) < len(run_pks):
        with read_session() as s:
            for pk in run_pks:
                if pk in done:
                    continue
                run = s.get(AutomationRun, pk)
                if run.status == "completed":
                    done[pk] = time.monotonic()
                elif run.status not in ("running",):
                    raise RuntimeError(f"run {run.run_id} ended {run.status}: {run.error or run.pause_reason}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"runs not done after {timeout}s: {set(run_pks) - set(done)}")
        time.sleep(interval)
    return done


def start_workers(n: int, log_dir: Path, **env: str):  # noqa: ANN201
    from tests.engine_helpers import start_workers as _start

    return _start(n, log_dir=log_dir, env=env)


def rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def command_line() -> str:
    return "python " + " ".join([os.path.relpath(sys.argv[0], REPO), *sys.argv[1:]])
