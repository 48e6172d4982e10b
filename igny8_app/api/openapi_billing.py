"""The OpenAPI description of the billing API (``/api/v1/billing/…``, api/billing_routes.py) and the
platform admin API (``/api/v1/admin/…``, api/admin_routes.py), merged into the served document by
api/openapi.py.

Kept exact on purpose: the routes check their input against the same limits (``input_rules`` in
billing_routes.py uses the patterns below), so schemathesis can hold the API to it both ways: every
request this document allows is accepted (or refused for a documented, non-422 reason) and every
request it forbids is refused with a ``{"error", "detail"}`` message
(tests/integration/test_openapi_billing.py).
"""

from __future__ import annotations

from typing import Any

from igny8_app.domain.enums import (
    CostUnit,
    InvoiceStatus,
    InvoiceType,
    OperationType,
    PaymentMethod,
    PaymentStatus,
    TransactionType,
)
from igny8_app.services.billing.usage import CSV_COLUMNS

BILLING = "/api/v1/billing"
ADMIN = "/api/v1/admin"
WEBHOOK_PATH = f"{BILLING}/stripe/webhook"
MAX_ID = 2**31 - 1

# Patterns shared with the routes (which match them with re.fullmatch). Strings never hold NUL.
DATE_PATTERN = ("^([1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])-(0[1-9]|1[0-2])"
                "-(0[1-9]|[12][0-9]|3[01])$")  # and a real day (format: date), e.g. not 2026-02-30
TEXT_PATTERN = "^[^\\x00]*$"
NOTE_PATTERN = "^[^\\x00]*$"
# At least one visible character: one outside every character Python's str.strip() removes (spelt
# out rather than \s, whose meaning differs between Python's and the validators' regex engines).
_BLANK = "\\x00-\\x20\\x7f-\\xa0\\u1680\\u2000-\\u200b\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
REQUIRED_TEXT_PATTERN = f"^[^\\x00]*[^{_BLANK}][^\\x00]*$"
KEY_PATTERN = "^[A-Za-z0-9._:-]{1,150}$"
AMOUNT_PATTERN = "^-?(10000000|[1-9][0-9]{0,6})$"  # a non-zero whole number, |n| <= 10,000,000
CREDITS_PATTERN = "^(100000000|[1-9][0-9]{0,7})$"  # 1 … 100,000,000
COST_PATTERN = "^(10000|0|[1-9][0-9]{0,3})$"  # 0 … 10,000
TOKENS_PATTERN = "^(1000000|[1-9][0-9]{0,5})$"  # 1 … 1,000,000
PRICE_PATTERN = "^(1000000(\\.00?)?|[1-9][0-9]{0,5}(\\.[0-9]{1,2})?|0\\.(0[1-9]|[1-9][0-9]?))$"  # 0.01 … 1,000,000
MAX_NOTE = 2000
MAX_SEARCH = 120

ERROR_CODES = ["too_large", "invalid_signature", "payment_provider_error"]

_INT = {"type": "integer"}
_NNINT = {"type": "integer", "minimum": 0}
_TOKENS_OUT = {"type": "integer", "minimum": 1, "nullable": True}
_STR = {"type": "string"}
_BOOL = {"type": "boolean"}
_TIME = {"type": "string", "format": "date-time"}
_NTIME = {"type": "string", "format": "date-time", "nullable": True}
_MONEY = {"type": "string", "description": "Formatted amount, e.g. '$79.00'."}


def _obj(props: dict[str, Any], *, optional: tuple[str, ...] = (), nullable: bool = False,
         **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": props,
                              "required": [k for k in props if k not in optional], **extra}
    if nullable:
        schema["nullable"] = True
    return schema


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _enum(values: list[Any]) -> dict[str, Any]:
    return {"type": "string", "enum": values}


def _page(item: str) -> dict[str, Any]:
    return _obj({"page": {"type": "integer", "minimum": 1}, "per_page": {"type": "integer", "minimum": 1,
                                                                         "maximum": 200},
                 "total": _NNINT, "results": {"type": "array", "maxItems": 200, "items": _ref(item)}})


