"""REST API for an account's billing: ``/api/v1/billing/…`` (conventions of automation_routes).

Bearer-token auth; ``account_id`` picks the account (optional when the caller belongs to exactly
one). Owners and admins of the account (and platform admins) may read it; editors and viewers get
403, strangers 404 (nothing leaks). Errors are ``{"error": code, "detail": message}``. Every path
answers with and without a trailing slash; a wrong method gets a JSON 405.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from igny8_app.api import openapi_billing as doc
from igny8_app.api.body_limit import API_BODY_BYTES
from igny8_app.api.common import bearer_token, error_response
from igny8_app.api.files import invoice_pdf_bytes, pdf_response, usage_csv_response
from igny8_app.db import read_session, write_session
from igny8_app.domain.enums import OperationType, PaymentMethod
from igny8_app.domain.errors import DomainError, NotFound, ValidationError
from igny8_app.domain.roles import Permission
from igny8_app.models import Account
from igny8_app.services.accounts import access as accounts
from igny8_app.services.billing import ledger as billing
from igny8_app.services.billing import profile as billing_profile
from igny8_app.services.billing import invoices
from igny8_app.services.billing import payments
from igny8_app.services.billing import stripe_checkout as stripe_billing
from igny8_app.services.billing import usage

PREFIX = "/api/v1/billing"
MAX_ID = doc.MAX_ID
MAX_BODY_BYTES = API_BODY_BYTES  # defense in depth: BodyLimit refuses larger bodies before they are read
_DIGITS = re.compile("[0-9]{1,10}")  # ASCII only: str.isdigit() also takes '²' and '٣', which int() refuses
_ANY_METHOD = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def int_param(params: QueryParams, name: str, *, default: int | None = None, lo: int = 1, hi: int = MAX_ID) -> int:
    """A whole-number query parameter: plain ASCII digits within [lo, hi]; absent means ``default``
    (required when there is none); present but empty, or anything else, is a clear 422."""
    raw = params.get(name)
    if raw is None:
        if default is None:
            raise ValidationError(f"The query parameter '{name}' is required.")
        return default
    if not _DIGITS.fullmatch(raw) or not lo <= int(raw) <= hi:
        raise ValidationError(f"'{name}' must be a whole number between {lo:,} and {hi:,}.")
    return int(raw)


def path_id(c: Call, name: str, what: str) -> int:
    """A path id (``/invoices/{invoice_id}``): anything but an id in range names nothing, a 404."""
    raw = str(c.path.get(name, ""))
    if not _DIGITS.fullmatch(raw) or not 1 <= int(raw) <= MAX_ID:
        raise NotFound(f"{what} not found.")
    return int(raw)


def enum_param(params: QueryParams, name: str, values: list[str]) -> str | None:
    raw = params.get(name)
    if raw is None:
        return None
    if raw not in values:
        raise ValidationError(f"'{name}' must be one of: {', '.join(values)}.")
    return raw


def pattern_param(params: QueryParams, name: str, pattern: str, message: str) -> str | None:
    raw = params.get(name)
    if raw is None:
        return None
    if not re.fullmatch(pattern.removeprefix("^").removesuffix("$"), raw):
        raise ValidationError(message)
    return raw


def _fullmatch(pattern: str, value: str) -> bool:
    return re.fullmatch(pattern.removeprefix("^").removesuffix("$"), value) is not None


def body_whole(body: dict[str, Any], name: str, pattern: str, lo: int, hi: int, *, not_zero: bool = False) -> int:
    """A whole number sent as a JSON integer or as a string of digits (documented pattern)."""
    v = body.get(name)
    if isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi and not (not_zero and v == 0):
        return v
    if isinstance(v, str) and _fullmatch(pattern, v):
        return int(v)
    if v is None:
        raise ValidationError(f"'{name}' is required.")
    zero = ", not 0" if not_zero else ""
    raise ValidationError(f"'{name}' must be a whole number from {lo:,} to {hi:,}{zero}.")


def body_text(body: dict[str, Any], name: str, *, required: bool, max_len: int = doc.MAX_NOTE,
              pattern: str | None = None) -> str:
    """A string field: absent is '' unless required; never NUL, at most ``max_len`` characters."""
    if name not in body and not required:
        return ""
    v = body.get(name)
    if not isinstance(v, str):
        raise ValidationError(f"'{name}' is required (text)." if v is None else f"'{name}' must be text.")
    if "\x00" in v:
        raise ValidationError(f"'{name}' contains a NUL character.")
    if not v.isascii():
        try:
            v.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate (JSON "\ud800"): no database can store it
            raise ValidationError(f"'{name}' is not valid text (it holds a lone UTF-16 surrogate).") from None
    if len(v) > max_len:
        raise ValidationError(f"'{name}' is too long (at most {max_len:,} characters).")
    if pattern and not _fullmatch(pattern, v):
        raise ValidationError(f"'{name}' is required: it cannot be blank." if pattern == doc.REQUIRED_TEXT_PATTERN
                              else f"'{name}' is not valid.")
    return v


def body_bool(body: dict[str, Any], name: str, default: bool) -> bool:
    v = body.get(name, default)
    if not isinstance(v, bool):
        raise ValidationError(f"'{name}' must be true or false.")
    return v


@dataclass(frozen=True)
class Call:
    user_id: int
    account_id: int
    params: QueryParams
    path: dict[str, Any]
    body: dict[str, Any]


def authorize(token: str | None, params: QueryParams, path: dict, body: dict) -> Call:
    with write_session() as s:
        user = accounts.resolve_api_token(session=s, token=token)
        if "account_id" in params:
            account_id = int_param(params, "account_id")
        else:
            mine = accounts.user_accounts(session=s, user=user)
            if len(mine) != 1:
                raise ValidationError("Pass 'account_id': you belong to several accounts (or none).")
            account_id = mine[0][0].id
        accounts.authorize_account(session=s, user=user, account_id=account_id, permission=Permission.MANAGE)
        if s.get(Account, account_id) is None:  # a platform admin may name any id: one that is not there
            raise NotFound("Account not found.")
        return Call(user.id, account_id, params, path, body)


def endpoint(method: str, handler: Callable[[Call], Any], auth: Callable[..., Any] = authorize):  # noqa: ANN201
    allowed = {method, "HEAD"} if method == "GET" else {method}

    async def handle(request: Request) -> Response:
        if request.method not in allowed:
            return JSONResponse({"error": "method_not_allowed", "detail": f"Use {method} for this endpoint."},
                                status_code=405, headers={"Allow": ", ".join(sorted(allowed))})
        for name, value in request.query_params.multi_items():
            if "\x00" in name or "\x00" in value:
                return error_response(ValidationError(f"The query parameter '{name.strip(chr(0))}' contains a NUL "
                                                      "character."))
        body: dict[str, Any] = {}
        if method == "POST":
            raw = await request.body()
            if len(raw) > MAX_BODY_BYTES:
                return JSONResponse({"error": "too_large", "detail": f"The request body is larger than "
                                     f"{MAX_BODY_BYTES // 1024} KiB."}, status_code=413)
            if raw.strip():
                try:
                    body = json.loads(raw)
                except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
                    return error_response(ValidationError("The request body must be JSON."))
                if not isinstance(body, dict):
                    return error_response(ValidationError("The request body must be a JSON object."))
        try:
            def run() -> Any:
                return handler(auth(bearer_token(request), request.query_params, dict(request.path_params), body))
            result = await run_in_threadpool(run)
        except DomainError as exc:
            return error_response(exc)
        if isinstance(result, Response):
            return result
        status, payload = result if isinstance(result, tuple) else (200, result)
        return JSONResponse(payload, status_code=status)

    handle.__name__ = handler.__name__.lstrip("_")
    return handle


def page_params(c: Call) -> tuple[int, int]:
    return int_param(c.params, "page", default=1, hi=1_000_000), int_param(c.params, "per_page", default=50, hi=200)


def usage_filter(c: Call) -> usage.UsageFilter:
    p = c.params
    for name in ("from", "to"):
        pattern_param(p, name, doc.DATE_PATTERN, f"'{name}' must be a date like 2026-01-31.")
    site_id = int_param(p, "site_id") if "site_id" in p else None
    enum_param(p, "operation", [o.value for o in OperationType])
    pattern_param(p, "run_id", "^[A-Za-z0-9_-]{1,64}$", "'run_id' must be 1 to 64 letters, digits, '-' or '_'.")
    return usage.UsageFilter.parse(date_from=p.get("from"), date_to=p.get("to"), operation=p.get("operation"),
                                   site_id=site_id, run_id=p.get("run_id"))


# --- handlers -----------------------------------------------------------------------------------

def _balance(c: Call) -> Any:
    with read_session() as s:
        return {"account_id": c.account_id, "balance": billing.balance(session=s, account_id=c.account_id),
                "used_this_month": usage.used_since(session=s, account_id=c.account_id, since=usage.month_start()),
                "low_balance_threshold": billing_profile.get_settings(session=s, account_id=c.account_id)[
                    "low_balance_threshold"],
                "low_balance_notice": billing_profile.low_balance_notice(session=s, account_id=c.account_id)}


def _rows(c: Call, f: usage.UsageFilter) -> Any:
    page, per_page = page_params(c)
    with read_session() as s:
        rows, totals = usage.history_page(session=s, account_id=c.account_id, f=f, page=page, per_page=per_page)
    return {"page": page, "per_page": per_page, "total": totals.rows, "credits_used": totals.credits_used,
            "net_change": totals.net_change,
            "results": [{**r, "created_at": r["created_at"].isoformat()} for r in rows]}


def _transactions(c: Call) -> Any:
    return _rows(c, usage_filter(c))


def _usage(c: Call) -> Any:
    f = usage_filter(c)  # checked in both formats: a bad parameter is never silently ignored
    days = int_param(c.params, "days", default=30, hi=366)  # the CSV ignores it, but it must still be valid
    if enum_param(c.params, "format", ["json", "csv"]) == "csv":
        return usage_csv_response(c.account_id, f)
    with read_session() as s:
        return {"account_id": c.account_id, "days": usage.daily_usage(session=s, account_id=c.account_id, days=days),
                "used_this_month": usage.used_since(session=s, account_id=c.account_id, since=usage.month_start())}


def _invoices(c: Call) -> Any:
    page, per_page = page_params(c)
    with read_session() as s:
        rows, total = invoices.list_invoices(session=s, account_id=c.account_id, limit=per_page,
                                             offset=(page - 1) * per_page)
    return {"page": page, "per_page": per_page, "total": total, "results": rows}


def _invoice(c: Call) -> Any:
    with read_session() as s:
        view = invoices.get_invoice(session=s, invoice_id=path_id(c, "invoice_id", "Invoice"),
                                    account_id=c.account_id)
        return {**invoices.invoice_dict(view.invoice, view.account_name),
                "billing_profile": view.invoice.billing_snapshot,
                "lines": [invoices.line_dict(x, view.invoice.currency) for x in view.lines]}


def _invoice_pdf(c: Call) -> Any:
    invoice_id = path_id(c, "invoice_id", "Invoice")
    with read_session() as s:  # scope to the account first: another account's invoice is a 404
        invoices.get_invoice(session=s, invoice_id=invoice_id, account_id=c.account_id)
    number, data = invoice_pdf_bytes(c.user_id, invoice_id)
    return pdf_response(number, data)


def _payments(c: Call) -> Any:
    page, per_page = page_params(c)
    with read_session() as s:
        rows, total = payments.list_payments(session=s, account_id=c.account_id, limit=per_page,
                                             offset=(page - 1) * per_page)
    return {"page": page, "per_page": per_page, "total": total, "results": rows}


def _buy(c: Call) -> Any:
    package_id = c.body.get("package_id")
    if not isinstance(package_id, int) or isinstance(package_id, bool) or not 1 <= package_id <= MAX_ID:
        raise ValidationError("'package_id' (a package's id, a whole number) is required.")
    method = c.body.get("method", PaymentMethod.BANK_TRANSFER.value)
    if method not in [m.value for m in PaymentMethod]:
        raise ValidationError(f"'method' must be one of: {', '.join(m.value for m in PaymentMethod)}.")
    if method == PaymentMethod.STRIPE.value:  # Stripe Checkout: send the customer to checkout_url
        co = stripe_billing.start_checkout(account_id=c.account_id, package_id=package_id)
        with read_session() as s:
            inv = invoices.get_invoice(session=s, invoice_id=co.invoice_id, account_id=c.account_id).invoice
            pay = payments.get_payment(session=s, payment_id=co.payment_id, account_id=c.account_id)
            return 201, {"invoice": invoices.invoice_dict(inv), "payment": payments.payment_dict(pay, inv.number),
                         "checkout_url": co.url}
    with write_session() as s:
        inv, pay = payments.buy_package(session=s, account_id=c.account_id, package_id=package_id,
                                        method=method)
        return 201, {"invoice": invoices.invoice_dict(inv), "payment": payments.payment_dict(pay, inv.number),
                     "bank_instructions": payments.bank_instructions(pay)}


def _packages(c: Call) -> Any:
    with read_session() as s:
        return {"results": [payments.package_dict(p) for p in payments.list_packages(session=s)]}


ENDPOINTS: list[tuple[str, str, Callable[[Call], Any]]] = [
    ("balance", "GET", _balance),
    ("transactions", "GET", _transactions),
    ("usage", "GET", _usage),
    ("invoices", "GET", _invoices),
    ("invoices/{invoice_id}", "GET", _invoice),  # ids are checked by path_id: a bad one is a JSON 404
    ("invoices/{invoice_id}/pdf", "GET", _invoice_pdf),
    ("payments", "GET", _payments),
    ("payments/buy", "POST", _buy),
    ("credit-packages", "GET", _packages),
]


async def stripe_webhook(request: Request) -> Response:
    """Stripe's calls (no token: the ``Stripe-Signature`` header is checked instead). 2xx tells Stripe
    the event is handled; a 400 (bad or stale signature) is never retried into a grant."""
    if request.method != "POST":
        return JSONResponse({"error": "method_not_allowed", "detail": "Use POST for this endpoint."},
                            status_code=405, headers={"Allow": "POST"})
    payload = await request.body()
    if len(payload) > stripe_billing.MAX_WEBHOOK_BYTES:
        return JSONResponse({"error": "too_large", "detail": "The webhook body is too large."}, status_code=413)
    try:
        result = await run_in_threadpool(stripe_billing.handle_webhook, payload,
                                         request.headers.get("stripe-signature"))
    except DomainError as exc:
        return error_response(exc)
    return JSONResponse({"received": True, **result})


routes = [
    Route(f"{PREFIX}/{name}{slash}", endpoint(method, handler), methods=_ANY_METHOD,
          name=f"billing_{name}{slash and '_slash'}")
    for name, method, handler in ENDPOINTS
    for slash in ("", "/")
] + [Route(f"{PREFIX}/stripe/webhook{slash}", stripe_webhook, methods=_ANY_METHOD,
           name=f"billing_stripe_webhook{slash and '_slash'}") for slash in ("", "/")]
