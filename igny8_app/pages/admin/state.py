"""Platform admin (superusers only): state and handlers for credit costs, accounts, payments
awaiting approval, invoices across accounts, and credit packages: one State a page on a shared
AdminBaseState. The views are the other modules of this package.

Every handler checks on the server that the session's user is an active superuser.
"""

from __future__ import annotations

import secrets
from typing import Any

import reflex as rx

from igny8_app.components.format import count_label, fmt_int, last_page
from igny8_app.domain import invoices as rules
from igny8_app.domain.enums import CostUnit, InvoiceStatus, PaymentMethod, PaymentStatus
from igny8_app.domain.errors import DomainError, NotFound
from igny8_app.models import Account
from igny8_app.services.automation import estimate as run_estimate
from igny8_app.services.billing import admin as admin_billing
from igny8_app.services.billing import ledger as billing
from igny8_app.services.billing import invoices
from igny8_app.services.billing import payments
from igny8_app.state import PAGE_LOADERS, SessionState

UNITS = [u.value for u in CostUnit]
PER_PAGE = 25  # admin lists page on the server
MANUAL = (PaymentMethod.BANK_TRANSFER, PaymentMethod.MANUAL)  # card payments settle by webhook, not approval


def _pages(total: int) -> int:
    return last_page(total, PER_PAGE)


def _clamp(page: int, delta: Any) -> int:
    step = delta if isinstance(delta, int) and not isinstance(delta, bool) else 0  # a forged event moves nothing
    return max(1, page + max(-1_000_000, min(step, 1_000_000)))


class AdminBaseState(SessionState):
    """What the five admin pages share: the superuser guard and the refusal they show."""

    admin_denied: str = ""

    def _admin(self, *, write: bool = True):
        return self._superuser("this page", write=write)

    def _refuse(self, exc: DomainError):
        if exc.code in ("forbidden", "unauthenticated"):
            self.admin_denied = exc.message
        return self._fail(exc)


class AdminCostsState(AdminBaseState):
    """/admin: the credit cost of each operation, its audit trail and a typical run's price."""

    costs: list[dict[str, Any]] = []
    audit: list[dict[str, Any]] = []
    typical_total: int = 0
    typical_items: str = ""
    edit_open: bool = False
    e_op: str = ""
    e_cost: str = ""
    e_unit: str = ""
    e_active: bool = True
    e_tokens: str = ""  # tokens per credit (per_1k_tokens prices); "" = the default
    e_min: str = "0"
    preview: dict[str, Any] = {}

    @rx.event
    def load_costs(self):
        self.admin_denied = ""
        try:
            with self._admin(write=False) as ctx:
                rows = billing.list_cost_configs(session=ctx.session)
                self.costs = [{"operation": r.operation_type, "name": r.display_name, "cost": r.credits_cost,
                               "cost_label": fmt_int(r.credits_cost), "unit": r.unit, "active": r.is_active,
                               "tokens": "" if r.tokens_per_credit is None else str(r.tokens_per_credit),
                               "min": str(r.min_credits), "min_label": fmt_int(r.min_credits),
                               "tokens_label": (fmt_int(r.tokens_per_credit or 1000) + " tokens/credit"
                                                if r.unit == "per_1k_tokens" else "")}
                              for r in rows]
                self.audit = admin_billing.cost_audit(session=ctx.session)
                typical = run_estimate.typical_run_cost(ctx.session)
                self.typical_total = typical["total"]
                i = typical["items"]
                self.typical_items = " · ".join(fmt_int(i[k]) for k in ("clusters", "ideas", "content", "images"))
        except DomainError as exc:
            self.costs, self.audit = [], []
            self.admin_denied = exc.message
            return self._fail(exc) if exc.code == "unauthenticated" else None

    @rx.event
    def edit_cost(self, operation: str):
        row = next((c for c in self.costs if c["operation"] == operation), None)
        if row is None:
            return
        self.e_op, self.e_cost, self.e_unit, self.e_active = operation, str(row["cost"]), row["unit"], row["active"]
        self.e_tokens, self.e_min = row["tokens"], row["min"]
        self.edit_open = True
        return AdminCostsState.refresh_preview

    @rx.event
    def set_edit_open(self, value: bool):
        self.edit_open = value

    @rx.event
    def set_e_cost(self, value: str):
        self.e_cost = value
        return AdminCostsState.refresh_preview

    @rx.event
    def set_e_unit(self, value: str):
        self.e_unit = value if value in UNITS else self.e_unit
        return AdminCostsState.refresh_preview

    @rx.event
    def set_e_tokens(self, value: str):
        self.e_tokens = value
        return AdminCostsState.refresh_preview

    @rx.event
    def set_e_min(self, value: str):
        self.e_min = value
        return AdminCostsState.refresh_preview

    @rx.event
    def set_e_active(self, value: bool):
        self.e_active = bool(value)
        return AdminCostsState.refresh_preview

    @rx.event
    def refresh_preview(self):
        try:
            with self._admin(write=False) as ctx:
                rules = admin_billing.proposed_rules(session=ctx.session, operation_type=self.e_op,
                                                     credits_cost=self.e_cost, unit=self.e_unit, is_active=self.e_active,
                                                     tokens_per_credit=self.e_tokens, min_credits=self.e_min)
                p = run_estimate.price_preview(session=ctx.session, proposed=rules)
        except DomainError as exc:
            self.preview = {"error": exc.message}
            return
        cur, new = p["current"]["total"], p["proposed"]["total"]
        self.preview = {"current": fmt_int(cur), "proposed": fmt_int(new), "error": "",
                        "delta": fmt_int(new - cur, signed=True)}

    @rx.event
    def save_cost(self):
        try:
            with self._admin() as ctx:
                admin_billing.update_cost(session=ctx.session, admin_user_id=ctx.user.id, operation_type=self.e_op,
                                          credits_cost=self.e_cost, unit=self.e_unit, is_active=self.e_active,
                                          tokens_per_credit=self.e_tokens, min_credits=self.e_min)
        except DomainError as exc:
            return self._refuse(exc)
        self.edit_open = False
        return [rx.toast.success(f"Cost of {self.e_op} saved; it applies to the next item charged."),
                AdminCostsState.load_costs]

    @rx.var
    def typical_total_label(self) -> str:
        return fmt_int(self.typical_total)