def _whole(pattern: str, lo: int, hi: int, description: str, *, not_zero: bool = False) -> dict[str, Any]:
    number: dict[str, Any] = {"type": "integer", "minimum": lo, "maximum": hi}
    if not_zero:
        number["not"] = {"enum": [0]}
    return {"anyOf": [number, {"type": "string", "pattern": pattern}], "description": description}


_INVOICE_PROPS: dict[str, Any] = {
    "id": _INT, "number": {"type": "string", "pattern": "^INV-[0-9]{6}-[0-9]{4,}$"},
    "type": _enum([t.value for t in InvoiceType]), "status": _enum([s.value for s in InvoiceStatus]),
    "currency": {"type": "string", "pattern": "^[A-Z]{3}$"}, "subtotal_cents": _NNINT, "tax_cents": _NNINT,
    "total_cents": _NNINT, "total": _MONEY, "credits": _NNINT, "created_at": _TIME, "issued_at": _NTIME,
    "paid_at": _NTIME, "note": _STR, "account_id": _INT,
    "account": {"type": "string", "description": "The account's name (in lists and the detail view)."},
}
_PAYMENT_PROPS: dict[str, Any] = {
    "id": _INT, "invoice_id": {"type": "integer", "nullable": True}, "invoice_number": _STR,
    "method": _enum([m.value for m in PaymentMethod]), "status": _enum([s.value for s in PaymentStatus]),
    "amount_cents": _NNINT, "currency": {"type": "string", "pattern": "^[A-Z]{3}$"}, "amount": _MONEY,
    "reference": _STR, "note": _STR, "created_at": _TIME, "reviewed_at": _NTIME, "account_id": _INT,
    "display_status": {**_enum([*(s.value for s in PaymentStatus), "checkout_open"]),
                       "description": "What a person reads: an open card checkout is 'checkout_open'."},
    "account": {"type": "string", "description": "The account's name (in lists)."},
}

