"""Alembic is the only schema source: upgrade/downgrade round trips, and models == migrations."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

import igny8_app.models  # noqa: F401  (registers every table)
from igny8_app import db as dbmod
from igny8_app.settings import REPO_ROOT

PG_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(not PG_URL, reason="TEST_DATABASE_URL is not set")),
]


def alembic_config(url: str) -> Config:
    cfg = Config(str(REPO_ROOT / "alembic.ini"))
    cfg.attributes["configure_logging"] = False
    cfg.attributes["url"] = url
    return cfg


@pytest.fixture(params=BACKENDS)
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a brand-new, empty database (nothing migrated)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    name = f"igny8_mig_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(make_url(PG_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _inspect(url: str):
    engine = dbmod.make_engine(url)
    try:
        with engine.connect() as conn:
            insp = sa.inspect(conn)
            tables = set(insp.get_table_names())
            version = None
            if "alembic_version" in tables:
                version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
            costs = None
            if "credit_cost_config" in tables:
                costs = conn.execute(sa.text("SELECT count(*) FROM credit_cost_config")).scalar()
            return tables, version, costs
    finally:
        engine.dispose()


def _diff(url: str) -> list:
    engine = dbmod.make_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(ctx, SQLModel.metadata)
    finally:
        engine.dispose()


MODEL_TABLES = set(SQLModel.metadata.tables)
HEAD = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def test_there_is_a_single_head_and_every_model_table_is_known() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
    assert {"account", "user_account", "site", "keyword", "credit_transaction", "credit_usage_log"} <= MODEL_TABLES


def test_upgrade_downgrade_upgrade_round_trip(empty_db: str) -> None:
    assert _inspect(empty_db)[0] == set()

    dbmod.upgrade_database(empty_db)
    tables, version, costs = _inspect(empty_db)
    assert tables == MODEL_TABLES | {"alembic_version"}
    assert version == HEAD
    assert costs >= 5  # seeded by 0002
    seeded = costs

    command.downgrade(alembic_config(empty_db), "base")
    tables, version, _ = _inspect(empty_db)
    assert tables <= {"alembic_version"}
    assert version is None

    dbmod.upgrade_database(empty_db)
    tables, version, costs = _inspect(empty_db)
    assert tables == MODEL_TABLES | {"alembic_version"}
    assert version == HEAD
    assert costs == seeded  # seeded once again, not twice


def test_step_by_step_downgrade_and_upgrade(empty_db: str) -> None:
    cfg = alembic_config(empty_db)
    dbmod.upgrade_database(empty_db, "0001")
    assert _inspect(empty_db)[1:] == ("0001", 0)
    dbmod.upgrade_database(empty_db, "0002")
    assert _inspect(empty_db)[1:] == ("0002", 5)
    command.downgrade(cfg, "-1")
    assert _inspect(empty_db)[1:] == ("0001", 0)
    command.downgrade(cfg, "-1")
    assert _inspect(empty_db)[0] <= {"alembic_version"}


def test_models_and_migrations_agree(empty_db: str) -> None:
    dbmod.upgrade_database(empty_db)
    diff = _diff(empty_db)
    assert diff == [], "models differ from migrations:\n" + "\n".join(map(repr, diff))

    # the comparison is not vacuous: a table missing from the database shows up
    engine = dbmod.make_engine(empty_db)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE credit_package")
    finally:
        engine.dispose()
    diff = _diff(empty_db)
    assert any(d[0] == "add_table" and d[1].name == "credit_package" for d in diff), diff
