"""Billing for account owners and admins: state and handlers of the Billing pages (overview, usage
history, invoices, payments, settings). The views are the other modules of this package.

Every handler re-authorises on the server (``Permission.MANAGE`` on the active site's account) and
takes the account from that check, never from the client.
"""

from __future__ import annotations

import re

from typing import Any
from urllib.parse import urlencode

import reflex as rx

from igny8_app.components import hard_navigate
from igny8_app.components.format import fmt_int
from igny8_app.domain.enums import OperationType
from igny8_app.domain.errors import DomainError
from igny8_app.domain.roles import Permission
from igny8_app.services.billing import ledger as billing
from igny8_app.services.billing import profile as billing_profile
from igny8_app.services.billing import invoices
from igny8_app.services.billing import payments
from igny8_app.services.billing import stripe_checkout as stripe_billing
from igny8_app.services.billing import usage
from igny8_app.services.billing.profile import BillingSettings, FieldErrors
from igny8_app.state import PAGE_LOADERS, SessionState

OPERATIONS = [o.value for o in OperationType]
PER_PAGE = 50


def _fmt_dt(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if hasattr(value, "strftime") else str(value or "")[:16].replace("T", " ")


class BillingState(SessionState):
    billing_denied: str = ""
    used_this_month: int = 0
    low_balance_threshold: int = 0
    low_notice: bool = False
    chart: list[dict[str, Any]] = []
    packages: list[dict[str, Any]] = []
    buy_open: bool = False
    bought: dict[str, str] = {}
    stripe_enabled: bool = False
    card_busy: bool = False
    methods: dict[str, str] = {}
    # usage history
    usage_rows: list[dict[str, Any]] = []
    usage_total: int = 0
    usage_used: int = 0
    usage_net: int = 0
    usage_page: int = 1
    f_from: str = ""
    f_to: str = ""
    f_op: str = "all"
    f_site: str = "all"
    f_run: str = ""
    site_options: list[dict[str, str]] = []
    filter_error: str = ""
    # invoices and payments
    invoice_rows: list[dict[str, Any]] = []
    invoice: dict[str, Any] = {}
    invoice_lines: list[dict[str, Any]] = []
    invoice_open: bool = False
    payment_rows: list[dict[str, Any]] = []
    # settings
    settings: dict[str, str] = {}
    field_errors: dict[str, str] = {}
    settings_saved: bool = False
    settings_loaded: bool = False

    # --- helpers ------------------------------------------------------------------------------------

    def _denied(self, exc: DomainError):
        self.billing_denied = exc.message
        return self._fail(exc) if exc.code == "unauthenticated" else None

    # --- overview -----------------------------------------------------------------------------------

    @rx.event
    def load_overview(self):
        self.billing_denied = ""
        if not self.active_site_id:
            return
        try:
            with self._authorize(Permission.MANAGE, write=False) as ctx:
                aid = ctx.site.account_id
                self.balance = billing.balance(session=ctx.session, account_id=aid)
                self.used_this_month = usage.used_since(session=ctx.session, account_id=aid,
                                                        since=usage.month_start())
                self.low_balance_threshold = billing_profile.get_settings(session=ctx.session, account_id=aid)[
                    "low_balance_threshold"]
                self.low_notice = billing_profile.low_balance_notice(session=ctx.session, account_id=aid) is not None
                self.chart = usage.daily_usage(session=ctx.session, account_id=aid, days=30)
                self.packages = _packages(ctx.session)
        except DomainError as exc:
            return self._denied(exc)
        self.stripe_enabled = stripe_billing.is_configured()
        self.card_busy = self.buy_open = False

    @rx.event
    def dismiss_notice(self):
        try:
            with self._authorize(Permission.MANAGE) as ctx:
                billing_profile.dismiss_low_balance(session=ctx.session, account_id=ctx.site.account_id)
        except DomainError as exc:
            return self._denied(exc)
        self.low_notice = False

    @rx.event
    def set_buy_open(self, value: bool):
        self.buy_open = value
        if value:
            self.bought = {}

    @rx.event
    def buy_package(self, package_id: int):
        try:
            with self._authorize(Permission.MANAGE) as ctx:
                inv, pay = payments.buy_package(session=ctx.session, account_id=ctx.site.account_id,
                                                package_id=int(package_id), method="bank_transfer")
                info = payments.bank_instructions(pay)
                self.bought = {**info, "invoice": inv.number, "invoice_id": str(inv.id)}
        except (DomainError, ValueError) as exc:
            return self._fail(exc if isinstance(exc, DomainError) else DomainError("Unknown package."))
        return [rx.toast.success(f"Invoice {self.bought['invoice']} created: pay by bank transfer."),
                BillingState.load_payments]

    @rx.event
    def buy_with_card(self, package_id: int):
        """Stripe Checkout: the invoice and payment are created, then the browser goes to Stripe."""
        if self.card_busy:
            return None
        try:
            with self._authorize(Permission.MANAGE) as ctx:
                aid = ctx.site.account_id
            self.card_busy = True
            yield  # show the spinner while Stripe answers
            co = stripe_billing.start_checkout(account_id=aid, package_id=int(package_id))
        except (DomainError, ValueError) as exc:
            self.card_busy = False
            yield self._fail(exc if isinstance(exc, DomainError) else DomainError("Unknown package."))
            return
        self.buy_open = False  # closed when the customer comes back from Stripe
        yield hard_navigate(co.url)  # card_busy stays set: a second click while the page leaves buys nothing

    # --- usage history ------------------------------------------------------------------------------

    def _filter(self) -> usage.UsageFilter:
        return usage.UsageFilter.parse(date_from=self.f_from, date_to=self.f_to,
                                       operation=None if self.f_op == "all" else self.f_op,
                                       site_id=None if self.f_site == "all" else self.f_site, run_id=self.f_run)

    @rx.event
    def load_usage(self):
        self.billing_denied = ""
        self.filter_error = ""
        if not self.active_site_id:
            return
        try:
            f = self._filter()
        except DomainError as exc:
            self.filter_error = exc.message
            return
        try:
            with self._authorize(Permission.MANAGE, write=False) as ctx:
                aid = ctx.site.account_id
                rows, totals = usage.history_page(session=ctx.session, account_id=aid, f=f, page=self.usage_page,
                                                  per_page=PER_PAGE)
                self.site_options = [{"value": str(x["id"]), "label": x["name"]}
                                     for x in usage.account_sites(session=ctx.session, account_id=aid)]
        except DomainError as exc:
            return self._denied(exc)
        self.usage_total, self.usage_used, self.usage_net = totals.rows, totals.credits_used, totals.net_change
        self.usage_rows = [{**r, "created_at": _fmt_dt(r["created_at"]), "site": r["site"] or "—",
                            "operation": r["operation"] or "—", "tokens": fmt_int(r["tokens_in"] + r["tokens_out"]),
                            "credits_label": fmt_int(r["credits"], signed=True),
                            "balance_after": fmt_int(r["balance_after"])}
                           for r in rows]

    @rx.event
    def apply_filters(self, form: dict[str, Any]):
        self.f_from = str(form.get("from", "") or "")
        self.f_to = str(form.get("to", "") or "")
        self.f_run = str(form.get("run_id", "") or "")
        self.usage_page = 1
        return BillingState.load_usage

    @rx.event
    def set_f_op(self, value: str):
        self.f_op = value if value in OPERATIONS else "all"
        self.usage_page = 1
        return BillingState.load_usage

    @rx.event
    def set_f_site(self, value: str):
        self.f_site = value if re.fullmatch(r"[0-9]{1,10}", value) else "all"
        self.usage_page = 1
        return BillingState.load_usage

    @rx.event
    def clear_filters(self):
        self.f_from = self.f_to = self.f_run = ""
        self.f_op = self.f_site = "all"
        self.usage_page = 1
        return BillingState.load_usage

    @rx.event
    def go_usage_page(self, delta: int):
        self.usage_page = max(1, min(self.usage_page + int(delta), self.usage_pages))
        return BillingState.load_usage

    @rx.event
    def export_csv(self):
        try:
            f = self._filter()
            with self._authorize(Permission.MANAGE) as ctx:
                aid = ctx.site.account_id
        except DomainError as exc:
            return self._fail(exc)
        q = {"account_id": aid, "from": self.f_from, "to": self.f_to, "operation": f.operation or "",
             "site_id": f.site_id or "", "run_id": f.run_id or ""}
        return hard_navigate("/files/usage.csv?" + urlencode({k: v for k, v in q.items() if v != ""}))

    @rx.var
    def checkout_notice(self) -> str:
        """After Stripe Checkout sends the customer back (success_url / cancel_url)."""
        return self.router.url.query_parameters.get("checkout", "")

    @rx.var
    def usage_pages(self) -> int:
        return max(1, -(-self.usage_total // PER_PAGE))

    @rx.var
    def usage_pages_label(self) -> str:
        return f"Page {self.usage_page:,} of {self.usage_pages:,}"

    @rx.var
    def usage_total_label(self) -> str:
        return fmt_int(self.usage_total)

    @rx.var
    def usage_used_label(self) -> str:
        return fmt_int(self.usage_used)

    @rx.var
    def usage_net_label(self) -> str:
        return fmt_int(self.usage_net, signed=True)

    @rx.var
    def used_this_month_label(self) -> str:
        return fmt_int(self.used_this_month)

    @rx.var
    def threshold_label(self) -> str:
        return fmt_int(self.low_balance_threshold)

    # --- invoices and payments ----------------------------------------------------------------------

    @rx.event
    def load_invoices(self):
        self.billing_denied = ""
        if not self.active_site_id:
            return
        try:
            with self._authorize(Permission.MANAGE, write=False) as ctx:
                rows, _ = invoices.list_invoices(session=ctx.session, account_id=ctx.site.account_id)
        except DomainError as exc:
            return self._denied(exc)
        self.invoice_rows = [{**r, "date": r["created_at"][:10], "credits_label": fmt_int(r["credits"])} for r in rows]

    @rx.event
    def open_invoice(self, invoice_id: int):
        try:
            with self._authorize(Permission.MANAGE, write=False) as ctx:
                view = invoices.get_invoice(session=ctx.session, invoice_id=int(invoice_id),
                                            account_id=ctx.site.account_id)
                inv = view.invoice
                self.invoice = {**invoices.invoice_dict(inv), "date": inv.created_at.strftime("%d %b %Y"),
                                "subtotal": rules_money(inv.subtotal_cents, inv.currency),
                                "tax": rules_money(inv.tax_cents, inv.currency),
                                "pdf": f"/files/invoices/{inv.id}.pdf",
                                "bill_to": ", ".join(str(v) for k, v in (inv.billing_snapshot or {}).items()
                                                     if v and k != "billing_email")}
                self.invoice_lines = [{**invoices.line_dict(x, inv.currency), "quantity": fmt_int(x.quantity)}
                                      for x in view.lines]
        except (DomainError, ValueError) as exc:
            return self._fail(exc if isinstance(exc, DomainError) else DomainError("Invoice not found."))
        self.invoice_open = True

    @rx.event
    def set_invoice_open(self, value: bool):
        self.invoice_open = value

    @rx.event
    def load_payments(self):
        self.billing_denied = ""
        if not self.active_site_id:
            return
        try:
            with self._authorize(Permission.MANAGE, write=False) as ctx:
                rows, _ = payments.list_payments(session=ctx.session, account_id=ctx.site.account_id)
                self.packages = _packages(ctx.session)
        except DomainError as exc:
            return self._denied(exc)
        self.stripe_enabled = stripe_billing.is_configured()
        self.card_busy = False  # buy_open stays: a bank-transfer purchase reloads this list under its dialog
        self.payment_rows = [{**r, "date": r["created_at"][:10], "status_label": r["status"].replace("_", " "),
                              "method_label": payments.METHOD_LABELS.get(r["method"], r["method"])} for r in rows]

    # --- settings -----------------------------------------------------------------------------------

    @rx.event
    def load_settings(self):
        self.billing_denied = ""
        self.field_errors = {}
        self.settings_saved = False
        self.settings_loaded = False
        if not self.active_site_id:
            return
        try:
            with self._authorize(Permission.MANAGE, write=False) as ctx:
                data = billing_profile.get_settings(session=ctx.session, account_id=ctx.site.account_id)
                self.methods = payments.methods_on_file(session=ctx.session, account_id=ctx.site.account_id)
        except DomainError as exc:
            return self._denied(exc)
        self.stripe_enabled = stripe_billing.is_configured()
        self.settings = {k: str(v) for k, v in data.items()}
        self.settings_loaded = True  # the form mounts only now, so nothing typed is lost to a late load

    @rx.event
    def save_settings(self, form: dict[str, Any]):
        self.settings_saved = False
        data = BillingSettings(**{k: str(form.get(k, "") or "") for k in
                                  ("billing_email", "company", "address", "country", "tax_id",
                                   "low_balance_threshold")})
        try:
            with self._authorize(Permission.MANAGE) as ctx:
                saved = billing_profile.update_settings(session=ctx.session, account_id=ctx.site.account_id,
                                                        data=data)
        except FieldErrors as exc:
            self.field_errors = exc.errors
            return rx.toast.error("Please correct the highlighted fields.")
        except DomainError as exc:
            return self._fail(exc)
        self.field_errors = {}
        self.settings = {k: str(v) for k, v in saved.items()}
        self.settings_saved = True
        return rx.toast.success("Billing settings saved.")


def _packages(session: Any) -> list[dict[str, Any]]:
    return [{**payments.package_dict(p), "credits_label": fmt_int(p.credits)}
            for p in payments.list_packages(session=session)]


def rules_money(cents: int, currency: str) -> str:
    from igny8_app.domain.invoices import format_money

    return format_money(cents, currency)


PAGE_LOADERS["/billing"] = BillingState.load_overview
PAGE_LOADERS["/billing/usage"] = BillingState.load_usage
PAGE_LOADERS["/billing/invoices"] = BillingState.load_invoices
PAGE_LOADERS["/billing/payments"] = BillingState.load_payments
PAGE_LOADERS["/billing/settings"] = BillingState.load_settings
