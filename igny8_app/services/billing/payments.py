"""Payments: buying a credit package (a pending invoice plus a payment), bank-transfer instructions,
and platform approval or rejection.

Approving a payment marks its invoice paid, which grants the invoice's credits under the key
``invoice:{id}:paid``: approving twice (a double click, two admins, a retried request) grants once.
"""

from __future__ import annotations

import secrets
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from igny8_app.domain import invoices as rules
from igny8_app.domain.enums import InvoiceStatus, InvoiceType, PaymentMethod, PaymentStatus
from igny8_app.domain.errors import Conflict, Forbidden, NotFound, ValidationError
from igny8_app.models import Account, CreditPackage, Invoice, Payment, User, utcnow
from igny8_app.services.billing import invoices
from igny8_app.settings import get_settings

# Shown to customers paying by bank transfer (the reference is what ties the transfer to the payment).
BANK_DETAILS = {
    "beneficiary": "IGNY8 Automation Ltd",
    "bank": "Northwind Business Bank",
    "iban": "GB29 NWBK 6016 1331 9268 19",
    "bic": "NWBKGB2L",
}
MANUAL_METHODS = (PaymentMethod.BANK_TRANSFER, PaymentMethod.MANUAL)
METHOD_LABELS = {PaymentMethod.STRIPE.value: "card (Stripe)", PaymentMethod.BANK_TRANSFER.value: "bank transfer",
                 PaymentMethod.MANUAL.value: "manual"}
_REF_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: people type these


def new_reference(invoice_number: str) -> str:
    """A unique, typeable transfer reference, e.g. ``IGNY8-2026110007-K7QX``."""
    _, seq = rules.parse_invoice_number(invoice_number)
    period = invoice_number[4:10]
    suffix = "".join(secrets.choice(_REF_ALPHABET) for _ in range(4))
    return f"IGNY8-{period}{seq:04d}-{suffix}"


def require_superuser(session: Session, user_id: int | None) -> User:
    user = session.get(User, user_id) if user_id else None
    if user is None or not user.is_superuser or not user.is_active:
        raise Forbidden("Only platform admins may do this.")
    return user


def list_packages(*, session: Session, active_only: bool = True) -> list[CreditPackage]:
    q = select(CreditPackage).order_by(CreditPackage.credits)
    if active_only:
        q = q.where(CreditPackage.is_active == sa.true())
    return list(session.exec(q).all())


def package_dict(p: CreditPackage) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "credits": p.credits, "price_cents": p.price_cents, "currency": p.currency,
            "price": rules.format_money(p.price_cents, p.currency), "is_active": p.is_active,
            "per_credit": rules.format_money(round(p.price_cents / p.credits), p.currency) if p.credits else ""}


def buy_package(*, session: Session, account_id: int, package_id: int,
                method: PaymentMethod | str = PaymentMethod.BANK_TRANSFER) -> tuple[Invoice, Payment]:
    """Create a pending invoice for the package and a payment awaiting approval."""
    try:
        method = PaymentMethod(method)
    except ValueError:
        raise ValidationError(f"Unknown payment method '{method}'.") from None
    if method is PaymentMethod.STRIPE and not stripe_configured():
        raise ValidationError("Card payments are not configured; choose bank transfer.")
    package = session.get(CreditPackage, package_id)
    if package is None or not package.is_active:
        raise NotFound("That credit package is not available.")
    invoice = invoices.create_invoice(
        session=session, account_id=account_id, invoice_type=InvoiceType.CREDIT_PACKAGE,
        lines=[rules.Line(f"{package.name} credit package ({package.credits:,} credits)", 1, package.price_cents)],
        credits=package.credits, currency=package.currency, package_id=package.id,
    )
    payment = Payment(account_id=account_id, invoice_id=invoice.id, method=method.value,
                      status=PaymentStatus.PENDING_APPROVAL.value, amount_cents=invoice.total_cents,
                      currency=invoice.currency, reference=new_reference(invoice.number))
    session.add(payment)
    session.flush()
    return invoice, payment


def stripe_configured() -> bool:
    s = get_settings()
    return bool(s.stripe_secret_key and s.stripe_webhook_secret)


def lock_payment(session: Session, payment_id: int) -> Payment:
    """The payment, re-read and locked for this transaction (concurrent reviews or webhooks queue)."""
    payment = session.exec(select(Payment).where(Payment.id == payment_id).with_for_update()
                           .execution_options(populate_existing=True)).one_or_none()
    if payment is None:
        raise NotFound("Payment not found.")
    return payment


def approve(*, session: Session, payment_id: int, admin_user_id: int, note: str = "") -> Payment:
    """Approve a pending payment: it succeeds and its invoice is paid (credits granted once).
    Approving an already approved payment changes nothing."""
    require_superuser(session, admin_user_id)
    payment = lock_payment(session, payment_id)
    if payment.status == PaymentStatus.SUCCEEDED.value:
        return payment
    rules.check_payment_transition(payment.status, PaymentStatus.SUCCEEDED)
    payment.status = PaymentStatus.SUCCEEDED.value
    payment.reviewed_by, payment.reviewed_at = admin_user_id, utcnow()
    payment.note = (note or "").strip() or None
    session.add(payment)
    session.flush()
    if payment.invoice_id:
        invoices.mark_paid(session=session, invoice_id=payment.invoice_id, created_by=admin_user_id)
    return payment