SCHEMAS: dict[str, Any] = {
    "Balance": _obj({
        "account_id": _INT, "balance": _NNINT, "used_this_month": _NNINT, "low_balance_threshold": _NNINT,
        "low_balance_notice": _obj({"since": _TIME, "balance": _NNINT, "threshold": _NNINT}, nullable=True,
                                   description="Open while the balance is under the threshold (until dismissed)."),
    }),
    "Transaction": _obj({
        "id": _INT, "created_at": _TIME, "type": _enum([t.value for t in TransactionType]),
        "operation": _enum(["", *(o.value for o in OperationType)]), "site_id": {"type": "integer", "nullable": True},
        "site": _STR, "run_id": _STR, "item": _STR,
        "credits": {"type": "integer", "description": "Signed: deductions are negative."}, "tokens_in": _NNINT,
        "tokens_out": _NNINT, "model": _STR, "balance_after": _NNINT, "description": _STR,
    }),
    "Transactions": _obj({
        **_page("Transaction")["properties"], "credits_used": _NNINT,
        "net_change": {"type": "integer", "description": "The sum of every matching row's credits."},
    }),
    "Usage": _obj({
        "account_id": _INT,
        "days": {"type": "array", "minItems": 1, "maxItems": 366, "items": _obj({
            "day": {"type": "string", "description": "e.g. 'Nov 29'."},
            **{o.value: _NNINT for o in OperationType}})},
        "used_this_month": _NNINT,
    }),
    "Invoice": _obj(_INVOICE_PROPS, optional=("account",)),
    "InvoiceLine": _obj({
        "description": _STR, "quantity": {"type": "integer", "minimum": 1}, "unit_price_cents": _NNINT,
        "amount_cents": _NNINT, "unit_price": _MONEY, "amount": _MONEY,
    }),
    "InvoiceDetail": _obj({
        **_INVOICE_PROPS,
        "billing_profile": _obj({k: _STR for k in ("account", "billing_email", "company", "address", "country",
                                                     "tax_id")},
                                description="The account's billing details when the invoice was issued."),
        "lines": {"type": "array", "items": _ref("InvoiceLine")},
    }),
    "Invoices": _page("Invoice"),
    "Payment": _obj(_PAYMENT_PROPS, optional=("account",)),
    "Payments": _page("Payment"),
    "CreditPackage": _obj({
        "id": _INT, "name": _STR, "credits": {"type": "integer", "minimum": 1}, "price_cents": _NNINT,
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"}, "price": _MONEY, "is_active": _BOOL,
        "per_credit": _MONEY,
    }),
    "CreditPackages": _obj({"results": {"type": "array", "items": _ref("CreditPackage")}}),
    "BuyRequest": _obj({
        "package_id": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        "method": {**_enum([m.value for m in PaymentMethod]), "default": PaymentMethod.BANK_TRANSFER.value,
                   "description": "'stripe' (card, when configured) returns a checkout_url; the others return "
                                  "bank_instructions and wait for a platform admin's approval."},
    }, optional=("method",)),
    "Purchase": _obj({
        "invoice": _ref("Invoice"), "payment": _ref("Payment"),
        "bank_instructions": _obj({k: _STR for k in ("beneficiary", "bank", "iban", "bic", "amount", "reference")}),
        "checkout_url": {"type": "string", "description": "Stripe Checkout: send the customer here."},
    }, optional=("bank_instructions", "checkout_url")),
    "WebhookResult": _obj({
        "received": {"type": "boolean", "enum": [True]}, "event": {"type": "string", "nullable": True},
        "type": _STR, "result": {"type": "string", "description": "What was done, e.g. 'ignored', 'paid'."},
    }),
    # --- admin ---
    "AccountOverview": _obj({
        "id": _INT, "name": _STR, "balance": _NNINT, "threshold": _NNINT, "used_this_month": _NNINT,
        "sites": _NNINT, "users": _NNINT, "low": {"type": "boolean", "description": "Balance under the threshold."},
    }),
    "Accounts": _page("AccountOverview"),
    "Adjustment": _obj({
        "amount": _whole(AMOUNT_PATTERN, -10_000_000, 10_000_000, "Credits to add (negative: remove); not 0.",
                         not_zero=True),
        "reason": {"type": "string", "minLength": 1, "maxLength": MAX_NOTE, "pattern": REQUIRED_TEXT_PATTERN,
                   "description": "Shown in the account's history."},
        "idempotency_key": {"type": "string", "pattern": KEY_PATTERN,
                            "description": "Repeating a key adjusts once (the first result is returned)."},
    }),
    "AdjustmentResult": _obj({"transaction_id": _INT, "amount": _INT, "balance_after": _NNINT}),
    "CreditCosts": _obj({
        "results": {"type": "array", "items": _obj({
            "operation_type": _enum([o.value for o in OperationType]), "credits_cost": _NNINT,
            "unit": _enum([u.value for u in CostUnit]), "tokens_per_credit": _TOKENS_OUT, "min_credits": _NNINT,
            "display_name": _STR, "is_active": _BOOL})},
        "audit": {"type": "array", "maxItems": 50, "items": _obj({
            "id": _INT, "operation": _STR, "who": _STR, "when": _STR, "change": _STR,
            "old": {"type": "object"}, "new": {"type": "object"}})},
        "typical_run": _obj({
            "keywords": _NNINT, "stages": {"type": "object", "additionalProperties": _NNINT}, "total": _NNINT,
            "items": {"type": "object", "additionalProperties": _NNINT}},
            description="What a run over 100 new keywords costs at these prices."),
    }),
    "CostUpdate": _obj({
        "credits_cost": _whole(COST_PATTERN, 0, 10_000, "Credits per unit."),
        "unit": _enum([u.value for u in CostUnit]),
        "is_active": {"type": "boolean", "default": True},
        "tokens_per_credit": {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 1_000_000, "nullable": True},
                                        {"type": "string", "pattern": TOKENS_PATTERN}],
                              "description": "per_1k_tokens prices: tokens that buy one credit; null for the "
                                             "default (1,000). Unchanged when absent."},
        "min_credits": _whole(COST_PATTERN, 0, 10_000, "The least one charge costs. Unchanged when absent."),
    }, optional=("is_active", "tokens_per_credit", "min_credits")),
    "Cost": _obj({"operation_type": _enum([o.value for o in OperationType]), "credits_cost": _NNINT,
                  "unit": _enum([u.value for u in CostUnit]), "tokens_per_credit": _TOKENS_OUT,
                  "min_credits": _NNINT, "is_active": _BOOL}),
    "Review": _obj({"note": {"type": "string", "maxLength": MAX_NOTE, "pattern": NOTE_PATTERN}}, optional=("note",)),
    "Rejection": _obj({"note": {"type": "string", "minLength": 1, "maxLength": MAX_NOTE,
                                "pattern": REQUIRED_TEXT_PATTERN, "description": "Why: the customer sees it."}}),
    "PackageSave": _obj({
        "name": {"type": "string", "minLength": 1, "maxLength": 120, "pattern": REQUIRED_TEXT_PATTERN},
        "credits": _whole(CREDITS_PATTERN, 1, 100_000_000, "Credits the package grants."),
        "price": {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 1_000_000},
                            {"type": "string", "pattern": PRICE_PATTERN}],
                  "description": "In currency units: 79 or '79.00' (0.01 … 1,000,000)."},
        "is_active": {"type": "boolean", "default": True},
    }, optional=("is_active",)),
}