class AdminAccountsState(AdminBaseState):
    """/admin/accounts: every account with its balance, and manual credit adjustments."""

    accounts: list[dict[str, Any]] = []
    acc_page: int = 1
    acc_total: int = 0
    acc_search: str = ""
    adj_open: bool = False
    adj_account_id: int = 0
    adj_account_name: str = ""
    _adj_key: str = ""

    @rx.event
    def load_accounts(self):
        self.admin_denied = ""
        try:
            with self._admin(write=False) as ctx:
                uid = ctx.user.id
                self.acc_total = admin_billing.count_accounts(session=ctx.session, admin_user_id=uid,
                                                              search=self.acc_search)
                self.acc_page = min(self.acc_page, _pages(self.acc_total))
                rows = admin_billing.accounts_overview(session=ctx.session, admin_user_id=uid, search=self.acc_search,
                                                       limit=PER_PAGE, offset=(self.acc_page - 1) * PER_PAGE)
        except DomainError as exc:
            self.accounts = []
            self.admin_denied = exc.message
            return
        self.accounts = [{**a, "balance_label": fmt_int(a["balance"]), "used_label": fmt_int(a["used_this_month"]),
                          "sites_label": fmt_int(a["sites"]), "users_label": fmt_int(a["users"])} for a in rows]

    @rx.event
    def search_accounts(self, form: dict[str, Any]):
        self.acc_search = str(form.get("search", "") or "").strip()[:100]
        self.acc_page = 1
        return AdminAccountsState.load_accounts

    @rx.event
    def go_accounts(self, delta: int):
        self.acc_page = min(_clamp(self.acc_page, delta), _pages(self.acc_total))
        return AdminAccountsState.load_accounts

    @rx.var
    def acc_pager(self) -> str:
        return f"Page {self.acc_page:,} of {_pages(self.acc_total):,} · {count_label(self.acc_total, 'account')}"

    @rx.var
    def acc_last(self) -> bool:
        return self.acc_page >= _pages(self.acc_total)

    @rx.event
    def open_adjust(self, account_id: int, name: str = ""):
        try:
            with self._admin(write=False) as ctx:
                account = ctx.session.get(Account, int(account_id))
                if account is None:
                    raise NotFound("Account not found.")
                self.adj_account_id, self.adj_account_name = account.id, account.name  # from the db, not the client
        except (DomainError, ValueError) as exc:
            return self._refuse(exc if isinstance(exc, DomainError) else NotFound("Account not found."))
        self._adj_key = secrets.token_urlsafe(12)  # one key per dialog: a double submit adjusts once
        self.adj_open = True

    @rx.event
    def set_adj_open(self, value: bool):
        self.adj_open = value

    @rx.event
    def adjust(self, form: dict[str, Any]):
        try:
            with self._admin() as ctx:
                r = admin_billing.adjust_credits(session=ctx.session, admin_user_id=ctx.user.id,
                                                 account_id=self.adj_account_id, amount=form.get("amount", ""),
                                                 reason=str(form.get("reason", "")),
                                                 idempotency_key=self._adj_key or secrets.token_urlsafe(12))
        except DomainError as exc:
            return self._refuse(exc)
        self.adj_open = False
        return [rx.toast.success(f"Adjusted by {r['amount']:+,}; balance now {r['balance_after']:,}."),
                AdminAccountsState.load_accounts]


