"""The credit ledger: grant/charge/refund/adjust semantics, idempotency and reconciliation."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlmodel import select

from igny8_app import db as dbmod
from igny8_app.domain.costs import Usage
from igny8_app.domain.enums import TransactionType
from igny8_app.domain.errors import Conflict, Forbidden, InsufficientCredits, NotFound, ValidationError
from igny8_app.models import Account, CreditTransaction, CreditUsageLog
from igny8_app.services.accounts import access as accounts
from igny8_app.services.billing import ledger as billing
from igny8_app.settings import REPO_ROOT
from tests.factories import make_account, make_user

IDEAS = "ideas"  # seeded: 2 credits per item
CONTENT = "content"  # seeded: 1 credit per 100 words


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Admin users are made here; the production argon2 cost is irrelevant to the ledger."""
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))


def count(session, model, **where) -> int:
    stmt = sa.select(sa.func.count()).select_from(model)
    for k, v in where.items():
        stmt = stmt.where(getattr(model, k) == v)
    return session.execute(stmt).scalar_one()


def charge(session, account_id: int, key: str, items: int = 1, **kw) -> CreditTransaction:
    return billing.charge(session=session, account_id=account_id, operation_type=IDEAS,
                          usage=Usage(items=items), idempotency_key=key, **kw)


# --- grant --------------------------------------------------------------------------------------

def test_grant_adds_credits_and_records_the_running_balance(session) -> None:
    account = make_account(session)
    t1 = billing.grant(session=session, account_id=account.id, amount=100, idempotency_key="g1", description="x")
    t2 = billing.grant(session=session, account_id=account.id, amount=50, idempotency_key="g2", description="y",
                       tx_type=TransactionType.PURCHASE)
    assert (t1.amount, t1.balance_after, t1.type) == (100, 100, "grant")
    assert (t2.amount, t2.balance_after, t2.type) == (50, 150, "purchase")
    assert billing.balance(session=session, account_id=account.id) == 150
    assert account.credits == 150  # the ORM object follows the SQL update


def test_grant_must_be_positive(session) -> None:
    account = make_account(session)
    for amount in (0, -5):
        with pytest.raises(ValidationError):
            billing.grant(session=session, account_id=account.id, amount=amount, idempotency_key="g",
                          description="x")
    assert count(session, CreditTransaction) == 0


def test_an_idempotency_key_is_required(session) -> None:
    account = make_account(session, credits=10)
    for key in ("", "   "):
        with pytest.raises(ValidationError):
            billing.grant(session=session, account_id=account.id, amount=1, idempotency_key=key, description="x")
        with pytest.raises(ValidationError):
            charge(session, account.id, key)
    assert billing.balance(session=session, account_id=account.id) == 10


def test_unknown_account_is_not_found(session) -> None:
    with pytest.raises(NotFound):
        billing.grant(session=session, account_id=9999, amount=1, idempotency_key="g", description="x")
    with pytest.raises(NotFound):
        charge(session, 9999, "c")


# --- idempotency --------------------------------------------------------------------------------

def test_repeated_grant_key_returns_the_same_transaction_and_changes_nothing(session) -> None:
    account = make_account(session)
    first = billing.grant(session=session, account_id=account.id, amount=100, idempotency_key="g", description="x")
    again = billing.grant(session=session, account_id=account.id, amount=999, idempotency_key="g", description="z")
    assert again.id == first.id and again.amount == 100
    assert billing.balance(session=session, account_id=account.id) == 100
    assert count(session, CreditTransaction) == 1


def test_repeated_charge_key_returns_the_same_transaction_and_charges_once(session) -> None:
    account = make_account(session, credits=100)
    first = charge(session, account.id, "run:1:stage:2:item:3", items=3)
    again = charge(session, account.id, "run:1:stage:2:item:3", items=10)
    assert again.id == first.id and first.amount == -6
    assert billing.balance(session=session, account_id=account.id) == 94
    assert count(session, CreditTransaction, type="deduction") == 1
    assert count(session, CreditUsageLog) == 1


