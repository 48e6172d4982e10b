"""REST API for platform admins: ``/api/v1/admin/…`` (superusers only; anyone else gets 403).

Same conventions as the billing API: bearer token, JSON errors, JSON bodies for POST, every path
with and without a trailing slash.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import QueryParams
from starlette.routing import Route

from igny8_app.api.billing_routes import _ANY_METHOD, Call, endpoint, page_params
from igny8_app.db import read_session, write_session
from igny8_app.domain.errors import Forbidden, ValidationError
from igny8_app.services import accounts, admin_billing, billing, invoices, payments

PREFIX = "/api/v1/admin"


def authorize_admin(token: str | None, params: QueryParams, path: dict, body: dict) -> Call:
    with write_session() as s:
        user = accounts.resolve_api_token(session=s, token=token)
        if not user.is_superuser:
            raise Forbidden("Only platform admins may use the admin API.")
        return Call(user.id, 0, params, path, body)


def _str(body: dict, name: str, required: bool = True) -> str:
    v = body.get(name)
    if v is None and not required:
        return ""
    if not isinstance(v, str | int) or (required and not str(v).strip()):
        raise ValidationError(f"'{name}' is required.")
    return str(v)


def _accounts(c: Call) -> Any:
    page, per_page = page_params(c)
    search = c.params.get("search", "")
    with read_session() as s:
        rows = admin_billing.accounts_overview(session=s, admin_user_id=c.user_id, search=search, limit=per_page,
                                               offset=(page - 1) * per_page)
        total = admin_billing.count_accounts(session=s, admin_user_id=c.user_id, search=search)
    return {"page": page, "per_page": per_page, "total": total, "results": rows}


def _adjust(c: Call) -> Any:
    with write_session() as s:
        return 201, admin_billing.adjust_credits(
            session=s, admin_user_id=c.user_id, account_id=c.path["account_id"], amount=_str(c.body, "amount"),
            reason=_str(c.body, "reason"), idempotency_key=_str(c.body, "idempotency_key"))


def _credit_costs(c: Call) -> Any:
    with read_session() as s:
        costs = [{"operation_type": x.operation_type, "credits_cost": x.credits_cost, "unit": x.unit,
                  "display_name": x.display_name, "is_active": x.is_active}
                 for x in billing.list_cost_configs(session=s)]
        return {"results": costs, "audit": admin_billing.cost_audit(session=s),
                "typical_run": admin_billing.typical_run_cost(admin_billing.current_rules(session=s))}


def _update_cost(c: Call) -> Any:
    with write_session() as s:
        cfg = admin_billing.update_cost(session=s, admin_user_id=c.user_id, operation_type=c.path["operation"],
                                        credits_cost=_str(c.body, "credits_cost"), unit=_str(c.body, "unit"),
                                        is_active=bool(c.body.get("is_active", True)))
        return {"operation_type": cfg.operation_type, "credits_cost": cfg.credits_cost, "unit": cfg.unit,
                "is_active": cfg.is_active}


def _payments(c: Call) -> Any:
    page, per_page = page_params(c)
    with read_session() as s:
        rows, total = payments.list_payments(session=s, account_id=None, status=c.params.get("status") or None,
                                             limit=per_page, offset=(page - 1) * per_page)
    return {"page": page, "per_page": per_page, "total": total, "results": rows}


def _review(approve: bool):  # noqa: ANN202
    def handle(c: Call) -> Any:
        with write_session() as s:
            if approve:
                p = payments.approve(session=s, payment_id=c.path["payment_id"], admin_user_id=c.user_id,
                                     note=_str(c.body, "note", required=False))
            else:
                p = payments.reject(session=s, payment_id=c.path["payment_id"], admin_user_id=c.user_id,
                                    note=_str(c.body, "note"))
            return payments.payment_dict(p)

    handle.__name__ = "approve_payment" if approve else "reject_payment"
    return handle


def _invoices(c: Call) -> Any:
    page, per_page = page_params(c)
    with read_session() as s:
        rows, total = invoices.list_invoices(session=s, account_id=None, status=c.params.get("status") or None,
                                             limit=per_page, offset=(page - 1) * per_page)
    return {"page": page, "per_page": per_page, "total": total, "results": rows}


def _invoice_action(target: str):  # noqa: ANN202
    def handle(c: Call) -> Any:
        with write_session() as s:
            if target == "paid":
                inv = invoices.mark_paid(session=s, invoice_id=c.path["invoice_id"], created_by=c.user_id,
                                         note=_str(c.body, "note", required=False) or None)
            else:
                inv = invoices.transition(session=s, invoice_id=c.path["invoice_id"], target=target,
                                          note=_str(c.body, "note", required=False) or None)
            return invoices.invoice_dict(inv)

    handle.__name__ = f"invoice_{target}"
    return handle


def _packages(c: Call) -> Any:
    with read_session() as s:
        return {"results": [payments.package_dict(p) for p in payments.list_packages(session=s, active_only=False)]}


def _save_package(c: Call) -> Any:
    with write_session() as s:
        pkg = admin_billing.save_package(session=s, admin_user_id=c.user_id, package_id=c.path.get("package_id"),
                                         name=_str(c.body, "name"), credits=_str(c.body, "credits"),
                                         price=_str(c.body, "price"), is_active=bool(c.body.get("is_active", True)))
        return (200 if c.path.get("package_id") else 201), payments.package_dict(pkg)


ENDPOINTS = [
    ("accounts", "GET", _accounts),
    ("accounts/{account_id:int}/adjust", "POST", _adjust),
    ("credit-costs", "GET", _credit_costs),
    ("credit-costs/{operation}", "POST", _update_cost),
    ("payments", "GET", _payments),
    ("payments/{payment_id:int}/approve", "POST", _review(True)),
    ("payments/{payment_id:int}/reject", "POST", _review(False)),
    ("invoices", "GET", _invoices),
    ("invoices/{invoice_id:int}/mark-paid", "POST", _invoice_action("paid")),
    ("invoices/{invoice_id:int}/void", "POST", _invoice_action("void")),
    ("credit-packages", "GET", _packages),
    ("credit-packages/new", "POST", _save_package),
    ("credit-packages/{package_id:int}", "POST", _save_package),
]

routes = [
    Route(f"{PREFIX}/{name}{slash}", endpoint(method, handler, authorize_admin), methods=_ANY_METHOD,
          name=f"admin_{name}{slash and '_slash'}")
    for name, method, handler in ENDPOINTS
    for slash in ("", "/")
]
