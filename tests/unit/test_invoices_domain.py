"""Invoice rules: legal transitions only, numbering format, line and total maths."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from igny8_app.domain import invoices as rules
from igny8_app.domain.enums import InvoiceStatus as I, PaymentStatus as P
from igny8_app.domain.errors import Conflict, ValidationError

LEGAL = {
    (I.DRAFT, I.PENDING), (I.DRAFT, I.VOID),
    (I.PENDING, I.PAID), (I.PENDING, I.VOID), (I.PENDING, I.UNCOLLECTIBLE),
    (I.UNCOLLECTIBLE, I.PAID), (I.UNCOLLECTIBLE, I.VOID),
}


@pytest.mark.parametrize("current", list(I))
@pytest.mark.parametrize("target", list(I))
def test_every_invoice_transition_is_legal_or_refused(current, target):
    if (current, target) in LEGAL:
        assert rules.check_invoice_transition(current, target) is target
        assert rules.can_transition_invoice(current.value, target.value)
    else:
        with pytest.raises(Conflict, match=f"{current.value} cannot become {target.value}"):
            rules.check_invoice_transition(current, target)


def test_paid_and_void_are_final():
    assert rules.INVOICE_TRANSITIONS[I.PAID] == frozenset()
    assert rules.INVOICE_TRANSITIONS[I.VOID] == frozenset()


@pytest.mark.parametrize("current,target,ok", [
    (P.PENDING_APPROVAL, P.SUCCEEDED, True), (P.PENDING_APPROVAL, P.FAILED, True),
    (P.SUCCEEDED, P.REFUNDED, True), (P.SUCCEEDED, P.FAILED, False), (P.FAILED, P.SUCCEEDED, False),
    (P.REFUNDED, P.SUCCEEDED, False), (P.PENDING_APPROVAL, P.REFUNDED, False),
])
def test_payment_transitions(current, target, ok):
    if ok:
        assert rules.check_payment_transition(current, target) is target
    else:
        with pytest.raises(Conflict):
            rules.check_payment_transition(current, target)


def test_numbering_is_per_utc_month():
    late = datetime(2026, 1, 31, 23, 30, tzinfo=timezone(timedelta(hours=-5)))  # Feb 1st in UTC
    assert rules.period_of(late) == "202602"
    assert rules.invoice_number("202602", 7) == "INV-202602-0007"
    assert rules.invoice_number("202602", 12345) == "INV-202602-12345"
    assert rules.parse_invoice_number("INV-202602-0007") == ("202602", 7)
    with pytest.raises(ValueError):
        rules.period_of(datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        rules.invoice_number("2026-1", 1)
    with pytest.raises(ValueError):
        rules.parse_invoice_number("INV-2026-01")


def test_totals_and_tax_rounding():
    lines = [rules.Line("Growth 5,000", 1, 7_900), rules.Line("Extra", 3, 333)]
    t = rules.totals(lines)
    assert (t.subtotal_cents, t.tax_cents, t.total_cents) == (8_899, 0, 8_899)
    t = rules.totals([rules.Line("x", 1, 1_000)], tax_rate_bp=2_000)  # 20 %
    assert (t.tax_cents, t.total_cents) == (200, 1_200)
    assert rules.totals([rules.Line("x", 1, 5)], tax_rate_bp=1_000).tax_cents == 1  # 0.5 rounds up


@pytest.mark.parametrize("line,msg", [
    (rules.Line(" ", 1, 100), "description"), (rules.Line("x", 0, 100), "quantity"),
    (rules.Line("x", 1, -1), "unit price"),
])
def test_bad_lines_are_refused(line, msg):
    with pytest.raises(ValidationError, match=msg):
        rules.totals([line])
    with pytest.raises(ValidationError, match="at least one line"):
        rules.totals([])


def test_money_format():
    assert rules.format_money(790_000) == "$7,900.00"
    assert rules.format_money(-5, "EUR") == "-€0.05"
    assert rules.format_money(100, "CHF") == "1.00 CHF"