def test_repeated_key_across_sessions_is_still_idempotent(db) -> None:
    with dbmod.write_session() as s:
        account_id = make_account(s, credits=10).id
        tx_id = charge(s, account_id, "k").id
    with dbmod.write_session() as s:
        assert charge(s, account_id, "k").id == tx_id
    with dbmod.read_session() as s:
        assert billing.balance(session=s, account_id=account_id) == 8


def test_same_key_for_another_account_is_a_conflict(session) -> None:
    a = make_account(session, credits=50)
    b = make_account(session, credits=50)
    charge(session, a.id, "shared")
    with pytest.raises(Conflict):
        charge(session, b.id, "shared")
    with pytest.raises(Conflict):
        billing.grant(session=session, account_id=b.id, amount=5, idempotency_key="shared", description="x")
    assert billing.balance(session=session, account_id=b.id) == 50
    assert count(session, CreditTransaction, account_id=b.id) == 1  # only the factory grant


# --- charge -------------------------------------------------------------------------------------

def test_charge_deducts_rounded_credits_and_writes_a_usage_log(session) -> None:
    account = make_account(session, credits=100)
    tx = billing.charge(session=session, account_id=account.id, operation_type=CONTENT,
                        usage=Usage(words=250, tokens_in=10, tokens_out=20, model="m1", cost_usd=0.5),
                        idempotency_key="c1", run_id="run-1", site_id=7, stage=4, object_type="task", object_id=9)
    assert (tx.amount, tx.balance_after, tx.type, tx.operation_type) == (-3, 97, "deduction", CONTENT)
    assert (tx.run_id, tx.site_id, tx.stage, tx.object_type, tx.object_id) == ("run-1", 7, 4, "task", 9)
    log = session.exec(select(CreditUsageLog)).one()
    assert (log.transaction_id, log.account_id, log.credits_used, log.operation_type) == (tx.id, account.id, 3, CONTENT)
    assert (log.model_used, log.tokens_in, log.tokens_out, log.cost_usd, log.run_id) == ("m1", 10, 20, 0.5, "run-1")


def test_charge_of_exactly_the_balance_leaves_zero(session) -> None:
    account = make_account(session, credits=6)
    assert charge(session, account.id, "k", items=3).balance_after == 0
    assert billing.balance(session=session, account_id=account.id) == 0


def test_insufficient_credits_leaves_nothing_written(session) -> None:
    account = make_account(session, credits=5)
    before = count(session, CreditTransaction)
    with pytest.raises(InsufficientCredits) as info:
        charge(session, account.id, "too-much", items=3)
    assert (info.value.needed, info.value.balance) == (6, 5)
    assert billing.balance(session=session, account_id=account.id) == 5
    assert count(session, CreditTransaction) == before
    assert count(session, CreditUsageLog) == 0
    # the key was not consumed: it works once there are credits
    billing.grant(session=session, account_id=account.id, amount=1, idempotency_key="top-up", description="x")
    assert charge(session, account.id, "too-much", items=3).balance_after == 0


def test_unconfigured_operation_is_refused(session) -> None:
    account = make_account(session, credits=5)
    with pytest.raises(ValidationError, match="No credit cost"):
        billing.charge(session=session, account_id=account.id, operation_type="telepathy", usage=Usage(),
                       idempotency_key="k")
    assert count(session, CreditTransaction, type="deduction") == 0


def test_balance_can_never_be_negative_even_with_raw_sql(session) -> None:
    account = make_account(session, credits=5)
    with pytest.raises(sa.exc.IntegrityError):
        with session.begin_nested():
            session.execute(sa.update(Account).where(Account.id == account.id).values(credits=-1))
    assert billing.balance(session=session, account_id=account.id) == 5


@pytest.mark.parametrize("how", ["exception", "rollback"])
def test_charge_and_usage_log_commit_or_roll_back_together(db, how: str) -> None:
    with dbmod.write_session() as s:
        account_id = make_account(s, credits=20).id
    if how == "exception":
        with pytest.raises(RuntimeError):
            with dbmod.write_session() as s:
                charge(s, account_id, "k")
                raise RuntimeError("the stage output failed to save")
    else:
        with dbmod.write_session() as s:
            charge(s, account_id, "k")
            assert count(s, CreditUsageLog) == 1
            s.rollback()
    with dbmod.read_session() as s:
        assert billing.balance(session=s, account_id=account_id) == 20
        assert count(s, CreditTransaction, idempotency_key="k") == 0
        assert count(s, CreditUsageLog) == 0
    with dbmod.write_session() as s:
        charge(s, account_id, "k")
    with dbmod.read_session() as s:
        assert count(s, CreditTransaction, idempotency_key="k") == 1 and count(s, CreditUsageLog) == 1


