"""The credit ledger: the only writer of account balances.

Every operation here runs inside the caller's transaction (``session``) so a stage item's output,
status and charge commit together. Each is idempotent on ``idempotency_key`` (unique, NOT NULL):
a repeated key returns the original transaction and changes nothing.

Concurrency: the account row is locked first (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite
write transactions are serialised by ``BEGIN IMMEDIATE``), then the key is checked, then the
balance is changed with a guarded UPDATE (``credits >= amount``), backed by a CHECK constraint.
Holding the account lock until commit also keeps transaction ids in commit order per account,
which is what lets ``reconcile`` check every ``balance_after`` as a running sum.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timezone

import sqlalchemy as sa
from sqlmodel import Session, select

from igny8_app.domain.costs import CostRule, Usage, credits_for
from igny8_app.domain.enums import TransactionType
from igny8_app.domain.errors import Conflict, Forbidden, InsufficientCredits, NotFound, ValidationError
from igny8_app.models import (
    Account,
    CreditCostConfig,
    CreditTransaction,
    CreditUsageDaily,
    CreditUsageLog,
    User,
    utcnow,
)


def _lock_account(session: Session, account_id: int) -> Account:
    account = session.exec(
        select(Account).where(Account.id == account_id).with_for_update()
    ).one_or_none()
    if account is None:
        raise NotFound(f"Account {account_id} does not exist.")
    return account


def _existing(session: Session, key: str, account_id: int) -> CreditTransaction | None:
    tx = session.exec(select(CreditTransaction).where(CreditTransaction.idempotency_key == key)).one_or_none()
    if tx is not None and tx.account_id != account_id:
        raise Conflict("This idempotency key was already used for another account.")
    return tx


def _apply(session: Session, account_id: int, amount: int) -> int:
    """Add ``amount`` (may be negative) to the balance, never below zero. Returns the new balance."""
    table = Account.__table__
    stmt = (
        sa.update(table)
        .where(table.c.id == account_id)
        .values(credits=table.c.credits + amount)
        .returning(table.c.credits)
    )
    if amount < 0:
        stmt = stmt.where(table.c.credits >= -amount)
    new_balance = session.execute(stmt).scalar_one_or_none()
    if new_balance is None:
        balance = session.execute(sa.select(table.c.credits).where(table.c.id == account_id)).scalar_one()
        raise InsufficientCredits(needed=-amount, balance=balance)
    return int(new_balance)


def _require_key(key: str) -> None:
    if not key or not key.strip():
        raise ValidationError("An idempotency key is required.")


def _write(session: Session, *, account_id: int, amount: int, tx_type: TransactionType, key: str,
           **refs: object) -> CreditTransaction:
    balance_after = _apply(session, account_id, amount)
    now = utcnow()
    tx = CreditTransaction(account_id=account_id, amount=amount, balance_after=balance_after,
                           type=tx_type.value, idempotency_key=key, created_at=now, **refs)
    session.add(tx)
    session.flush()
    _roll_up(session, tx)
    # keep the ORM view of the account in step with the SQL update
    account = session.get(Account, account_id)
    if account is not None:
        session.refresh(account, ["credits", "low_balance_threshold", "low_balance_since"])
        track_low_balance(session=session, account=account, now=now)
    return tx


def _roll_up(session: Session, tx: CreditTransaction) -> None:
    """Add ``tx`` to its day's row in credit_usage_daily (same transaction, so never out of step)."""
    table = CreditUsageDaily.__table__
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table).values(account_id=tx.account_id, day=tx.created_at.astimezone(timezone.utc).date(),
                                type=tx.type, operation_type=tx.operation_type or "", site_id=tx.site_id or 0,
                                tx_count=1, amount=tx.amount)
    session.execute(stmt.on_conflict_do_update(
        index_elements=["account_id", "day", "type", "operation_type", "site_id"],
        set_={"tx_count": table.c.tx_count + 1, "amount": table.c.amount + stmt.excluded.amount},
    ))


def track_low_balance(*, session: Session, account: Account, now=None) -> bool:  # noqa: ANN001
    """Open a low-balance notice when the balance has just dropped below the threshold, and close it
    when it is back at or above: one notice per crossing. Returns whether the balance is low."""
    low = account.credits < account.low_balance_threshold
    if low and account.low_balance_since is None:
        values = {"low_balance_since": now or utcnow(), "low_balance_dismissed_at": None}
    elif not low and account.low_balance_since is not None:
        values = {"low_balance_since": None, "low_balance_dismissed_at": None}
    else:
        return low
    session.execute(sa.update(Account).where(Account.id == account.id).values(**values))
    session.refresh(account, ["low_balance_since", "low_balance_dismissed_at"])
    if low:  # just crossed below the threshold: notify owners and admins (services/notifications/inbox.py)
        from igny8_app.services.notifications.inbox import low_balance

        low_balance(session=session, account=account)
    return low