# --- parameters ---------------------------------------------------------------------------------

_ACCOUNT = {"name": "account_id", "in": "query", "required": False,
            "description": "The account; optional when the caller belongs to exactly one.",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}
_PAGE = [
    {"name": "page", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": 1_000_000, "default": 1}},
    {"name": "per_page", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}},
]
_FILTER = [
    {"name": "from", "in": "query", "required": False, "description": "First UTC day (inclusive), YYYY-MM-DD.",
     "schema": {"type": "string", "format": "date", "pattern": DATE_PATTERN}},
    {"name": "to", "in": "query", "required": False,
     "description": "Last UTC day (inclusive), YYYY-MM-DD; not before 'from', at most ten years after it.",
     "schema": {"type": "string", "format": "date", "pattern": DATE_PATTERN}},
    {"name": "operation", "in": "query", "required": False,
     "schema": _enum([o.value for o in OperationType])},
    {"name": "site_id", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}},
    {"name": "run_id", "in": "query", "required": False,
     "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}},
]


def _path_id(name: str, what: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": f"The {what}'s id.",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}


_INVOICE_ID = _path_id("invoice_id", "invoice")
_PAYMENT_ID = _path_id("payment_id", "payment")

_BILLING_ERRORS = {
    "401": "No or invalid API token (`unauthenticated`).",
    "403": "The caller is an editor or viewer of the account (`forbidden`): owners and admins only.",
    "404": "No such account (or invoice, package) for this caller (`not_found`): nothing leaks.",
    "409": "Not possible in the current state (`conflict`).",
    "422": "A missing or malformed parameter or body field (`invalid`).",
    "413": "The request body is larger than 64 KiB (`too_large`).",
    "502": "Stripe did not answer as expected (`payment_provider_error`); nothing was charged.",
}
_ADMIN_ERRORS = {
    **_BILLING_ERRORS,
    "403": "The caller is not a platform admin (`forbidden`).",
    "404": "No such account, payment, invoice, package or operation (`not_found`).",
    "409": "An illegal transition or a clash (`conflict`), e.g. voiding a paid invoice, a duplicate name.",
}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {
        "$ref": "#/components/schemas/Error"}}}}


def _op(tag: str, op_id: str, summary: str, ok: dict[str, Any], params: list[dict[str, Any]], *,
        ok_code: str = "200", errors: tuple[str, ...] = (), body: str | None = None,
        body_required: bool = True, media: str = "application/json") -> dict[str, Any]:
    table = _ADMIN_ERRORS if tag == "admin" else _BILLING_ERRORS
    base = ("401", "403", "422") if tag == "admin" else ("401", "403", "404", "422")
    responses: dict[str, Any] = {ok_code: {"description": "Success.", "content": {media: {"schema": ok}}}}
    for code in sorted({*base, *errors, *(("413",) if body else ())}):
        responses[code] = _error(table[code])
    op: dict[str, Any] = {"operationId": op_id, "summary": summary, "tags": [tag],
                          "description": ("Needs a platform admin's token." if tag == "admin" else
                                          "Needs the owner or an admin of the account (or a platform admin)."),
                          "parameters": params, "responses": responses}
    if body:
        op["requestBody"] = {"required": body_required,
                             "content": {"application/json": {"schema": _ref(body)}}}
    return op


