"""Buying a credit package and platform approval, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import select

from igny8_app import db as dbmod
from igny8_app.domain.errors import Conflict, Forbidden, NotFound, ValidationError
from igny8_app.models import CreditPackage, CreditTransaction, Invoice, Payment
from igny8_app.services.billing import ledger as billing
from igny8_app.services.billing import payments
from tests.factories import make_account, make_user


@pytest.fixture
def setup(db):
    with dbmod.write_session() as s:
        account = make_account(s)
        admin = make_user(s, superuser=True)
        owner = make_user(s, account=account.name)
        pkg = s.exec(select(CreditPackage).where(CreditPackage.credits == 5_000)).one()
        return {"account": account.id, "admin": admin.id, "owner": owner.id, "package": pkg.id,
                "price": pkg.price_cents}


def _buy(setup, method="bank_transfer"):
    with dbmod.write_session() as s:
        inv, pay = payments.buy_package(session=s, account_id=setup["account"], package_id=setup["package"],
                                        method=method)
        return inv.id, pay.id


def test_buying_creates_a_pending_invoice_and_payment_with_instructions(setup):
    inv_id, pay_id = _buy(setup)
    with dbmod.read_session() as s:
        inv, pay = s.get(Invoice, inv_id), s.get(Payment, pay_id)
        assert (inv.status, inv.type, inv.credits, inv.total_cents) == ("pending", "credit_package", 5_000,
                                                                          setup["price"])
        assert (pay.status, pay.method, pay.amount_cents) == ("pending_approval", "bank_transfer", setup["price"])
        assert pay.reference.startswith("IGNY8-") and len(pay.reference) == 21
        info = payments.bank_instructions(pay)
        assert info["reference"] == pay.reference and info["iban"] and info["amount"] == "$79.00"
        assert billing.balance(session=s, account_id=setup["account"]) == 0  # nothing until approved
        reference = pay.reference
    other_inv, other_pay = _buy(setup)
    with dbmod.read_session() as s:
        assert s.get(Payment, other_pay).reference != reference


def test_approving_twice_grants_once(setup):
    inv_id, pay_id = _buy(setup)
    for _ in range(2):
        with dbmod.write_session() as s:
            payments.approve(session=s, payment_id=pay_id, admin_user_id=setup["admin"], note="received")
    with dbmod.read_session() as s:
        assert s.get(Payment, pay_id).status == "succeeded"
        assert s.get(Invoice, inv_id).status == "paid"
        assert billing.balance(session=s, account_id=setup["account"]) == 5_000
        keys = [t.idempotency_key for t in s.exec(select(CreditTransaction)
                                                  .where(CreditTransaction.account_id == setup["account"]))]
        assert keys == [f"invoice:{inv_id}:paid"]


def test_concurrent_approvals_grant_once(setup):
    _, pay_id = _buy(setup)
    errors = []

    def approve():
        try:
            with dbmod.write_session() as s:
                payments.approve(session=s, payment_id=pay_id, admin_user_id=setup["admin"])
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=approve) for _ in range(6)]
    [t.start() for t in threads]
    [t.join(60) for t in threads]
    assert not errors, errors
    with dbmod.read_session() as s:
        assert billing.balance(session=s, account_id=setup["account"]) == 5_000
        assert billing.reconcile(session=s).ok


def test_only_superusers_approve_or_reject(setup):
    _, pay_id = _buy(setup)
    with dbmod.write_session() as s:
        with pytest.raises(Forbidden):
            payments.approve(session=s, payment_id=pay_id, admin_user_id=setup["owner"])
        with pytest.raises(Forbidden):
            payments.reject(session=s, payment_id=pay_id, admin_user_id=setup["owner"], note="no")
    with dbmod.read_session() as s:
        assert s.get(Payment, pay_id).status == "pending_approval"


def test_reject_needs_a_note_voids_the_invoice_and_cannot_be_approved_later(setup):
    inv_id, pay_id = _buy(setup)
    with dbmod.write_session() as s:
        with pytest.raises(ValidationError, match="why"):
            payments.reject(session=s, payment_id=pay_id, admin_user_id=setup["admin"], note="  ")
    with dbmod.write_session() as s:
        payments.reject(session=s, payment_id=pay_id, admin_user_id=setup["admin"], note="No transfer arrived")
    with dbmod.write_session() as s:
        with pytest.raises(Conflict):
            payments.approve(session=s, payment_id=pay_id, admin_user_id=setup["admin"])
    with dbmod.read_session() as s:
        assert s.get(Payment, pay_id).note == "No transfer arrived"
        assert s.get(Invoice, inv_id).status == "void"
        assert billing.balance(session=s, account_id=setup["account"]) == 0


def test_inactive_or_unknown_package_and_card_method_are_refused(setup):
    with dbmod.write_session() as s:
        s.get(CreditPackage, setup["package"]).is_active = False
    with dbmod.write_session() as s:
        with pytest.raises(NotFound):
            payments.buy_package(session=s, account_id=setup["account"], package_id=setup["package"])
        with pytest.raises(NotFound):
            payments.buy_package(session=s, account_id=setup["account"], package_id=99_999)
        with pytest.raises(ValidationError):
            payments.buy_package(session=s, account_id=setup["account"], package_id=setup["package"], method="stripe")
        with pytest.raises(ValidationError):
            payments.buy_package(session=s, account_id=setup["account"], package_id=setup["package"], method="cash")


def test_listing_is_scoped(setup):
    _buy(setup)
    with dbmod.write_session() as s:
        other = make_account(s)
    with dbmod.read_session() as s:
        assert payments.list_payments(session=s, account_id=other.id) == ([], 0)
        rows, total = payments.list_payments(session=s, account_id=None, status="pending_approval")
        assert total == 1 and rows[0]["invoice_number"].startswith("INV-")
