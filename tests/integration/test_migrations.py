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


# --- 0007: stored AI keys re-encrypted from sha256(SECRET_KEY) to the HKDF key (crypto.py)

def _legacy_token(secret: str, plaintext: str) -> str:
    import base64
    import hashlib

    from cryptography.fernet import Fernet

    digest = hashlib.sha256(("igny8-ai-settings:" + secret).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest)).encrypt(plaintext.encode()).decode()


def _legacy_decrypt(secret: str, token: str) -> str:
    import base64
    import hashlib

    from cryptography.fernet import Fernet

    digest = hashlib.sha256(("igny8-ai-settings:" + secret).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest)).decrypt(token.encode()).decode()


def _seed_ai_keys(url: str, tokens: dict[int, str]) -> None:
    engine = dbmod.make_engine(url)
    try:
        with engine.begin() as conn:
            for account_id, token in tokens.items():
                conn.execute(sa.text(
                    "INSERT INTO account (id, name, credits, is_active, timezone, low_balance_threshold,"
                    " created_at) VALUES (:id, :name, 0, true, 'UTC', 0, CURRENT_TIMESTAMP)"),
                    {"id": account_id, "name": f"Acct {account_id}"})
                conn.execute(sa.text(
                    "INSERT INTO account_ai_settings (account_id, provider, base_url, api_key_encrypted,"
                    " api_key_last4, models, updated_at) VALUES (:id, 'openai', '', :tok, :last4, '{}',"
                    " CURRENT_TIMESTAMP)"), {"id": account_id, "tok": token, "last4": token[-4:]})
    finally:
        engine.dispose()


def _ai_tokens(url: str) -> dict[int, str]:
    engine = dbmod.make_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT account_id, api_key_encrypted FROM account_ai_settings"))
            return dict(rows.all())
    finally:
        engine.dispose()


@pytest.fixture
def secret_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from igny8_app.settings import reset_settings

    monkeypatch.setenv("SECRET_KEY", "migration-secret")
    reset_settings()
    yield "migration-secret"
    reset_settings()


def test_old_ai_key_ciphertexts_are_readable_after_upgrade_and_downgrade_restores_them(
        empty_db: str, secret_key: str) -> None:
    from cryptography.fernet import InvalidToken

    from igny8_app import crypto

    dbmod.upgrade_database(empty_db, "0006")
    _seed_ai_keys(empty_db, {1: _legacy_token(secret_key, "sk-old-one"), 2: _legacy_token(secret_key, "sk-2"),
                             3: ""})

    dbmod.upgrade_database(empty_db)
    tokens = _ai_tokens(empty_db)
    assert crypto.decrypt(crypto.AI_API_KEY, tokens[1]) == "sk-old-one"
    assert crypto.decrypt(crypto.AI_API_KEY, tokens[2]) == "sk-2"
    assert tokens[3] == ""  # no key stays no key
    with pytest.raises(InvalidToken):  # rewritten, not merely readable through a fallback
        _legacy_decrypt(secret_key, tokens[1])

    command.downgrade(alembic_config(empty_db), "0006")
    tokens = _ai_tokens(empty_db)
    assert _legacy_decrypt(secret_key, tokens[1]) == "sk-old-one" and tokens[3] == ""


def test_upgrade_with_the_wrong_secret_key_fails_clearly_and_changes_nothing(
        empty_db: str, secret_key: str) -> None:
    dbmod.upgrade_database(empty_db, "0006")
    token = _legacy_token("the-secret-it-was-written-with", "sk-old-one")
    _seed_ai_keys(empty_db, {7: token})
    with pytest.raises(RuntimeError, match="SECRET_KEY") as err:
        dbmod.upgrade_database(empty_db)
    assert "7" in str(err.value)  # names the accounts whose keys it cannot read
    assert _inspect(empty_db)[1] == "0006" and _ai_tokens(empty_db) == {7: token}


# --- 0009: a finished run keeps the last stage's number (current_stage 7 -> 6) -------------------

def _seed_runs(url: str, runs: dict[int, tuple[str, int, bool]]) -> None:
    """run id -> (status, current_stage, stage 6 finished), each with its own account and site."""
    engine = dbmod.make_engine(url)
    try:
        with engine.begin() as conn:
            for rid, (status, stage, last_done) in runs.items():
                conn.execute(sa.text(
                    "INSERT INTO account (id, name, credits, is_active, timezone, low_balance_threshold,"
                    " created_at) VALUES (:id, :name, 0, true, 'UTC', 0, CURRENT_TIMESTAMP)"),
                    {"id": rid, "name": f"Acct {rid}"})
                conn.execute(sa.text(
                    "INSERT INTO site (id, account_id, name, domain, is_active, created_at) VALUES"
                    " (:id, :id, :name, :domain, true, CURRENT_TIMESTAMP)"),
                             {"id": rid, "name": f"Site {rid}", "domain": f"site{rid}.example"})
                conn.execute(sa.text(
                    "INSERT INTO automation_run (id, run_id, site_id, account_id, trigger, status, current_stage,"
                    " started_at, paused_seconds, stage_results, initial_snapshot, config_snapshot,"
                    " total_credits_used, lease_fence) VALUES (:id, :run_id, :id, :id, 'manual', :status, :stage,"
                    " CURRENT_TIMESTAMP, 0, '{}', '{}', '{}', 0, 0)"),
                    {"id": rid, "run_id": f"run_{rid}", "status": status, "stage": stage})
                for n in range(1, min(stage, 6) + 1):
                    finished = n < stage or (n == 6 and last_done)
                    conn.execute(sa.text(
                        "INSERT INTO stage_progress (run_pk, stage, total_items, processed_items, failed_items,"
                        " credits_used, started_at, finished_at) VALUES (:run, :n, 1, 1, 0, 0, CURRENT_TIMESTAMP,"
                        f" {'CURRENT_TIMESTAMP' if finished else 'NULL'})"), {"run": rid, "n": n})
    finally:
        engine.dispose()


def _stages(url: str) -> dict[int, int]:
    engine = dbmod.make_engine(url)
    try:
        with engine.connect() as conn:
            return dict(conn.execute(sa.text("SELECT id, current_stage FROM automation_run")).all())
    finally:
        engine.dispose()


def test_finished_runs_past_the_last_stage_are_rewritten_and_downgrade_restores_them(empty_db: str) -> None:
    dbmod.upgrade_database(empty_db, "0008")
    _seed_runs(empty_db, {1: ("completed", 7, True), 2: ("cancelled", 7, True), 3: ("paused", 3, False),
                          4: ("completed", 6, False), 5: ("running", 6, False)})  # 4: a cap_reached stop at 6
    dbmod.upgrade_database(empty_db)
    assert _stages(empty_db) == {1: 6, 2: 6, 3: 3, 4: 6, 5: 6}
    command.downgrade(alembic_config(empty_db), "0008")
    assert _stages(empty_db) == {1: 7, 2: 7, 3: 3, 4: 6, 5: 6}
