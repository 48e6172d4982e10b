"""Invoices: gap-free numbering, creation with a billing-profile snapshot, legal transitions, and
paying an invoice, which grants its credits exactly once.

Numbers are ``INV-YYYYMM-NNNN``, gap-free per UTC month: each month has one ``invoice_counter``
row that is bumped with an atomic upsert in the invoice's own transaction. The row stays locked
until commit, so concurrent invoices queue on it; a rolled-back invoice rolls its number back too.
Invoices are never deleted (void keeps the number), so the sequence has no holes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from igny8_app.domain import invoices as rules
from igny8_app.domain.enums import InvoiceStatus, InvoiceType, TransactionType
from igny8_app.domain.errors import NotFound, ValidationError
from igny8_app.models import Account, Invoice, InvoiceCounter, InvoiceLine, utcnow
from igny8_app.services.billing import ledger as billing
from igny8_app.services.notifications import inbox as notifications

PROFILE_FIELDS = ("billing_email", "company", "address", "country", "tax_id")


def paid_grant_key(invoice_id: int) -> str:
    return f"invoice:{invoice_id}:paid"


def next_number(*, session: Session, when: datetime | None = None) -> str:
    """Reserve the next number of ``when``'s month in the caller's transaction."""
    period = rules.period_of(when or utcnow())
    table = InvoiceCounter.__table__
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table).values(period=period, last_number=1)
    stmt = stmt.on_conflict_do_update(index_elements=["period"],
                                      set_={"last_number": table.c.last_number + 1}).returning(table.c.last_number)
    seq = session.execute(stmt).scalar_one()
    return rules.invoice_number(period, int(seq))


def billing_profile(account: Account) -> dict[str, Any]:
    return {"account": account.name, **{f: getattr(account, f) or "" for f in PROFILE_FIELDS}}


def create_invoice(
    *,
    session: Session,
    account_id: int,
    lines: list[rules.Line],
    invoice_type: InvoiceType | str = InvoiceType.CUSTOM,
    status: InvoiceStatus | str = InvoiceStatus.PENDING,
    credits: int = 0,
    currency: str = "USD",
    package_id: int | None = None,
    note: str | None = None,
) -> Invoice:
    status = InvoiceStatus(status)
    if status not in (InvoiceStatus.DRAFT, InvoiceStatus.PENDING):
        raise ValidationError("A new invoice is either a draft or pending.")
    if credits < 0:
        raise ValidationError("Credits on an invoice cannot be negative.")
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"Account {account_id} does not exist.")
    t = rules.totals(lines)
    now = utcnow()
    invoice = Invoice(
        account_id=account_id, number=next_number(session=session, when=now), type=InvoiceType(invoice_type).value,
        status=status.value, currency=currency, subtotal_cents=t.subtotal_cents, tax_cents=t.tax_cents,
        total_cents=t.total_cents, credits=credits, billing_snapshot=billing_profile(account), package_id=package_id,
        note=note, issued_at=now if status is InvoiceStatus.PENDING else None, created_at=now,
    )
    session.add(invoice)
    session.flush()
    for line in lines:
        session.add(InvoiceLine(invoice_id=invoice.id, description=line.description.strip()[:255],
                                quantity=line.quantity, unit_price_cents=line.unit_price_cents,
                                amount_cents=line.amount_cents))
    session.flush()
    if status is InvoiceStatus.PENDING:
        notifications.invoice_event(session=session, invoice=invoice, paid=False)
    return invoice


def _lock(session: Session, invoice_id: int, account_id: int | None = None) -> Invoice:
    invoice = session.exec(select(Invoice).where(Invoice.id == invoice_id).with_for_update()
                           .execution_options(populate_existing=True)).one_or_none()
    if invoice is None or (account_id is not None and invoice.account_id != account_id):
        raise NotFound("Invoice not found.")
    return invoice


def transition(*, session: Session, invoice_id: int, target: InvoiceStatus | str, note: str | None = None,
               account_id: int | None = None) -> Invoice:
    """Move an invoice to ``target`` (legal transitions only). Paying goes through ``mark_paid``."""
    target = InvoiceStatus(target)
    if target is InvoiceStatus.PAID:
        return mark_paid(session=session, invoice_id=invoice_id, note=note, account_id=account_id)
    invoice = _lock(session, invoice_id, account_id)
    rules.check_invoice_transition(invoice.status, target)
    now = utcnow()
    invoice.status = target.value
    if target is InvoiceStatus.PENDING and invoice.issued_at is None:
        invoice.issued_at = now
        notifications.invoice_event(session=session, invoice=invoice, paid=False)
    if target is InvoiceStatus.VOID:
        invoice.voided_at = now
    if note:
        invoice.note = note.strip()
    session.add(invoice)
    session.flush()
    return invoice


def mark_paid(*, session: Session, invoice_id: int, note: str | None = None, created_by: int | None = None,
              account_id: int | None = None) -> Invoice:
    """Mark the invoice paid and grant its credits, exactly once: paying a paid invoice again is a
    no-op, and the grant's idempotency key ``invoice:{id}:paid`` makes a second grant impossible."""
    invoice = _lock(session, invoice_id, account_id)
    if invoice.status != InvoiceStatus.PAID.value:
        rules.check_invoice_transition(invoice.status, InvoiceStatus.PAID)
        invoice.status = InvoiceStatus.PAID.value
        invoice.paid_at = utcnow()
        if note:
            invoice.note = note.strip()
        session.add(invoice)
        session.flush()
        notifications.invoice_event(session=session, invoice=invoice, paid=True)
    if invoice.credits > 0:
        billing.grant(session=session, account_id=invoice.account_id, amount=invoice.credits,
                      idempotency_key=paid_grant_key(invoice.id), tx_type=TransactionType.PURCHASE,
                      description=f"Credits from invoice {invoice.number}", created_by=created_by,
                      object_type="invoice", object_id=invoice.id)
    return invoice