class AdminPaymentsState(AdminBaseState):
    """/admin/payments: manual payments awaiting approval, and the ones reviewed."""

    pend_page: int = 1
    pend_total: int = 0
    rev_page: int = 1
    rev_total: int = 0
    pending: list[dict[str, Any]] = []
    recent_payments: list[dict[str, Any]] = []
    review_note: str = ""

    @rx.event
    def load_payments(self):
        self.admin_denied = ""
        try:
            with self._admin(write=False) as ctx:
                s = ctx.session
                _, self.pend_total = payments.list_payments(session=s, account_id=None, status=PaymentStatus.PENDING_APPROVAL.value,
                                                            methods=MANUAL, limit=0)
                _, self.rev_total = payments.list_payments(session=s, account_id=None, limit=0,
                                                           exclude_queue=True)
                self.pend_page = min(self.pend_page, _pages(self.pend_total))
                self.rev_page = min(self.rev_page, _pages(self.rev_total))
                pending, _ = payments.list_payments(session=s, account_id=None, status=PaymentStatus.PENDING_APPROVAL.value,
                                                    methods=MANUAL, limit=PER_PAGE,
                                                    offset=(self.pend_page - 1) * PER_PAGE)
                recent, _ = payments.list_payments(session=s, account_id=None, exclude_queue=True,
                                                   limit=PER_PAGE, offset=(self.rev_page - 1) * PER_PAGE)
        except DomainError as exc:
            self.pending = self.recent_payments = []
            self.admin_denied = exc.message
            return
        fix = lambda r: {**r, "date": r["created_at"][:16].replace("T", " "),  # noqa: E731
                         "method_label": payments.METHOD_LABELS.get(r["method"], r["method"])}
        self.pending = [fix(r) for r in pending]
        self.recent_payments = [fix(r) for r in recent]

    @rx.event
    def go_pending(self, delta: int):
        self.pend_page = min(_clamp(self.pend_page, delta), _pages(self.pend_total))
        return AdminPaymentsState.load_payments

    @rx.event
    def go_reviewed(self, delta: int):
        self.rev_page = min(_clamp(self.rev_page, delta), _pages(self.rev_total))
        return AdminPaymentsState.load_payments

    @rx.var
    def pend_pager(self) -> str:
        return f"Page {self.pend_page:,} of {_pages(self.pend_total):,} · {self.pend_total:,} waiting"

    @rx.var
    def pend_last(self) -> bool:
        return self.pend_page >= _pages(self.pend_total)

    @rx.var
    def rev_pager(self) -> str:
        return f"Page {self.rev_page:,} of {_pages(self.rev_total):,} · {count_label(self.rev_total, 'payment')}"

    @rx.var
    def rev_last(self) -> bool:
        return self.rev_page >= _pages(self.rev_total)

    @rx.event
    def set_review_note(self, value: str):
        self.review_note = value

    @rx.event
    def review(self, payment_id: int, approve: bool):
        try:
            with self._admin() as ctx:
                if approve:
                    payments.approve(session=ctx.session, payment_id=int(payment_id), admin_user_id=ctx.user.id,
                                     note=self.review_note)
                else:
                    payments.reject(session=ctx.session, payment_id=int(payment_id), admin_user_id=ctx.user.id,
                                    note=self.review_note)
        except DomainError as exc:
            return self._refuse(exc)
        self.review_note = ""
        return [rx.toast.success("Payment approved: credits granted." if approve else "Payment rejected."),
                AdminPaymentsState.load_payments]


