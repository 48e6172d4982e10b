"""Invoices on SQLite and PostgreSQL: gap-free numbering (also under concurrency and rollbacks),
billing-profile snapshot, legal transitions, and paying grants credits exactly once."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from sqlmodel import select

from igny8_app import db as dbmod
from igny8_app.domain import invoices as rules
from igny8_app.domain.enums import InvoiceStatus
from igny8_app.domain.errors import Conflict, NotFound
from igny8_app.models import Account, CreditTransaction, Invoice
from igny8_app.services.billing import ledger as billing
from igny8_app.services.billing import invoices
from igny8_app.services.billing.invoice_pdf import render_invoice_pdf
from tests.factories import make_account
from tests.pdf_text import pdf_text, row

LINE = [rules.Line("Custom work", 2, 1_250)]


def _account(**profile) -> int:
    with dbmod.write_session() as s:
        a = make_account(s)
        for k, v in profile.items():
            setattr(a, k, v)
        s.add(a)
        return a.id


def test_numbers_are_sequential_per_month_and_restart_each_month(db):
    aid = _account()
    with dbmod.write_session() as s:
        jan = [invoices.next_number(session=s, when=datetime(2026, 1, d, tzinfo=timezone.utc)) for d in (1, 15, 31)]
        feb = invoices.next_number(session=s, when=datetime(2026, 2, 1, tzinfo=timezone.utc))
        inv = invoices.create_invoice(session=s, account_id=aid, lines=LINE, credits=10)
    assert jan == ["INV-202601-0001", "INV-202601-0002", "INV-202601-0003"]
    assert feb == "INV-202602-0001"
    assert rules.NUMBER_RE.match(inv.number)
    assert (inv.subtotal_cents, inv.total_cents, inv.status) == (2_500, 2_500, "pending")


def test_billing_profile_is_snapshotted(db):
    aid = _account(company="Acme GmbH", country="DE", tax_id="DE123456789", billing_email="ap@acme.example")
    with dbmod.write_session() as s:
        inv = invoices.create_invoice(session=s, account_id=aid, lines=LINE)
        s.get(Account, aid).company = "Renamed Later"
    with dbmod.read_session() as s:
        view = invoices.get_invoice(session=s, invoice_id=inv.id, account_id=aid)
        assert view.invoice.billing_snapshot["company"] == "Acme GmbH"
        assert view.invoice.billing_snapshot["tax_id"] == "DE123456789"
        assert [(x.description, x.quantity, x.amount_cents) for x in view.lines] == [("Custom work", 2, 2_500)]


def test_concurrent_invoices_get_gap_free_numbers_even_with_rollbacks(db):
    aid = _account()
    n_threads, per_thread = 8, 5
    errors: list[BaseException] = []
    barrier = threading.Barrier(n_threads)

    def worker(i: int) -> None:
        try:
            barrier.wait()
            for j in range(per_thread):
                try:
                    with dbmod.write_session() as s:
                        invoices.create_invoice(session=s, account_id=aid, lines=LINE)
                        if (i + j) % 4 == 0:
                            raise RuntimeError("abandon this invoice")  # rolls its number back
                except RuntimeError:
                    pass
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n_threads)]
    [t.start() for t in threads]
    [t.join(120) for t in threads]
    assert not errors, errors
    with dbmod.read_session() as s:
        numbers = [n for (n,) in s.execute(sa.select(Invoice.number)).all()]
    kept = sum(1 for i in range(n_threads) for j in range(per_thread) if (i + j) % 4 != 0)
    assert len(numbers) == kept
    seqs = sorted(rules.parse_invoice_number(n)[1] for n in numbers)
    assert seqs == list(range(1, kept + 1)), "numbers must be gap-free"


def test_legal_transitions_only_and_void_keeps_the_number(db):
    aid = _account()
    with dbmod.write_session() as s:
        draft = invoices.create_invoice(session=s, account_id=aid, lines=LINE, status="draft")
        assert draft.issued_at is None
        invoices.transition(session=s, invoice_id=draft.id, target="pending")
        assert draft.issued_at is not None
        invoices.transition(session=s, invoice_id=draft.id, target="void", note="duplicate")
    with dbmod.write_session() as s:
        with pytest.raises(Conflict, match="void cannot become paid"):
            invoices.mark_paid(session=s, invoice_id=draft.id)
        with pytest.raises(Conflict, match="void cannot become pending"):
            invoices.transition(session=s, invoice_id=draft.id, target=InvoiceStatus.PENDING)
    with dbmod.read_session() as s:
        inv = s.get(Invoice, draft.id)
        assert (inv.status, inv.note) == ("void", "duplicate") and inv.voided_at is not None


def test_paying_twice_grants_once(db):
    aid = _account()
    with dbmod.write_session() as s:
        inv = invoices.create_invoice(session=s, account_id=aid, lines=LINE, credits=5_000)
    for _ in range(3):
        with dbmod.write_session() as s:
            invoices.mark_paid(session=s, invoice_id=inv.id)
    with dbmod.read_session() as s:
        assert billing.balance(session=s, account_id=aid) == 5_000
        txs = s.exec(select(CreditTransaction).where(CreditTransaction.account_id == aid)).all()
        assert [(t.type, t.amount, t.idempotency_key) for t in txs] == [("purchase", 5_000, f"invoice:{inv.id}:paid")]
        assert billing.reconcile(session=s).ok


def test_uncollectible_can_still_be_paid(db):
    aid = _account()
    with dbmod.write_session() as s:
        inv = invoices.create_invoice(session=s, account_id=aid, lines=LINE, credits=7)
        invoices.transition(session=s, invoice_id=inv.id, target="uncollectible")
        invoices.transition(session=s, invoice_id=inv.id, target="paid")
    with dbmod.read_session() as s:
        assert s.get(Invoice, inv.id).status == "paid"
        assert billing.balance(session=s, account_id=aid) == 7


def test_other_accounts_invoice_is_not_found(db):
    a, b = _account(), _account()
    with dbmod.write_session() as s:
        inv = invoices.create_invoice(session=s, account_id=a, lines=LINE)
    with dbmod.read_session() as s:
        with pytest.raises(NotFound):
            invoices.get_invoice(session=s, invoice_id=inv.id, account_id=b)
        rows, total = invoices.list_invoices(session=s, account_id=b)
        assert (rows, total) == ([], 0)
        rows, total = invoices.list_invoices(session=s, account_id=None)
        assert total == 1 and rows[0]["number"] == inv.number
    with dbmod.write_session() as s:
        with pytest.raises(NotFound):
            invoices.transition(session=s, invoice_id=inv.id, target="void", account_id=b)


def _taxed_invoice_pdf_text(aid: int) -> tuple[str, str]:
    lines = [rules.Line("Content credits pack", 3, 1_900), rules.Line("Onboarding session", 1, 12_500)]
    with dbmod.write_session() as s:
        inv = invoices.create_invoice(session=s, account_id=aid, lines=lines, credits=3_000)
        inv.tax_cents, inv.total_cents = 3_640, inv.subtotal_cents + 3_640  # 20% VAT as a taxed invoice says
        number = inv.number
        s.add(inv)
    with dbmod.read_session() as s:
        view = invoices.get_invoice(session=s, invoice_id=inv.id, account_id=aid)
        return number, pdf_text(render_invoice_pdf(view))


def test_invoice_pdf_says_the_number_lines_totals_and_billing_details(db):
    aid = _account(name="Alpha Co", company="Acme GmbH", address="Hauptstrasse 5\n10115 Berlin", country="DE",
                   tax_id="DE123456789", billing_email="ap@acme.example")
    number, text = _taxed_invoice_pdf_text(aid)
    assert number in text and "INVOICE" in text and "PENDING" in text
    # the lines: description, quantity, unit price, amount on one row each
    assert row("Content credits pack", "3", "$19.00", "$57.00").search(text), text
    assert row("Onboarding session", "1", "$125.00", "$125.00").search(text), text
    # the totals
    assert row("Subtotal", "$182.00").search(text), text
    assert row("Tax", "$36.40").search(text), text
    assert row("Total", "$218.40").search(text), text
    # who is billed: the snapshot of the billing profile, and the account name
    for detail in ("Acme GmbH", "Account: Alpha Co", "Hauptstrasse 5", "10115 Berlin", "DE",
                   "Tax ID: DE123456789", "ap@acme.example", "CREDITS", "3,000"):
        assert detail in text, (detail, text)


def test_the_pdf_text_check_catches_a_wrong_total(db, monkeypatch):
    """The assertions above are not vacuous: a PDF that prints the subtotal as the total fails them."""
    from igny8_app.services.billing import invoice_pdf

    real = invoice_pdf.format_money
    monkeypatch.setattr(invoice_pdf, "format_money", lambda cents, cur="USD": real(cents + (cents == 21_840), cur))
    aid = _account(name="Alpha Co")
    _, text = _taxed_invoice_pdf_text(aid)
    assert row("Subtotal", "$182.00").search(text)
    assert not row("Total", "$218.40").search(text) and row("Total", "$218.41").search(text), text
