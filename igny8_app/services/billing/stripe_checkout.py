"""Card payments with Stripe Checkout, offered only when ``STRIPE_SECRET_KEY`` and
``STRIPE_WEBHOOK_SECRET`` are both set.

Buying a package by card creates the pending invoice and a ``stripe`` payment (as a bank transfer
does), then a Checkout Session with the official ``stripe`` library; the browser is sent to its URL.
Stripe then calls the webhook (``POST /api/v1/billing/stripe/webhook``), whose signature is checked
with ``stripe.Webhook.construct_event``. ``checkout.session.completed`` (paid) settles the payment
and marks the invoice paid, which grants its credits under the ledger key ``invoice:{id}:paid``:
a replayed or duplicated event, concurrent deliveries, or an admin marking the same invoice paid
grant nothing more. The payment row is locked first, so concurrent deliveries queue on it.

The Stripe call happens outside any database transaction: the invoice and payment are committed
first, and if Stripe refuses, the payment fails and the invoice is voided (its number stays used).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import stripe
from sqlmodel import Session, select

from igny8_app.db import within, write_session
from igny8_app.domain.enums import InvoiceStatus, PaymentMethod, PaymentStatus
from igny8_app.domain.errors import DomainError, NotFound, ValidationError
from igny8_app.models import Account, CreditPackage, Invoice, Payment, utcnow
from igny8_app.services.billing import invoices
from igny8_app.services.billing import payments
from igny8_app.settings import get_settings

log = logging.getLogger(__name__)

MAX_WEBHOOK_BYTES = 512 * 1024  # Stripe events are a few KB
WEBHOOK_TOLERANCE_S = 300  # Stripe's default: older signed events are refused (replay protection)
PAID_EVENTS = ("checkout.session.completed", "checkout.session.async_payment_succeeded")
FAILED_EVENTS = ("checkout.session.expired", "checkout.session.async_payment_failed")
PAID_STATUSES = ("paid", "no_payment_required")


class PaymentProviderError(DomainError):
    code = "payment_provider_error"
    http_status = 502


class WebhookRejected(DomainError):
    code = "invalid_signature"
    http_status = 400


is_configured = payments.stripe_configured


def client() -> stripe.StripeClient:
    s = get_settings()
    extra: dict[str, Any] = {"base_addresses": {"api": s.stripe_api_base}} if s.stripe_api_base else {}
    return stripe.StripeClient(s.stripe_secret_key, max_network_retries=2, **extra)


@dataclass(frozen=True)
class Checkout:
    invoice_id: int
    invoice_number: str
    payment_id: int
    session_id: str
    url: str


def _session_params(*, package: CreditPackage, invoice: Invoice, payment: Payment, account: Account,
                    success_url: str, cancel_url: str) -> dict[str, Any]:
    ids = {"invoice_id": str(invoice.id), "payment_id": str(payment.id), "account_id": str(account.id)}
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [{"quantity": 1, "price_data": {
            "currency": invoice.currency.lower(), "unit_amount": invoice.total_cents,
            "product_data": {"name": f"{package.name} credit package ({package.credits:,} credits)",
                             "description": f"Invoice {invoice.number}"}}}],
        "client_reference_id": str(payment.id),
        "metadata": ids,
        "payment_intent_data": {"metadata": ids, "description": f"IGNY8 invoice {invoice.number}"},
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    if account.billing_email:
        params["customer_email"] = account.billing_email
    return params


def start_checkout(*, account_id: int, package_id: int, success_url: str | None = None,
                   cancel_url: str | None = None) -> Checkout:
    """Create the pending invoice and payment, then the Stripe Checkout Session. A use case around a
    network call, so it is its own entry point: three short transactions, none held open over the
    call to Stripe (the caller must not hold a write session). Returns the URL to send the browser to."""
    if not is_configured():
        raise ValidationError("Card payments are not configured; choose bank transfer.")
    base = get_settings().public_url.rstrip("/")
    success_url = success_url or f"{base}/billing/payments?checkout=success"
    cancel_url = cancel_url or f"{base}/billing/payments?checkout=cancelled"
    with write_session() as s:
        inv, pay = payments.buy_package(session=s, account_id=account_id, package_id=package_id,
                                        method=PaymentMethod.STRIPE)
        params = _session_params(package=s.get(CreditPackage, package_id), invoice=inv, payment=pay,
                                 account=s.get(Account, account_id), success_url=success_url, cancel_url=cancel_url)
        invoice_id, number, payment_id = inv.id, inv.number, pay.id
    try:  # the idempotency key makes the library's own retries create one session, not several
        cs = client().v1.checkout.sessions.create(params, {"idempotency_key": f"igny8-checkout-{payment_id}"})
        session_id, url = cs.id, cs.url
        if not session_id or not url:
            raise stripe.StripeError("the Checkout Session has no id or url")
    except stripe.StripeError as exc:
        log.warning("Stripe refused checkout for payment %s: %s", payment_id, exc)
        with write_session() as s:
            _fail(s, s.get(Payment, payment_id), "Stripe could not start the checkout.")
        raise PaymentProviderError("Card payment could not be started (Stripe did not answer as expected). "
                                   "Nothing was charged; please try again or pay by bank transfer.") from exc
    with write_session() as s:
        pay = payments.lock_payment(s, payment_id)
        pay.external_id = session_id
        s.add(pay)
    return Checkout(invoice_id, number, payment_id, session_id, url)


# --- webhook ------------------------------------------------------------------------------------

def handle_webhook(payload: bytes, signature: str | None, *, session: Session | None = None) -> dict[str, Any]:
    """Verify and apply one Stripe event. Returns what was done; raises WebhookRejected (400) for a
    bad, missing or stale signature, NotFound when Stripe is not configured."""
    if not is_configured():
        raise NotFound("Stripe is not configured.")
    try:
        event = stripe.Webhook.construct_event(payload, signature, get_settings().stripe_webhook_secret,
                                               tolerance=WEBHOOK_TOLERANCE_S)
    except stripe.SignatureVerificationError as exc:
        raise WebhookRejected(f"Stripe signature check failed: {exc.user_message or exc}") from None
    except ValueError:
        raise WebhookRejected("The webhook body is not a Stripe event.") from None
    data = event.to_dict()
    etype = str(data.get("type") or "")
    obj = (data.get("data") or {}).get("object") or {}
    if etype not in PAID_EVENTS + FAILED_EVENTS or obj.get("object") != "checkout.session":
        return {"event": data.get("id"), "type": etype, "result": "ignored"}
    with within(session) as s:
        payment = _find_payment(s, obj)
        if payment is None:
            log.warning("Stripe event %s names an unknown checkout session %s", data.get("id"), obj.get("id"))
            result = "unknown_session"
        elif etype in PAID_EVENTS:
            result = _settle(s, payment, obj, str(data.get("id") or ""))
        else:
            result = _fail(s, payment, f"Stripe Checkout {etype.rsplit('.', 1)[-1].replace('_', ' ')}.")
    log.info("Stripe event %s (%s): %s", data.get("id"), etype, result)
    return {"event": data.get("id"), "type": etype, "result": result}


def _find_payment(session: Session, obj: dict[str, Any]) -> Payment | None:
    """The Stripe payment of this Checkout Session, locked. By the stored session id; before that is
    stored (a very fast payer), by the payment id in the metadata, if it names no other session."""
    session_id = str(obj.get("id") or "")
    found = session.exec(select(Payment.id).where(Payment.external_id == session_id)).first() if session_id else None
    if found is None:
        raw = str((obj.get("metadata") or {}).get("payment_id") or obj.get("client_reference_id") or "")
        if not re.fullmatch("[0-9]{1,10}", raw) or int(raw) > 2**31 - 1:  # ASCII: int('²') raises
            return None
        found = int(raw)
    try:
        payment = payments.lock_payment(session, found)
    except NotFound:
        return None
    meta_account = str((obj.get("metadata") or {}).get("account_id") or "")
    if (payment.method != PaymentMethod.STRIPE.value or payment.external_id not in (None, session_id)
            or (meta_account and meta_account != str(payment.account_id))):
        return None
    return payment


def _settle(session: Session, payment: Payment, obj: dict[str, Any], event_id: str) -> str:
    if obj.get("payment_status") not in PAID_STATUSES:
        return "awaiting_payment"  # e.g. a bank debit: async_payment_succeeded follows
    if payment.status == PaymentStatus.SUCCEEDED.value:
        return "already_paid"
    if payment.status != PaymentStatus.PENDING_APPROVAL.value:
        log.warning("Stripe reports payment %s paid, but it is %s", payment.id, payment.status)
        return f"ignored_{payment.status}"
    amount, currency = obj.get("amount_total"), str(obj.get("currency") or "").upper()
    if amount != payment.amount_cents or currency != payment.currency.upper():
        payment.note = (f"Stripe reported {amount} {currency}, expected {payment.amount_cents} {payment.currency}; "
                        "not credited, check it in the Stripe dashboard.")
        session.add(payment)
        log.error("Stripe amount mismatch on payment %s: %s", payment.id, payment.note)
        return "amount_mismatch"
    payment.external_id = payment.external_id or str(obj.get("id"))
    payment.status = PaymentStatus.SUCCEEDED.value
    payment.reviewed_at = utcnow()
    payment.note = f"Paid by card (Stripe event {event_id})."
    session.add(payment)
    session.flush()
    invoice = session.get(Invoice, payment.invoice_id) if payment.invoice_id else None
    if invoice is not None and invoice.status == InvoiceStatus.VOID.value:
        payment.note += " The invoice had been voided: refund or re-issue it."
        session.add(payment)
        return "paid_invoice_void"
    if invoice is not None:
        invoices.mark_paid(session=session, invoice_id=invoice.id, note=None)
    return "paid"


def _fail(session: Session, payment: Payment | None, note: str) -> str:
    if payment is None:
        return "unknown_session"
    payment = payments.lock_payment(session, payment.id)
    if payment.status != PaymentStatus.PENDING_APPROVAL.value:
        return f"ignored_{payment.status}"
    payment.status = PaymentStatus.FAILED.value
    payment.reviewed_at = utcnow()
    payment.note = note
    session.add(payment)
    session.flush()
    invoice = session.get(Invoice, payment.invoice_id) if payment.invoice_id else None
    if invoice is not None and invoice.status == InvoiceStatus.PENDING.value:
        invoices.transition(session=session, invoice_id=invoice.id, target=InvoiceStatus.VOID, note=note)
    return "failed"