def cost_rule(session: Session, operation_type: str) -> CostRule:
    cfg = session.exec(
        select(CreditCostConfig).where(CreditCostConfig.operation_type == operation_type)
    ).one_or_none()
    if cfg is None:
        raise ValidationError(f"No credit cost is configured for operation '{operation_type}'.")
    return CostRule(credits_cost=cfg.credits_cost, unit=cfg.unit, tokens_per_credit=cfg.tokens_per_credit,
                    min_credits=cfg.min_credits, is_active=cfg.is_active)


def charge(
    *,
    session: Session,
    account_id: int,
    operation_type: str,
    usage: Usage,
    idempotency_key: str,
    run_id: str | None = None,
    site_id: int | None = None,
    stage: int | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
    description: str = "",
    created_by: int | None = None,
) -> CreditTransaction:
    """Charge the credits that ``usage`` of ``operation_type`` costs, exactly once per key.

    Raises InsufficientCredits (nothing written) when the balance is too low.
    """
    _require_key(idempotency_key)
    _lock_account(session, account_id)
    existing = _existing(session, idempotency_key, account_id)
    if existing is not None:
        return existing
    credits = credits_for(cost_rule(session, operation_type), usage)
    tx = _write(
        session, account_id=account_id, amount=-credits, tx_type=TransactionType.DEDUCTION,
        key=idempotency_key, operation_type=operation_type, run_id=run_id, site_id=site_id, stage=stage,
        object_type=object_type, object_id=object_id, description=description or operation_type,
        created_by=created_by,
    )
    session.add(CreditUsageLog(
        account_id=account_id, transaction_id=tx.id, operation_type=operation_type, credits_used=credits,
        model_used=usage.model, tokens_in=usage.tokens_in, tokens_out=usage.tokens_out,
        cost_usd=usage.cost_usd, site_id=site_id, object_type=object_type, object_id=object_id, run_id=run_id,
    ))
    session.flush()
    return tx


def grant(
    *,
    session: Session,
    account_id: int,
    amount: int,
    idempotency_key: str,
    description: str,
    tx_type: TransactionType = TransactionType.GRANT,
    created_by: int | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
) -> CreditTransaction:
    """Add credits (a grant, purchase or subscription), exactly once per key."""
    _require_key(idempotency_key)
    if amount <= 0:
        raise ValidationError("A grant must be a positive number of credits.")
    _lock_account(session, account_id)
    existing = _existing(session, idempotency_key, account_id)
    if existing is not None:
        return existing
    return _write(session, account_id=account_id, amount=amount, tx_type=tx_type, key=idempotency_key,
                  description=description, created_by=created_by, object_type=object_type, object_id=object_id)


def refund(
    *,
    session: Session,
    account_id: int,
    transaction_id: int,
    idempotency_key: str,
    description: str = "",
    created_by: int | None = None,
) -> CreditTransaction:
    """Give back the credits of a deduction, at most once per key and never more than was charged."""
    _require_key(idempotency_key)
    _lock_account(session, account_id)
    existing = _existing(session, idempotency_key, account_id)
    if existing is not None:
        return existing
    original = session.get(CreditTransaction, transaction_id)
    if original is None or original.account_id != account_id:
        raise NotFound(f"Transaction {transaction_id} does not exist.")
    if original.type != TransactionType.DEDUCTION.value:
        raise ValidationError("Only deductions can be refunded.")
    refunded = session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(CreditTransaction.amount), 0)).where(
            CreditTransaction.type == TransactionType.REFUND.value,
            CreditTransaction.object_type == "credit_transaction",
            CreditTransaction.object_id == transaction_id,
        )
    ).scalar_one()
    amount = -original.amount - int(refunded)
    if amount <= 0:
        raise Conflict(f"Transaction {transaction_id} has already been refunded in full.")
    return _write(session, account_id=account_id, amount=amount, tx_type=TransactionType.REFUND,
                  key=idempotency_key, object_type="credit_transaction", object_id=transaction_id,
                  description=description or f"Refund of transaction {transaction_id}", created_by=created_by,
                  run_id=original.run_id, operation_type=original.operation_type, site_id=original.site_id)