def _b(*args: Any, **kw: Any) -> dict[str, Any]:
    return _op("billing", *args, **kw)


def _a(*args: Any, **kw: Any) -> dict[str, Any]:
    return _op("admin", *args, **kw)


PATHS: dict[str, dict[str, Any]] = {
    f"{BILLING}/balance": {"get": _b("billingBalance", "The balance, this month's usage and the low-balance notice.",
                                     _ref("Balance"), [_ACCOUNT])},
    f"{BILLING}/transactions": {"get": _b("billingTransactions", "Ledger rows, newest first, with totals.",
                                          _ref("Transactions"), [_ACCOUNT, *_PAGE, *_FILTER])},
    f"{BILLING}/usage": {"get": {**_b(
        "billingUsage", "Credits used per day and operation (JSON), or the filtered ledger as CSV.",
        _ref("Usage"), [_ACCOUNT,
                        {"name": "format", "in": "query", "required": False,
                         "description": "'csv': the ledger rows (filtered by from/to/operation/site_id/run_id) "
                                        "as a CSV download.", "schema": _enum(["json", "csv"])},
                        {"name": "days", "in": "query", "required": False,
                         "schema": {"type": "integer", "minimum": 1, "maximum": 366, "default": 30}},
                        *_FILTER])}},
    f"{BILLING}/invoices": {"get": _b("billingInvoices", "The account's invoices, newest first.",
                                      _ref("Invoices"), [_ACCOUNT, *_PAGE])},
    f"{BILLING}/invoices/{{invoice_id}}": {"get": _b("billingInvoice", "One invoice with its lines.",
                                                     _ref("InvoiceDetail"), [_INVOICE_ID, _ACCOUNT])},
    f"{BILLING}/invoices/{{invoice_id}}/pdf": {"get": _b(
        "billingInvoicePdf", "The invoice as a PDF download.", {"type": "string", "format": "binary"},
        [_INVOICE_ID, _ACCOUNT], media="application/pdf")},
    f"{BILLING}/payments": {"get": _b("billingPayments", "The account's payments, newest first.", _ref("Payments"),
                                      [_ACCOUNT, *_PAGE])},
    f"{BILLING}/payments/buy": {"post": _b(
        "billingBuy", "Buy a credit package: a pending invoice and a payment (bank transfer or Stripe Checkout).",
        _ref("Purchase"), [_ACCOUNT], ok_code="201", errors=("502",), body="BuyRequest")},
    f"{BILLING}/credit-packages": {"get": _b("billingCreditPackages", "The packages on sale, smallest first.",
                                             _ref("CreditPackages"), [_ACCOUNT])},
    WEBHOOK_PATH: {"post": {
        "operationId": "stripeWebhook", "tags": ["billing"], "security": [{"stripeSignature": []}],
        "summary": "Stripe's event callback (checkout.session.* events settle or fail card payments).",
        "description": "No bearer token: the `Stripe-Signature` header (HMAC of the raw body with the webhook "
                       "secret, at most 5 minutes old) authenticates the call.",
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "description": "A Stripe event (at most 512 KiB)."}}}},
        "responses": {
            "200": {"description": "Handled (or ignored: an event type this app does not use).",
                    "content": {"application/json": {"schema": _ref("WebhookResult")}}},
            "400": _error("A missing, bad or stale signature, or a body that is not a Stripe event "
                          "(`invalid_signature`)."),
            "404": _error("Stripe is not configured here (`not_found`)."),
            "413": _error("The body is larger than 512 KiB (`too_large`)."),
        }}},
    # --- admin ---
    f"{ADMIN}/accounts": {"get": _a("adminAccounts", "Accounts by name with balance, usage, sites and users.",
                                    _ref("Accounts"), [
                                        *_PAGE, {"name": "search", "in": "query", "required": False,
                                                 "description": "Part of the account's name.",
                                                 "schema": {"type": "string", "maxLength": MAX_SEARCH,
                                                            "pattern": TEXT_PATTERN}}])},
    f"{ADMIN}/accounts/{{account_id}}/adjust": {"post": _a(
        "adminAdjust", "Add or remove credits with a reason (never below zero); idempotent on the key.",
        _ref("AdjustmentResult"), [_path_id("account_id", "account")], ok_code="201", errors=("404", "409"),
        body="Adjustment")},
    f"{ADMIN}/credit-costs": {"get": _a("adminCreditCosts", "Prices per operation, their audit trail and a "
                                                            "typical run's cost.", _ref("CreditCosts"), [])},
    f"{ADMIN}/credit-costs/{{operation}}": {"post": _a(
        "adminUpdateCost", "Change one operation's price (audited; applies to the next item charged).",
        _ref("Cost"), [{"name": "operation", "in": "path", "required": True,
                        "schema": _enum([o.value for o in OperationType])}], errors=("404",), body="CostUpdate")},
    f"{ADMIN}/payments": {"get": _a("adminPayments", "Payments of every account (awaiting approval: oldest first).",
                                    _ref("Payments"), [*_PAGE, {"name": "status", "in": "query", "required": False,
                                                                "schema": _enum([s.value for s in PaymentStatus])}])},
    f"{ADMIN}/payments/{{payment_id}}/approve": {"post": _a(
        "adminApprovePayment", "Approve a payment: its invoice is paid and the credits granted (once).",
        _ref("Payment"), [_PAYMENT_ID], errors=("404", "409"), body="Review", body_required=False)},
    f"{ADMIN}/payments/{{payment_id}}/reject": {"post": _a(
        "adminRejectPayment", "Reject a payment with a note; its unpaid invoice is voided.", _ref("Payment"),
        [_PAYMENT_ID], errors=("404", "409"), body="Rejection")},
    f"{ADMIN}/invoices": {"get": _a("adminInvoices", "Invoices of every account, newest first.", _ref("Invoices"),
                                    [*_PAGE, {"name": "status", "in": "query", "required": False,
                                              "schema": _enum([s.value for s in InvoiceStatus])}])},
    f"{ADMIN}/invoices/{{invoice_id}}/mark-paid": {"post": _a(
        "adminMarkInvoicePaid", "Mark an invoice paid and grant its credits (once).", _ref("Invoice"),
        [_INVOICE_ID], errors=("404", "409"), body="Review", body_required=False)},
    f"{ADMIN}/invoices/{{invoice_id}}/void": {"post": _a(
        "adminVoidInvoice", "Void an unpaid invoice (its number stays used).", _ref("Invoice"), [_INVOICE_ID],
        errors=("404", "409"), body="Review", body_required=False)},
    f"{ADMIN}/credit-packages": {"get": _a("adminCreditPackages", "Every package, active or not.",
                                           _ref("CreditPackages"), [])},
    f"{ADMIN}/credit-packages/new": {"post": _a(
        "adminCreatePackage", "Create a credit package.", _ref("CreditPackage"), [], ok_code="201",
        errors=("409",), body="PackageSave")},
    f"{ADMIN}/credit-packages/{{package_id}}": {"post": _a(
        "adminUpdatePackage", "Change a credit package.", _ref("CreditPackage"), [_path_id("package_id", "package")],
        errors=("404", "409"), body="PackageSave")},
}

SECURITY_SCHEMES = {"stripeSignature": {
    "type": "apiKey", "in": "header", "name": "Stripe-Signature",
    "description": "Stripe's webhook signature (`t=…,v1=…`), checked with the webhook secret."}}

# format=csv answers the ledger rows as a CSV download instead of the JSON chart data.
PATHS[f"{BILLING}/usage"]["get"]["responses"]["200"]["content"]["text/csv"] = {"schema": {
    "type": "string", "description": f"Columns: {', '.join(CSV_COLUMNS)} (cells never start a formula)."}}
