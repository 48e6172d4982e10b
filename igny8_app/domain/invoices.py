"""Invoice and payment rules: legal status transitions, numbering, line and total maths. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from igny8_app.domain.enums import InvoiceStatus, PaymentStatus
from igny8_app.domain.errors import Conflict, ValidationError

I, P = InvoiceStatus, PaymentStatus

# Draft -> issued (pending) -> paid is the normal path. Void cancels an unpaid invoice; an invoice
# written off as uncollectible may still be paid late or voided. Paid and void are final.
INVOICE_TRANSITIONS: dict[InvoiceStatus, frozenset[InvoiceStatus]] = {
    I.DRAFT: frozenset({I.PENDING, I.VOID}),
    I.PENDING: frozenset({I.PAID, I.VOID, I.UNCOLLECTIBLE}),
    I.UNCOLLECTIBLE: frozenset({I.PAID, I.VOID}),
    I.PAID: frozenset(),
    I.VOID: frozenset(),
}

# A manual or bank-transfer payment waits for approval; a succeeded payment may be refunded.
PAYMENT_TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    P.PENDING_APPROVAL: frozenset({P.SUCCEEDED, P.FAILED}),
    P.SUCCEEDED: frozenset({P.REFUNDED}),
    P.FAILED: frozenset(),
    P.REFUNDED: frozenset(),
}

NUMBER_RE = re.compile(r"^INV-(\d{6})-(\d{4,})$")
MAX_LINE_QUANTITY = 1_000_000
MAX_UNIT_PRICE_CENTS = 100_000_000  # $1M per unit is plenty; guards against typos


def can_transition_invoice(current: InvoiceStatus | str, target: InvoiceStatus | str) -> bool:
    return InvoiceStatus(target) in INVOICE_TRANSITIONS[InvoiceStatus(current)]


def check_invoice_transition(current: InvoiceStatus | str, target: InvoiceStatus | str) -> InvoiceStatus:
    current, target = InvoiceStatus(current), InvoiceStatus(target)
    if target not in INVOICE_TRANSITIONS[current]:
        raise Conflict(f"An invoice that is {current.value} cannot become {target.value}.")
    return target


def check_payment_transition(current: PaymentStatus | str, target: PaymentStatus | str) -> PaymentStatus:
    current, target = PaymentStatus(current), PaymentStatus(target)
    if target not in PAYMENT_TRANSITIONS[current]:
        raise Conflict(f"A payment that is {current.value.replace('_', ' ')} cannot become "
                       f"{target.value.replace('_', ' ')}.")
    return target


def period_of(when: datetime) -> str:
    """The numbering period (UTC month) of a moment: ``YYYYMM``."""
    if when.tzinfo is None:
        raise ValueError("naive datetime given; use timezone-aware UTC")
    return when.astimezone(timezone.utc).strftime("%Y%m")


def invoice_number(period: str, sequence: int) -> str:
    if not re.fullmatch(r"\d{6}", period) or sequence < 1:
        raise ValueError("bad invoice period or sequence")
    return f"INV-{period}-{sequence:04d}"


def parse_invoice_number(number: str) -> tuple[str, int]:
    m = NUMBER_RE.match(number or "")
    if not m:
        raise ValueError(f"not an invoice number: {number!r}")
    return m.group(1), int(m.group(2))


@dataclass(frozen=True)
class Line:
    description: str
    quantity: int
    unit_price_cents: int

    @property
    def amount_cents(self) -> int:
        return self.quantity * self.unit_price_cents


def check_line(line: Line) -> Line:
    if not line.description or not line.description.strip():
        raise ValidationError("Every invoice line needs a description.")
    if not 1 <= line.quantity <= MAX_LINE_QUANTITY:
        raise ValidationError(f"A line quantity must be between 1 and {MAX_LINE_QUANTITY:,}.")
    if not 0 <= line.unit_price_cents <= MAX_UNIT_PRICE_CENTS:
        raise ValidationError("A unit price must be between 0 and 1,000,000.00.")
    return line


@dataclass(frozen=True)
class Totals:
    subtotal_cents: int
    tax_cents: int
    total_cents: int


def totals(lines: list[Line], *, tax_rate_bp: int = 0) -> Totals:
    """Sum the lines; tax in basis points, rounded half up to the cent."""
    if not lines:
        raise ValidationError("An invoice needs at least one line.")
    subtotal = sum(check_line(x).amount_cents for x in lines)
    tax = (subtotal * tax_rate_bp + 5_000) // 10_000
    return Totals(subtotal, tax, subtotal + tax)


def format_money(cents: int, currency: str = "USD") -> str:
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(int(cents)), 100)
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}.get(currency.upper())
    return f"{sign}{symbol}{whole:,}.{frac:02d}" if symbol else f"{sign}{whole:,}.{frac:02d} {currency.upper()}"