# --- refund -------------------------------------------------------------------------------------

def test_refund_returns_exactly_the_charge_once(session) -> None:
    account = make_account(session, credits=10)
    tx = charge(session, account.id, "c", items=2)
    r = billing.refund(session=session, account_id=account.id, transaction_id=tx.id, idempotency_key="r1")
    assert (r.amount, r.balance_after, r.type, r.object_id) == (4, 10, "refund", tx.id)
    assert r.operation_type == IDEAS
    # same key: same refund; new key: already refunded in full
    assert billing.refund(session=session, account_id=account.id, transaction_id=tx.id, idempotency_key="r1").id == r.id
    with pytest.raises(Conflict, match="already been refunded"):
        billing.refund(session=session, account_id=account.id, transaction_id=tx.id, idempotency_key="r2")
    assert billing.balance(session=session, account_id=account.id) == 10
    assert count(session, CreditTransaction, type="refund") == 1


def test_only_deductions_of_the_same_account_can_be_refunded(session) -> None:
    a = make_account(session)
    b = make_account(session, credits=10)
    grant = billing.grant(session=session, account_id=a.id, amount=10, idempotency_key="g", description="x")
    with pytest.raises(ValidationError):
        billing.refund(session=session, account_id=a.id, transaction_id=grant.id, idempotency_key="r1")
    tx_b = charge(session, b.id, "cb")
    with pytest.raises(NotFound):
        billing.refund(session=session, account_id=a.id, transaction_id=tx_b.id, idempotency_key="r2")
    with pytest.raises(NotFound):
        billing.refund(session=session, account_id=a.id, transaction_id=999_999, idempotency_key="r3")
    assert billing.balance(session=session, account_id=a.id) == 10
    assert billing.balance(session=session, account_id=b.id) == 8


# --- adjust -------------------------------------------------------------------------------------

def test_adjust_up_and_down_by_an_admin_with_a_reason(session) -> None:
    admin = make_user(session, superuser=True)
    account = make_account(session, credits=10)
    up = billing.adjust(session=session, account_id=account.id, amount=5, reason="  goodwill ",
                        admin_user_id=admin.id, idempotency_key="a1")
    down = billing.adjust(session=session, account_id=account.id, amount=-15, reason="clawback",
                          admin_user_id=admin.id, idempotency_key="a2")
    assert (up.amount, up.balance_after, up.type, up.description, up.created_by) == (
        5, 15, "adjustment", "goodwill", admin.id)
    assert (down.amount, down.balance_after) == (-15, 0)
    again = billing.adjust(session=session, account_id=account.id, amount=-15, reason="clawback",
                           admin_user_id=admin.id, idempotency_key="a2")
    assert again.id == down.id and billing.balance(session=session, account_id=account.id) == 0


def test_adjust_refusals_write_nothing(session) -> None:
    admin_id = make_user(session, superuser=True).id
    account = make_account(session, credits=10)
    cases = [
        (5, "", admin_id, ValidationError),  # a reason is required
        (5, "   ", admin_id, ValidationError),
        (5, "ok", None, ValidationError),  # so is the acting admin
        (0, "ok", admin_id, ValidationError),
        (-11, "ok", admin_id, InsufficientCredits),  # never below zero
    ]
    for amount, reason, admin, error in cases:
        with pytest.raises(error):
            billing.adjust(session=session, account_id=account.id, amount=amount, reason=reason,
                           admin_user_id=admin, idempotency_key="a")
    assert billing.balance(session=session, account_id=account.id) == 10
    assert count(session, CreditTransaction, type="adjustment") == 0


