"""Billing: cost config, the append-only credit ledger, usage log, invoices, payments, packages."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from igny8_app.domain.enums import InvoiceStatus, PaymentStatus
from igny8_app.models.base import JSON, UTCDateTime, utcnow



class CreditCostConfig(SQLModel, table=True):
    __tablename__ = "credit_cost_config"

    id: int | None = Field(default=None, primary_key=True)
    operation_type: str = Field(sa_type=sa.String(32), unique=True)
    credits_cost: int
    unit: str = Field(sa_type=sa.String(16))
    display_name: str = Field(sa_type=sa.String(120))
    is_active: bool = Field(default=True)
    tokens_per_credit: int | None = Field(default=None)  # for unit per_1k_tokens
    min_credits: int = Field(default=0)
    updated_by: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CreditCostAudit(SQLModel, table=True):
    __tablename__ = "credit_cost_audit"

    id: int | None = Field(default=None, primary_key=True)
    operation_type: str = Field(sa_type=sa.String(32), index=True)
    old_value: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    new_value: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    changed_by: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CreditTransaction(SQLModel, table=True):
    """Append-only. ``balance_after`` is the account balance right after this row."""

    __tablename__ = "credit_transaction"
    __table_args__ = (
        sa.Index("ix_credit_tx_account_created", "account_id", "created_at", "id"),
        sa.Index("ix_credit_tx_account_id", "account_id", "id"),
        # usage history filters: newest first within the account, per operation or site
        sa.Index("ix_credit_tx_account_op_id", "account_id", "operation_type", "id"),
        sa.Index("ix_credit_tx_account_site_id", "account_id", "site_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", ondelete="CASCADE")
    amount: int
    balance_after: int
    type: str = Field(sa_type=sa.String(16))
    operation_type: str | None = Field(default=None, sa_type=sa.String(32))
    idempotency_key: str = Field(sa_type=sa.String(200), unique=True, nullable=False)
    run_id: str | None = Field(default=None, sa_type=sa.String(64), index=True)
    site_id: int | None = Field(default=None)
    stage: int | None = Field(default=None)
    object_type: str | None = Field(default=None, sa_type=sa.String(32))
    object_id: int | None = Field(default=None)
    description: str = Field(default="", sa_type=sa.Text)
    created_by: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CreditUsageLog(SQLModel, table=True):
    __tablename__ = "credit_usage_log"
    __table_args__ = (sa.Index("ix_usage_account_created", "account_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", ondelete="CASCADE")
    transaction_id: int = Field(foreign_key="credit_transaction.id", ondelete="CASCADE", unique=True)
    operation_type: str = Field(sa_type=sa.String(32))
    credits_used: int
    model_used: str | None = Field(default=None, sa_type=sa.String(120))
    tokens_in: int = Field(default=0)
    tokens_out: int = Field(default=0)
    cost_usd: float = Field(default=0.0)
    site_id: int | None = Field(default=None)
    object_type: str | None = Field(default=None, sa_type=sa.String(32))
    object_id: int | None = Field(default=None)
    run_id: str | None = Field(default=None, sa_type=sa.String(64), index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CreditUsageDaily(SQLModel, table=True):
    """Per-day rollup of the ledger, kept by the ledger in the same transaction as each row.

    Totals and the usage chart read this instead of scanning millions of transactions.
    ``operation_type`` is '' and ``site_id`` 0 when the transaction has none.
    """

    __tablename__ = "credit_usage_daily"

    account_id: int = Field(foreign_key="account.id", ondelete="CASCADE", primary_key=True)
    day: date = Field(primary_key=True)
    type: str = Field(sa_type=sa.String(16), primary_key=True)
    operation_type: str = Field(sa_type=sa.String(32), primary_key=True)
    site_id: int = Field(primary_key=True)
    tx_count: int = Field(default=0)
    amount: int = Field(default=0)


class InvoiceCounter(SQLModel, table=True):
    """One row per month: the last invoice number issued, bumped in the invoice's transaction."""

    __tablename__ = "invoice_counter"

    period: str = Field(sa_type=sa.String(6), primary_key=True)  # YYYYMM
    last_number: int = Field(default=0)


class CreditPackage(SQLModel, table=True):
    __tablename__ = "credit_package"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=sa.String(120), unique=True)
    credits: int
    price_cents: int
    currency: str = Field(default="USD", sa_type=sa.String(3))
    is_active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Invoice(SQLModel, table=True):
    __tablename__ = "invoice"
    __table_args__ = (sa.Index("ix_invoice_account_created", "account_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", ondelete="CASCADE")
    number: str = Field(sa_type=sa.String(32), unique=True)
    type: str = Field(sa_type=sa.String(20))
    status: str = Field(default=InvoiceStatus.DRAFT.value, sa_type=sa.String(16))
    currency: str = Field(default="USD", sa_type=sa.String(3))
    subtotal_cents: int = Field(default=0)
    tax_cents: int = Field(default=0)
    total_cents: int = Field(default=0)
    credits: int = Field(default=0)  # credits granted when paid
    package_id: int | None = Field(default=None)  # the package bought (no FK: packages may be deleted)
    note: str | None = Field(default=None, sa_type=sa.Text)
    billing_snapshot: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    issued_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    paid_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    voided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class InvoiceLine(SQLModel, table=True):
    __tablename__ = "invoice_line"

    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id", ondelete="CASCADE", index=True)
    description: str = Field(sa_type=sa.String(255))
    quantity: int = Field(default=1)
    unit_price_cents: int
    amount_cents: int


class Payment(SQLModel, table=True):
    __tablename__ = "payment"
    __table_args__ = (sa.Index("ix_payment_status_created", "status", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", ondelete="CASCADE", index=True)
    invoice_id: int | None = Field(default=None, foreign_key="invoice.id", ondelete="SET NULL", index=True)
    method: str = Field(sa_type=sa.String(20))
    status: str = Field(default=PaymentStatus.PENDING_APPROVAL.value, sa_type=sa.String(20))
    amount_cents: int
    currency: str = Field(default="USD", sa_type=sa.String(3))
    reference: str | None = Field(default=None, sa_type=sa.String(120), unique=True)
    external_id: str | None = Field(default=None, sa_type=sa.String(200), unique=True)
    note: str | None = Field(default=None, sa_type=sa.Text)
    reviewed_by: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