def adjust(
    *,
    session: Session,
    account_id: int,
    amount: int,
    reason: str,
    admin_user_id: int,
    idempotency_key: str,
) -> CreditTransaction:
    """A manual correction by a platform admin: needs a reason; never below zero."""
    _require_key(idempotency_key)
    if amount == 0:
        raise ValidationError("An adjustment must change the balance.")
    if not reason or not reason.strip():
        raise ValidationError("An adjustment needs a reason.")
    if admin_user_id is None:
        raise ValidationError("An adjustment needs the acting admin.")
    admin = session.get(User, admin_user_id)
    if admin is None or not admin.is_superuser or not admin.is_active:
        raise Forbidden("Only a platform admin may adjust an account's credits.")
    _lock_account(session, account_id)
    existing = _existing(session, idempotency_key, account_id)
    if existing is not None:
        return existing
    return _write(session, account_id=account_id, amount=amount, tx_type=TransactionType.ADJUSTMENT,
                  key=idempotency_key, description=reason.strip(), created_by=admin_user_id)


@dataclass
class AccountDrift:
    account_id: int
    account_name: str
    balance: int
    ledger_sum: int
    bad_balance_after: list[int] = field(default_factory=list)  # transaction ids

    @property
    def ok(self) -> bool:
        return self.balance == self.ledger_sum and not self.bad_balance_after


@dataclass
class ReconcileReport:
    accounts_checked: int
    transactions_checked: int
    drift: list[AccountDrift]

    @property
    def ok(self) -> bool:
        return not self.drift

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "accounts_checked": self.accounts_checked,
            "transactions_checked": self.transactions_checked,
            "drift": [
                {"account_id": d.account_id, "account": d.account_name, "balance": d.balance,
                 "ledger_sum": d.ledger_sum, "difference": d.balance - d.ledger_sum,
                 "bad_balance_after": d.bad_balance_after[:50]}
                for d in self.drift
            ],
        }


def reconcile(*, session: Session) -> ReconcileReport:
    """For every account: balance == sum(amounts), and each balance_after == the running sum."""
    t = CreditTransaction.__table__
    running = sa.func.sum(t.c.amount).over(partition_by=t.c.account_id, order_by=t.c.id)
    inner = sa.select(t.c.id, t.c.account_id, t.c.balance_after, running.label("running")).subquery()
    bad_rows = session.execute(
        sa.select(inner.c.account_id, inner.c.id).where(inner.c.balance_after != inner.c.running)
    ).all()
    bad: dict[int, list[int]] = {}
    for account_id, tx_id in bad_rows:
        bad.setdefault(account_id, []).append(tx_id)
    sums = dict(session.execute(sa.select(t.c.account_id, sa.func.sum(t.c.amount)).group_by(t.c.account_id)).all())
    tx_count = session.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
    accounts = session.execute(sa.select(Account.id, Account.name, Account.credits)).all()
    drift = []
    for account_id, name, balance in accounts:
        d = AccountDrift(account_id, name, balance, int(sums.get(account_id) or 0), bad.get(account_id, []))
        if not d.ok:
            drift.append(d)
    return ReconcileReport(len(accounts), tx_count, drift)


def balance(*, session: Session, account_id: int) -> int:
    credits = session.execute(sa.select(Account.credits).where(Account.id == account_id)).scalar_one_or_none()
    if credits is None:
        raise NotFound(f"Account {account_id} does not exist.")
    return int(credits)


def recent_transactions(*, session: Session, account_id: int, limit: int = 50) -> list[dict]:
    t = CreditTransaction.__table__
    rows = session.execute(
        sa.select(t.c.id, t.c.created_at, t.c.type, t.c.operation_type, t.c.amount, t.c.balance_after,
                  t.c.description, t.c.run_id)
        .where(t.c.account_id == account_id).order_by(t.c.id.desc()).limit(limit)
    ).all()
    return [dict(r._mapping) for r in rows]


def used_since(*, session: Session, account_id: int, since) -> int:  # noqa: ANN001
    t = CreditTransaction.__table__
    total = session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(-t.c.amount), 0)).where(
            t.c.account_id == account_id, t.c.type == TransactionType.DEDUCTION.value, t.c.created_at >= since)
    ).scalar_one()
    return int(total)


def list_cost_configs(*, session: Session) -> list[CreditCostConfig]:
    return list(session.exec(select(CreditCostConfig).order_by(CreditCostConfig.id)).all())
