"""The billing and admin REST APIs and the cookie-authenticated downloads: 401/403/404 rules,
nothing from another account leaks, PDF and CSV downloads, approvals."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from igny8_app import db as dbmod
from igny8_app.api import admin_routes, billing_routes, files
from igny8_app.api.common import SESSION_COOKIE
from igny8_app.domain.costs import Usage
from igny8_app.domain.enums import Role
from igny8_app.services.accounts import access as accounts
from igny8_app.services.billing import ledger as billing
from igny8_app.services.billing import payments
from tests.factories import PASSWORD, make_account, make_site, make_user
from tests.pdf_text import assert_invoice_pdf


@pytest.fixture
def world(db):
    with dbmod.write_session() as s:
        a, b = make_account(s, "Alpha Co", credits=1_000), make_account(s, "Beta Co", credits=2_000)
        site = make_site(s, a)
        billing.charge(session=s, account_id=a.id, operation_type="ideas", usage=Usage(items=3),
                       idempotency_key="c1", site_id=site.id, description="=cmd|' /C calc'!A0")
        users = {}
        for name, acct, role, su in [("owner", a, Role.OWNER, False), ("admin", a, Role.ADMIN, False),
                                     ("editor", a, Role.EDITOR, False), ("viewer", a, Role.VIEWER, False),
                                     ("rival", b, Role.OWNER, False), ("root", None, Role.OWNER, True)]:
            u = make_user(s, account=acct.name if acct else None, role=role, superuser=su)
            _, tok = accounts.create_api_token(session=s, user_id=u.id)
            users[name] = {"id": u.id, "email": u.email, "token": tok}
        inv_a, pay_a = payments.buy_package(session=s, account_id=a.id, package_id=1)
        inv_b, _ = payments.buy_package(session=s, account_id=b.id, package_id=1)
        ids = {"a": a.id, "b": b.id, "inv_a": inv_a.id, "inv_b": inv_b.id, "pay_a": pay_a.id}
    app = Starlette(routes=[*billing_routes.routes, *admin_routes.routes, *files.routes])
    return {"client": TestClient(app), "users": users, **ids}


def get(w, user, path, **params):
    headers = {"Authorization": f"Bearer {w['users'][user]['token']}"} if user else {}
    return w["client"].get(path, headers=headers, params=params)


def post(w, user, path, body=None):
    return w["client"].post(path, headers={"Authorization": f"Bearer {w['users'][user]['token']}"}, json=body or {})


ENDPOINTS = ["balance", "transactions", "usage", "invoices", "payments", "credit-packages"]


@pytest.mark.parametrize("ep", ENDPOINTS)
def test_billing_auth_rules(world, ep):
    url = f"/api/v1/billing/{ep}"
    assert get(world, None, url).status_code == 401
    assert get(world, None, url).json()["error"] == "unauthenticated"
    assert get(world, "viewer", url).status_code == 403
    assert get(world, "editor", url).status_code == 403
    assert get(world, "rival", url, account_id=world["a"]).status_code == 404  # another account: not found
    for who in ("owner", "admin"):
        r = get(world, who, url)
        assert r.status_code == 200, r.text
        assert "Beta Co" not in r.text
    assert get(world, "root", url, account_id=world["a"]).status_code == 200
    assert get(world, "owner", url + "/").status_code == 200
    assert world["client"].delete(url).status_code in (401, 405)


def test_balance_transactions_and_invoices_content(world):
    r = get(world, "owner", "/api/v1/billing/balance").json()
    assert r["balance"] == 994 and r["used_this_month"] == 6
    r = get(world, "owner", "/api/v1/billing/transactions", per_page=1).json()
    assert r["total"] == 2 and len(r["results"]) == 1 and r["credits_used"] == 6
    r = get(world, "owner", "/api/v1/billing/invoices").json()
    assert [x["id"] for x in r["results"]] == [world["inv_a"]]
    r = get(world, "owner", f"/api/v1/billing/invoices/{world['inv_a']}").json()
    assert r["lines"][0]["amount"] == "$19.00" and r["billing_profile"]["account"] == "Alpha Co"
    invoice_a = r
    assert get(world, "owner", f"/api/v1/billing/invoices/{world['inv_b']}").status_code == 404
    assert get(world, "owner", f"/api/v1/billing/invoices/{world['inv_b']}/pdf").status_code == 404
    pdf = get(world, "owner", f"/api/v1/billing/invoices/{world['inv_a']}/pdf")
    assert pdf.status_code == 200
    assert_invoice_pdf(pdf.content, invoice_a)  # its text: number, lines, totals, billed account
    assert get(world, "owner", "/api/v1/billing/transactions", **{"from": "bad"}).status_code == 422


def test_buy_then_admin_approves_twice_grants_once(world):
    r = post(world, "owner", "/api/v1/billing/payments/buy", {"package_id": 1})
    assert r.status_code == 201, r.text
    pay = r.json()["payment"]
    assert r.json()["bank_instructions"]["reference"] == pay["reference"]
    assert post(world, "owner", f"/api/v1/admin/payments/{pay['id']}/approve").status_code == 403
    for _ in range(2):
        assert post(world, "root", f"/api/v1/admin/payments/{pay['id']}/approve", {"note": "ok"}).status_code == 200
    assert get(world, "owner", "/api/v1/billing/balance").json()["balance"] == 994 + 1_000
    assert post(world, "owner", "/api/v1/billing/payments/buy", {"package_id": "x"}).status_code == 422


ADMIN_GETS = ["accounts", "credit-costs", "payments", "invoices", "credit-packages"]


@pytest.mark.parametrize("ep", ADMIN_GETS)
def test_admin_api_is_superuser_only(world, ep):
    url = f"/api/v1/admin/{ep}"
    assert get(world, None, url).status_code == 401
    for who in ("owner", "admin", "viewer", "rival"):
        assert get(world, who, url).status_code == 403
    assert get(world, "root", url).status_code == 200


def test_admin_actions(world):
    r = post(world, "root", f"/api/v1/admin/accounts/{world['b']}/adjust",
             {"amount": "-500", "reason": "Goodwill correction", "idempotency_key": "k-1"})
    assert r.status_code == 201 and r.json()["balance_after"] == 1_500
    again = post(world, "root", f"/api/v1/admin/accounts/{world['b']}/adjust",
                 {"amount": "-500", "reason": "Goodwill correction", "idempotency_key": "k-1"})
    assert again.json()["balance_after"] == 1_500  # idempotent
    assert post(world, "root", f"/api/v1/admin/accounts/{world['b']}/adjust",
                {"amount": "5", "reason": " ", "idempotency_key": "k-2"}).status_code == 422
    assert post(world, "owner", f"/api/v1/admin/accounts/{world['a']}/adjust",
                {"amount": "5", "reason": "x", "idempotency_key": "k-3"}).status_code == 403
    r = post(world, "root", "/api/v1/admin/credit-costs/ideas", {"credits_cost": 3, "unit": "per_item"})
    assert r.status_code == 200 and r.json()["credits_cost"] == 3
    costs = get(world, "root", "/api/v1/admin/credit-costs").json()
    assert costs["audit"][0]["change"] == "credits_cost: 2 → 3"
    assert post(world, "root", f"/api/v1/admin/invoices/{world['inv_b']}/void").json()["status"] == "void"
    assert post(world, "root", f"/api/v1/admin/invoices/{world['inv_b']}/mark-paid").status_code == 409
    r = post(world, "root", "/api/v1/admin/credit-packages/new", {"name": "Mega", "credits": 100000, "price": "899"})
    assert r.status_code == 201 and r.json()["price"] == "$899.00"


def _cookie(w, who):
    with dbmod.write_session() as s:
        _, token = accounts.login(session=s, email=w["users"][who]["email"], password=PASSWORD)
    return {SESSION_COOKIE: token}


def test_cookie_downloads(world):
    c = world["client"]
    url = f"/files/invoices/{world['inv_a']}.pdf"
    assert c.get(url).status_code == 401
    c.cookies.update(_cookie(world, "rival"))
    assert c.get(url).status_code == 404
    assert c.get("/files/usage.csv", params={"account_id": world["a"]}).status_code == 404
    c.cookies.update(_cookie(world, "viewer"))
    assert c.get(url).status_code == 404
    c.cookies.update(_cookie(world, "owner"))
    r = c.get(url)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert_invoice_pdf(r.content, get(world, "owner", f"/api/v1/billing/invoices/{world['inv_a']}").json())
    r = c.get("/files/usage.csv", params={"account_id": world["a"]})
    assert r.status_code == 200
    lines = r.text.splitlines()
    assert lines[0].startswith("id,date,type") and len(lines) == 3
    assert "'=cmd" in r.text
    for bad in ("²", str(2**31), str(2**63), ""):  # int('²') raised, 2^63 overflowed PostgreSQL: 500s
        assert c.get("/files/usage.csv", params={"account_id": bad}).status_code == 404, bad
    c.cookies.update(_cookie(world, "root"))
    assert c.get(f"/files/invoices/{world['inv_b']}.pdf").status_code == 200


def test_admin_sets_tokens_per_credit_and_minimum_and_charges_follow(world):
    """Per-token prices need tokens_per_credit and a floor: both are editable, validated, audited,
    and what the next charge uses."""
    from igny8_app.domain.costs import Usage, credits_for
    from igny8_app.services.billing import ledger as billing

    url = "/api/v1/admin/credit-costs/content"
    r = post(world, "root", url, {"credits_cost": 2, "unit": "per_1k_tokens", "tokens_per_credit": "500",
                                  "min_credits": 3})
    assert r.status_code == 200, r.text
    assert r.json() == {"operation_type": "content", "credits_cost": 2, "unit": "per_1k_tokens",
                        "tokens_per_credit": 500, "min_credits": 3, "is_active": True}
    with dbmod.read_session() as s:
        rule = billing.cost_rule(s, "content")
    assert (rule.tokens_per_credit, rule.min_credits) == (500, 3)
    assert credits_for(rule, Usage(tokens_in=4_000, tokens_out=1_000)) > credits_for(rule, Usage(tokens_in=10)) >= 3
    assert credits_for(rule, Usage(tokens_in=1)) == 3  # the floor
    listed = {c["operation_type"]: c for c in get(world, "root", "/api/v1/admin/credit-costs").json()["results"]}
    assert (listed["content"]["tokens_per_credit"], listed["content"]["min_credits"]) == (500, 3)
    audit = get(world, "root", "/api/v1/admin/credit-costs").json()["audit"][0]["change"]
    assert "tokens_per_credit: None → 500" in audit and "min_credits: " in audit and "→ 3" in audit
    # absent fields stay; null restores the default; bad values are refused with a message
    r = post(world, "root", url, {"credits_cost": 2, "unit": "per_1k_tokens"})
    assert (r.json()["tokens_per_credit"], r.json()["min_credits"]) == (500, 3)
    r = post(world, "root", url, {"credits_cost": 2, "unit": "per_1k_tokens", "tokens_per_credit": None})
    assert r.json()["tokens_per_credit"] is None
    for bad in ({"tokens_per_credit": 0}, {"tokens_per_credit": "1e3"}, {"tokens_per_credit": 1_000_001},
                {"min_credits": -1}, {"min_credits": "²"}, {"min_credits": 10_001}):
        r = post(world, "root", url, {"credits_cost": 2, "unit": "per_1k_tokens", **bad})
        assert r.status_code == 422 and next(iter(bad)) in r.json()["detail"], (bad, r.text)
    assert post(world, "owner", url, {"credits_cost": 2, "unit": "per_item", "min_credits": 0}).status_code == 403
