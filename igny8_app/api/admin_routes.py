"""REST API for platform admins: ``/api/v1/admin/…`` (superusers only; anyone else gets 403).

Same conventions as the billing API: bearer token, JSON errors, JSON bodies for POST, every path
with and without a trailing slash.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.datastructures import QueryParams
from starlette.routing import Route

from igny8_app.api import openapi_billing as doc
from igny8_app.api.billing_routes import (
    _ANY_METHOD,
    Call,
    body_bool,
    body_text,
    body_whole,
    endpoint,
    enum_param,
    page_params,
    path_id,
)
from igny8_app.db import read_session, write_session
from igny8_app.domain.enums import CostUnit, InvoiceStatus, OperationType, PaymentStatus
from igny8_app.domain.errors import Forbidden, NotFound, ValidationError
from igny8_app.services.accounts import access as accounts
from igny8_app.services.automation import estimate as run_estimate
from igny8_app.services.billing import admin as admin_billing
from igny8_app.services.billing import ledger as billing
from igny8_app.services.billing import invoices
from igny8_app.services.billing import payments

PREFIX = "/api/v1/admin"


def authorize_admin(token: str | None, params: QueryParams, path: dict, body: dict) -> Call:
    with write_session() as s:
        user = accounts.resolve_api_token(session=s, token=token)
        if not user.is_superuser:
            raise Forbidden("Only platform admins may use the admin API.")
        return Call(user.id, 0, params, path, body)


def _accounts(c: Call) -> Any:
    page, per_page = page_params(c)
    search = c.params.get("search", "")
    if len(search) > doc.MAX_SEARCH:
        raise ValidationError(f"'search' is too long (at most {doc.MAX_SEARCH} characters).")
    with read_session() as s:
        rows = admin_billing.accounts_overview(session=s, admin_user_id=c.user_id, search=search, limit=per_page,
                                               offset=(page - 1) * per_page)
        total = admin_billing.count_accounts(session=s, admin_user_id=c.user_id, search=search)
    return {"page": page, "per_page": per_page, "total": total, "results": rows}


def _adjust(c: Call) -> Any:
    with write_session() as s:
        return 201, admin_billing.adjust_credits(
            session=s, admin_user_id=c.user_id, account_id=path_id(c, "account_id", "Account"),
            amount=body_whole(c.body, "amount", doc.AMOUNT_PATTERN, -10_000_000, 10_000_000, not_zero=True),
            reason=body_text(c.body, "reason", required=True, pattern=doc.REQUIRED_TEXT_PATTERN),
            idempotency_key=body_text(c.body, "idempotency_key", required=True, max_len=150,
                                      pattern=doc.KEY_PATTERN))


def _credit_costs(c: Call) -> Any:
    with read_session() as s:
        costs = [{**_cost_row(x), "display_name": x.display_name} for x in billing.list_cost_configs(session=s)]
        return {"results": costs, "audit": admin_billing.cost_audit(session=s),
                "typical_run": run_estimate.typical_run_cost(s)}


def _update_cost(c: Call) -> Any:
    operation = c.path["operation"]
    if operation not in [o.value for o in OperationType]:
        raise NotFound("No cost is configured for that operation.")
    cost = body_whole(c.body, "credits_cost", doc.COST_PATTERN, 0, admin_billing.MAX_COST)
    unit = c.body.get("unit")
    if unit not in [u.value for u in CostUnit]:
        raise ValidationError(f"'unit' must be one of: {', '.join(u.value for u in CostUnit)}.")
    optional = {}
    if "tokens_per_credit" in c.body:  # null: the default (1,000 tokens buy a credit)
        optional["tokens_per_credit"] = None if c.body["tokens_per_credit"] is None else body_whole(
            c.body, "tokens_per_credit", doc.TOKENS_PATTERN, 1, admin_billing.MAX_TOKENS_PER_CREDIT)
    if "min_credits" in c.body:
        optional["min_credits"] = body_whole(c.body, "min_credits", doc.COST_PATTERN, 0, admin_billing.MAX_COST)
    with write_session() as s:
        cfg = admin_billing.update_cost(session=s, admin_user_id=c.user_id, operation_type=operation,
                                        credits_cost=cost, unit=unit, is_active=body_bool(c.body, "is_active", True),
                                        **optional)
        return _cost_row(cfg)


def _cost_row(x: Any) -> dict[str, Any]:
    return {"operation_type": x.operation_type, "credits_cost": x.credits_cost, "unit": x.unit,
            "tokens_per_credit": x.tokens_per_credit, "min_credits": x.min_credits, "is_active": x.is_active}


def _payments(c: Call) -> Any:
    page, per_page = page_params(c)
    with read_session() as s:
        rows, total = payments.list_payments(session=s, account_id=None,
                                             status=enum_param(c.params, "status", [x.value for x in PaymentStatus]),
                                             limit=per_page, offset=(page - 1) * per_page)
    return {"page": page, "per_page": per_page, "total": total, "results": rows}


def _review(approve: bool):  # noqa: ANN202
    def handle(c: Call) -> Any:
        payment_id = path_id(c, "payment_id", "Payment")
        note = (body_text(c.body, "note", required=False) if approve
                else body_text(c.body, "note", required=True, pattern=doc.REQUIRED_TEXT_PATTERN))
        with write_session() as s:
            if approve:
                p = payments.approve(session=s, payment_id=payment_id, admin_user_id=c.user_id, note=note)
            else:
                p = payments.reject(session=s, payment_id=payment_id, admin_user_id=c.user_id, note=note)
            return payments.payment_dict(p)

    handle.__name__ = "approve_payment" if approve else "reject_payment"
    return handle


def _invoices(c: Call) -> Any:
    page, per_page = page_params(c)
    with read_session() as s:
        rows, total = invoices.list_invoices(session=s, account_id=None,
                                             status=enum_param(c.params, "status", [x.value for x in InvoiceStatus]),
                                             limit=per_page, offset=(page - 1) * per_page)
    return {"page": page, "per_page": per_page, "total": total, "results": rows}


def _invoice_action(target: InvoiceStatus):  # noqa: ANN202
    def handle(c: Call) -> Any:
        invoice_id = path_id(c, "invoice_id", "Invoice")
        note = body_text(c.body, "note", required=False).strip() or None
        with write_session() as s:
            if target is InvoiceStatus.PAID:
                inv = invoices.mark_paid(session=s, invoice_id=invoice_id, created_by=c.user_id, note=note)
            else:
                inv = invoices.transition(session=s, invoice_id=invoice_id, target=target, note=note)
            return invoices.invoice_dict(inv)

    handle.__name__ = f"invoice_{target.value}"
    return handle


def _packages(c: Call) -> Any:
    with read_session() as s:
        return {"results": [payments.package_dict(p) for p in payments.list_packages(session=s, active_only=False)]}


def _price(body: dict) -> str:
    v = body.get("price")
    if isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 1_000_000:
        return str(v)
    if isinstance(v, str) and re.fullmatch(doc.PRICE_PATTERN[1:-1], v):
        return v
    raise ValidationError("'price' must be an amount like 79 or '79.00', from 0.01 to 1,000,000.")


def _save_package(c: Call) -> Any:
    package_id = path_id(c, "package_id", "Package") if "package_id" in c.path else None
    name = body_text(c.body, "name", required=True, max_len=120, pattern=doc.REQUIRED_TEXT_PATTERN)
    n_credits = body_whole(c.body, "credits", doc.CREDITS_PATTERN, 1, 100_000_000)
    price, is_active = _price(c.body), body_bool(c.body, "is_active", True)
    with write_session() as s:
        pkg = admin_billing.save_package(session=s, admin_user_id=c.user_id, package_id=package_id, name=name,
                                         credits=n_credits, price=price, is_active=is_active)
        return (200 if package_id else 201), payments.package_dict(pkg)


ENDPOINTS = [
    ("accounts", "GET", _accounts),
    ("accounts/{account_id}/adjust", "POST", _adjust),  # path ids: path_id() answers a JSON 404
    ("credit-costs", "GET", _credit_costs),
    ("credit-costs/{operation}", "POST", _update_cost),
    ("payments", "GET", _payments),
    ("payments/{payment_id}/approve", "POST", _review(True)),
    ("payments/{payment_id}/reject", "POST", _review(False)),
    ("invoices", "GET", _invoices),
    ("invoices/{invoice_id}/mark-paid", "POST", _invoice_action(InvoiceStatus.PAID)),
    ("invoices/{invoice_id}/void", "POST", _invoice_action(InvoiceStatus.VOID)),
    ("credit-packages", "GET", _packages),
    ("credit-packages/new", "POST", _save_package),
    ("credit-packages/{package_id}", "POST", _save_package),
]

routes = [
    Route(f"{PREFIX}/{name}{slash}", endpoint(method, handler, authorize_admin), methods=_ANY_METHOD,
          name=f"admin_{name}{slash and '_slash'}")
    for name, method, handler in ENDPOINTS
    for slash in ("", "/")
]