# --- reading ------------------------------------------------------------------------------------

@dataclass
class InvoiceView:
    invoice: Invoice
    lines: list[InvoiceLine]
    account_name: str


def get_invoice(*, session: Session, invoice_id: int, account_id: int | None) -> InvoiceView:
    """One invoice with its lines. ``account_id`` scopes it (None: platform admin, any account)."""
    invoice = session.get(Invoice, invoice_id)
    if invoice is None or (account_id is not None and invoice.account_id != account_id):
        raise NotFound("Invoice not found.")
    lines = list(session.exec(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id)
                              .order_by(InvoiceLine.id)).all())
    account = session.get(Account, invoice.account_id)
    return InvoiceView(invoice, lines, account.name if account else "")


def invoice_dict(inv: Invoice, account_name: str | None = None) -> dict[str, Any]:
    d = {
        "id": inv.id, "number": inv.number, "type": inv.type, "status": inv.status, "currency": inv.currency,
        "subtotal_cents": inv.subtotal_cents, "tax_cents": inv.tax_cents, "total_cents": inv.total_cents,
        "total": rules.format_money(inv.total_cents, inv.currency), "credits": inv.credits,
        "created_at": inv.created_at.isoformat(), "issued_at": inv.issued_at.isoformat() if inv.issued_at else None,
        "paid_at": inv.paid_at.isoformat() if inv.paid_at else None, "note": inv.note or "",
        "account_id": inv.account_id,
    }
    if account_name is not None:
        d["account"] = account_name
    return d


def line_dict(line: InvoiceLine, currency: str) -> dict[str, Any]:
    return {"description": line.description, "quantity": line.quantity, "unit_price_cents": line.unit_price_cents,
            "amount_cents": line.amount_cents, "unit_price": rules.format_money(line.unit_price_cents, currency),
            "amount": rules.format_money(line.amount_cents, currency)}


def list_invoices(*, session: Session, account_id: int | None, status: str | None = None, limit: int = 100,
                  offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Newest first. ``account_id`` None lists every account (platform admin)."""
    conds = []
    if account_id is not None:
        conds.append(Invoice.account_id == account_id)
    if status:
        conds.append(Invoice.status == InvoiceStatus(status).value)
    total = session.execute(sa.select(sa.func.count()).select_from(Invoice).where(*conds)).scalar_one()
    rows = session.execute(
        sa.select(Invoice, Account.name).join(Account, Account.id == Invoice.account_id).where(*conds)
        .order_by(Invoice.id.desc()).limit(limit).offset(offset)
    ).all()
    return [invoice_dict(inv, name) for inv, name in rows], int(total)
