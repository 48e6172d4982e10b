"""Admin lists page on the server (accounts with search, payments, invoices), the approval queue
holds manual payments only, and the billing settings' payment methods on file."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from igny8_app import db as dbmod
from igny8_app.api import admin_routes
from igny8_app.domain.enums import PaymentMethod
from igny8_app.models import Payment
from igny8_app.components.format import fmt_int
from igny8_app.services.accounts import access as accounts
from igny8_app.services.billing import admin as admin_billing
from igny8_app.services.billing import invoices
from igny8_app.services.billing import payments
from tests.factories import make_account, make_user


@pytest.fixture
def many(db):
    with dbmod.write_session() as s:
        root = make_user(s, superuser=True)
        _, token = accounts.create_api_token(session=s, user_id=root.id)
        ids = [make_account(s, f"Paging {i:02d}", credits=1_000 * i).id for i in range(31)]
        for aid in ids[:7]:
            payments.buy_package(session=s, account_id=aid, package_id=1)
        card_inv, card_pay = payments.buy_package(session=s, account_id=ids[7], package_id=1,
                                                  method=PaymentMethod.MANUAL)
        card_pay.method = PaymentMethod.STRIPE.value  # as a card checkout leaves it (configured or not)
        s.add(card_pay)
    return {"root": root.id, "token": token, "ids": ids, "card_pay": card_pay.id}


def test_accounts_page_by_page_with_search(many):
    with dbmod.read_session() as s:
        total = admin_billing.count_accounts(session=s, admin_user_id=many["root"])
        pages = [admin_billing.accounts_overview(session=s, admin_user_id=many["root"], limit=10, offset=o)
                 for o in range(0, total + 10, 10)]
        seen = [a["id"] for page in pages for a in page]
        assert len(seen) == len(set(seen)) == total >= 31  # every account once, none twice
        assert [len(p) for p in pages][:3] == [10, 10, 10]
        assert admin_billing.count_accounts(session=s, admin_user_id=many["root"], search="paging 1") == 10
        hits = admin_billing.accounts_overview(session=s, admin_user_id=many["root"], search="Paging 1", limit=4,
                                               offset=8)
        assert [a["name"] for a in hits] == ["Paging 18", "Paging 19"]


def test_admin_api_pages_accounts(many):
    client = TestClient(Starlette(routes=admin_routes.routes))
    h = {"Authorization": f"Bearer {many['token']}"}
    r = client.get("/api/v1/admin/accounts", headers=h, params={"per_page": 5, "page": 2, "search": "paging"}).json()
    assert (r["page"], r["per_page"], r["total"]) == (2, 5, 31)
    assert [a["name"] for a in r["results"]] == [f"Paging {i:02d}" for i in range(5, 10)]
    assert client.get("/api/v1/admin/accounts", headers=h, params={"per_page": 500}).status_code == 422


def test_approval_queue_is_manual_payments_only_and_pages(many):
    with dbmod.read_session() as s:
        rows, total = payments.list_payments(session=s, account_id=None, status="pending_approval",
                                             methods=(PaymentMethod.BANK_TRANSFER, PaymentMethod.MANUAL), limit=3)
        assert total == 7 and len(rows) == 3 and all(r["method"] == "bank_transfer" for r in rows)
        rest, _ = payments.list_payments(session=s, account_id=None, status="pending_approval",
                                         methods=(PaymentMethod.BANK_TRANSFER,), limit=10, offset=3)
        assert len(rest) == 4 and not {r["id"] for r in rows} & {r["id"] for r in rest}
        everything, n = payments.list_payments(session=s, account_id=None, status="pending_approval")
        assert n == 8 and many["card_pay"] in {r["id"] for r in everything}
        others, n = payments.list_payments(session=s, account_id=None, exclude_queue=True)
        assert n == 1 and [r["id"] for r in others] == [many["card_pay"]]  # a card checkout still open
        inv_rows, inv_total = invoices.list_invoices(session=s, account_id=None, limit=5, offset=5)
        assert inv_total == 8 and len(inv_rows) == 3


def test_payment_methods_on_file(many):
    aid = many["ids"][7]
    with dbmod.write_session() as s:
        assert payments.methods_on_file(session=s, account_id=aid) == {
            "bank_reference": "", "bank_date": "", "card_payments": "0", "card_last": ""}
        pay = s.get(Payment, many["card_pay"])
        pay.status = "succeeded"
        s.add(pay)
        _, bank = payments.buy_package(session=s, account_id=aid, package_id=1)
        ref = bank.reference
    with dbmod.read_session() as s:
        m = payments.methods_on_file(session=s, account_id=aid)
    assert m["bank_reference"] == ref and m["card_payments"] == "1" and m["card_last"].startswith("$")


def test_fmt_int():
    assert [fmt_int(0), fmt_int(1234567), fmt_int(-5000), fmt_int(5000, signed=True), fmt_int(0, signed=True),
            fmt_int(-12, signed=True), fmt_int(None)] == ["0", "1,234,567", "-5,000", "+5,000", "0", "-12", "0"]


def test_cost_audit_figures_have_thousands_separators(many):
    with dbmod.write_session() as s:
        admin_billing.update_cost(session=s, admin_user_id=many["root"], operation_type="ideas", credits_cost="1500",
                                  unit="per_item", is_active=False)
    with dbmod.read_session() as s:
        (entry,) = admin_billing.cost_audit(session=s)
    assert entry["change"] == "credits_cost: 2 → 1,500; is_active: True → False"