def test_adjust_by_a_non_admin_is_forbidden(session) -> None:
    account = make_account(session, "Acme", credits=10)
    owner = make_user(session, account="Acme")  # an account owner, not a platform admin
    with pytest.raises(Forbidden):
        billing.adjust(session=session, account_id=account.id, amount=1000, reason="free credits",
                       admin_user_id=owner.id, idempotency_key="a")
    with pytest.raises((Forbidden, NotFound)):
        billing.adjust(session=session, account_id=account.id, amount=1000, reason="free credits",
                       admin_user_id=987_654, idempotency_key="b")
    assert billing.balance(session=session, account_id=account.id) == 10


# --- reconcile ----------------------------------------------------------------------------------

def _busy_ledger(session) -> tuple[Account, Account]:
    admin = make_user(session, superuser=True)
    a = make_account(session, "Alpha", credits=100)
    b = make_account(session, "Beta", credits=30)
    make_account(session, "Empty")
    for i in range(5):
        charge(session, a.id, f"a{i}", items=i + 1)
    t = charge(session, b.id, "b0", items=2)
    billing.refund(session=session, account_id=b.id, transaction_id=t.id, idempotency_key="rb")
    billing.adjust(session=session, account_id=a.id, amount=-7, reason="fix", admin_user_id=admin.id,
                   idempotency_key="adj")
    return a, b


def test_reconcile_is_clean_after_normal_use(session) -> None:
    _busy_ledger(session)
    report = billing.reconcile(session=session)
    assert report.ok and report.drift == []
    assert (report.accounts_checked, report.transactions_checked) == (3, 10)
    assert report.as_dict()["ok"] is True


def test_reconcile_detects_a_tampered_balance(session) -> None:
    a, b = _busy_ledger(session)
    session.execute(sa.text("UPDATE account SET credits = credits + 42 WHERE id = :id"), {"id": a.id})
    report = billing.reconcile(session=session)
    assert not report.ok
    (d,) = report.drift
    assert (d.account_id, d.account_name, d.balance - d.ledger_sum, d.bad_balance_after) == (a.id, "Alpha", 42, [])
    assert report.as_dict()["drift"][0]["difference"] == 42


def test_reconcile_detects_a_tampered_balance_after(session) -> None:
    a, b = _busy_ledger(session)
    tx_id = session.exec(select(CreditTransaction.id).where(CreditTransaction.account_id == b.id)
                         .order_by(CreditTransaction.id)).first()
    session.execute(sa.text("UPDATE credit_transaction SET balance_after = balance_after - 1 WHERE id = :id"),
                    {"id": tx_id})
    report = billing.reconcile(session=session)
    (d,) = report.drift
    assert d.account_id == b.id and d.bad_balance_after == [tx_id] and d.balance == d.ledger_sum


def test_reconcile_detects_credits_that_bypassed_the_ledger(session) -> None:
    session.execute(sa.text("INSERT INTO account (name, credits, is_active, timezone, low_balance_threshold, "
                            "created_at) VALUES ('Sneaky', 500, true, 'UTC', 0, CURRENT_TIMESTAMP)"))
    (d,) = billing.reconcile(session=session).drift
    assert (d.account_name, d.balance, d.ledger_sum) == ("Sneaky", 500, 0)


# --- CLI ----------------------------------------------------------------------------------------

def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": os.environ["DATABASE_URL"]}
    return subprocess.run([sys.executable, "-m", "igny8_app.cli", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_cli_reconcile_prints_json_and_exits_2_on_drift(db) -> None:
    with dbmod.write_session() as s:
        a, _ = _busy_ledger(s)
        a_id = a.id
    ok = _cli("billing", "reconcile", "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout) == {"ok": True, "accounts_checked": 3, "transactions_checked": 10, "drift": []}

    with dbmod.write_session() as s:
        s.execute(sa.text("UPDATE account SET credits = credits - 3 WHERE id = :id"), {"id": a_id})
    bad = _cli("billing", "reconcile", "--json")
    assert bad.returncode == 2, bad.stderr
    data = json.loads(bad.stdout)
    assert data["ok"] is False
    assert [(d["account_id"], d["difference"]) for d in data["drift"]] == [(a_id, -3)]