class AdminInvoicesState(AdminBaseState):
    """/admin/invoices: the invoices of every account; mark paid or void."""

    inv_page: int = 1
    inv_total: int = 0
    all_invoices: list[dict[str, Any]] = []

    @rx.event
    def load_invoices(self):
        self.admin_denied = ""
        try:
            with self._admin(write=False) as ctx:
                _, self.inv_total = invoices.list_invoices(session=ctx.session, account_id=None, limit=0)
                self.inv_page = min(self.inv_page, _pages(self.inv_total))
                rows, _ = invoices.list_invoices(session=ctx.session, account_id=None, limit=PER_PAGE,
                                                 offset=(self.inv_page - 1) * PER_PAGE)
        except DomainError as exc:
            self.all_invoices = []
            self.admin_denied = exc.message
            return
        self.all_invoices = [{**r, "date": r["created_at"][:10], "credits_label": fmt_int(r["credits"]),
                              "can_pay": rules.can_transition_invoice(r["status"], InvoiceStatus.PAID.value),
                              "can_void": rules.can_transition_invoice(r["status"], InvoiceStatus.VOID.value)} for r in rows]

    @rx.event
    def go_invoices(self, delta: int):
        self.inv_page = min(_clamp(self.inv_page, delta), _pages(self.inv_total))
        return AdminInvoicesState.load_invoices

    @rx.var
    def inv_pager(self) -> str:
        return f"Page {self.inv_page:,} of {_pages(self.inv_total):,} · {count_label(self.inv_total, 'invoice')}"

    @rx.var
    def inv_last(self) -> bool:
        return self.inv_page >= _pages(self.inv_total)

    @rx.event
    def invoice_action(self, invoice_id: int, action: str):
        try:
            with self._admin() as ctx:
                if action == InvoiceStatus.PAID.value:
                    invoices.mark_paid(session=ctx.session, invoice_id=int(invoice_id), created_by=ctx.user.id)
                elif action == InvoiceStatus.VOID.value:
                    invoices.transition(session=ctx.session, invoice_id=int(invoice_id), target=InvoiceStatus.VOID.value,
                                        note="Voided by platform admin")
                else:
                    return
        except DomainError as exc:
            return self._refuse(exc)
        return [rx.toast.success("Invoice marked paid." if action == InvoiceStatus.PAID.value else "Invoice voided."),
                AdminInvoicesState.load_invoices]


class AdminPackagesState(AdminBaseState):
    """/admin/packages: the credit packages on sale."""

    packages: list[dict[str, Any]] = []
    pkg_open: bool = False
    pkg: dict[str, Any] = {}

    @rx.event
    def load_packages(self):
        self.admin_denied = ""
        try:
            with self._admin(write=False) as ctx:
                self.packages = [{**payments.package_dict(p), "credits_label": fmt_int(p.credits)}
                                 for p in payments.list_packages(session=ctx.session, active_only=False)]
        except DomainError as exc:
            self.packages = []
            self.admin_denied = exc.message

    @rx.event
    def open_package(self, package_id: int):
        p = next((x for x in self.packages if x["id"] == int(package_id)), None)
        self.pkg = ({"id": p["id"], "name": p["name"], "credits": str(p["credits"]),
                     "price": f"{p['price_cents'] / 100:.2f}", "is_active": p["is_active"]} if p else
                    {"id": 0, "name": "", "credits": "", "price": "", "is_active": True})
        self.pkg_open = True

    @rx.event
    def set_pkg_open(self, value: bool):
        self.pkg_open = value

    @rx.event
    def save_package(self, form: dict[str, Any]):
        try:
            with self._admin() as ctx:
                admin_billing.save_package(session=ctx.session, admin_user_id=ctx.user.id,
                                           package_id=int(self.pkg.get("id") or 0) or None,
                                           name=str(form.get("name", "")), credits=form.get("credits", ""),
                                           price=form.get("price", ""), is_active=form.get("is_active") == "on")
        except DomainError as exc:
            return self._refuse(exc)
        self.pkg_open = False
        return [rx.toast.success("Package saved."), AdminPackagesState.load_packages]


PAGE_LOADERS["/admin"] = AdminCostsState.load_costs
PAGE_LOADERS["/admin/accounts"] = AdminAccountsState.load_accounts
PAGE_LOADERS["/admin/payments"] = AdminPaymentsState.load_payments
PAGE_LOADERS["/admin/invoices"] = AdminInvoicesState.load_invoices
PAGE_LOADERS["/admin/packages"] = AdminPackagesState.load_packages