def reject(*, session: Session, payment_id: int, admin_user_id: int, note: str) -> Payment:
    """Reject a pending payment (a note is required); its unpaid invoice is voided."""
    require_superuser(session, admin_user_id)
    if not (note or "").strip():
        raise ValidationError("Say why the payment is rejected: the customer sees the note.")
    payment = lock_payment(session, payment_id)
    rules.check_payment_transition(payment.status, PaymentStatus.FAILED)
    payment.status = PaymentStatus.FAILED.value
    payment.reviewed_by, payment.reviewed_at = admin_user_id, utcnow()
    payment.note = note.strip()
    session.add(payment)
    session.flush()
    if payment.invoice_id:
        inv = session.get(Invoice, payment.invoice_id)
        if inv is not None and rules.can_transition_invoice(inv.status, InvoiceStatus.VOID):
            invoices.transition(session=session, invoice_id=inv.id, target=InvoiceStatus.VOID,
                                note=f"Payment rejected: {note.strip()}")
    return payment


def payment_dict(p: Payment, invoice_number: str | None = None, account_name: str | None = None) -> dict[str, Any]:
    d = {"id": p.id, "invoice_id": p.invoice_id, "invoice_number": invoice_number or "", "method": p.method,
         "status": p.status, "amount_cents": p.amount_cents, "currency": p.currency,
         "amount": rules.format_money(p.amount_cents, p.currency), "reference": p.reference or "",
         "note": p.note or "", "created_at": p.created_at.isoformat(),
         "reviewed_at": p.reviewed_at.isoformat() if p.reviewed_at else None, "account_id": p.account_id,
         # what a person reads: a card payment is never "approved", its checkout is simply still open
         "display_status": ("checkout_open" if p.method == PaymentMethod.STRIPE.value
                            and p.status == PaymentStatus.PENDING_APPROVAL.value else p.status)}
    if account_name is not None:
        d["account"] = account_name
    return d


def list_payments(*, session: Session, account_id: int | None, status: str | None = None,
                  limit: int = 100, offset: int = 0, methods: tuple[PaymentMethod, ...] | None = None,
                  exclude_queue: bool = False) -> tuple[list[dict[str, Any]], int]:
    """Newest first (pending-approval queue: oldest first). ``account_id`` None: every account;
    ``methods`` keeps only those methods (the approval queue shows manual payments only);
    ``exclude_queue`` leaves out that queue (manual payments awaiting approval)."""
    conds = []
    if account_id is not None:
        conds.append(Payment.account_id == account_id)
    if methods:
        conds.append(Payment.method.in_([PaymentMethod(m).value for m in methods]))
    if exclude_queue:
        conds.append(sa.not_(sa.and_(Payment.status == PaymentStatus.PENDING_APPROVAL.value,
                                     Payment.method.in_([m.value for m in MANUAL_METHODS]))))
    if status:
        conds.append(Payment.status == PaymentStatus(status).value)
    total = session.execute(sa.select(sa.func.count()).select_from(Payment).where(*conds)).scalar_one()
    order = Payment.id.asc() if status == PaymentStatus.PENDING_APPROVAL.value else Payment.id.desc()
    rows = session.execute(
        sa.select(Payment, Invoice.number, Account.name)
        .join(Account, Account.id == Payment.account_id)
        .outerjoin(Invoice, Invoice.id == Payment.invoice_id)
        .where(*conds).order_by(order).limit(limit).offset(offset)
    ).all()
    return [payment_dict(p, num, name) for p, num, name in rows], int(total)


def get_payment(*, session: Session, payment_id: int, account_id: int | None) -> Payment:
    p = session.get(Payment, payment_id)
    if p is None or (account_id is not None and p.account_id != account_id):
        raise NotFound("Payment not found.")
    return p


def methods_on_file(*, session: Session, account_id: int) -> dict[str, str]:
    """What the settings page shows (display only): the last bank-transfer reference, and the card
    payments made through Stripe (card details stay with Stripe, never here)."""
    def last(method: PaymentMethod, *status: PaymentStatus) -> Payment | None:
        q = select(Payment).where(Payment.account_id == account_id, Payment.method == method.value)
        if status:
            q = q.where(Payment.status.in_([x.value for x in status]))
        return session.exec(q.order_by(Payment.id.desc()).limit(1)).first()

    bank = last(PaymentMethod.BANK_TRANSFER)
    card = last(PaymentMethod.STRIPE, PaymentStatus.SUCCEEDED)
    n_cards = session.execute(sa.select(sa.func.count()).select_from(Payment).where(
        Payment.account_id == account_id, Payment.method == PaymentMethod.STRIPE.value,
        Payment.status == PaymentStatus.SUCCEEDED.value)).scalar_one()
    return {
        "bank_reference": (bank.reference or "") if bank else "",
        "bank_date": bank.created_at.strftime("%d %b %Y") if bank else "",
        "card_payments": f"{int(n_cards):,}",
        "card_last": (f"{rules.format_money(card.amount_cents, card.currency)} on "
                      f"{(card.reviewed_at or card.created_at).strftime('%d %b %Y')}") if card else "",
    }


def bank_instructions(payment: Payment) -> dict[str, str]:
    if payment.method not in {m.value for m in MANUAL_METHODS}:
        raise Conflict("Only bank transfers have bank instructions.")
    return {**BANK_DETAILS, "amount": rules.format_money(payment.amount_cents, payment.currency),
            "reference": payment.reference or ""}
