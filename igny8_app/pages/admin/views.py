"""Platform admin pages (views only; state and handlers in admin.py)."""

from __future__ import annotations

import reflex as rx

from igny8_app.components.layout import empty_state, page_frame, stat_card
from igny8_app.pages.admin.state import UNITS, AdminState as A
from igny8_app.pages.billing.views import card, status_badge

TABS = [("Credit costs", "/admin", "coins"), ("Accounts", "/admin/accounts", "building-2"),
        ("Payments", "/admin/payments", "badge-check"), ("Invoices", "/admin/invoices", "receipt"),
        ("Packages", "/admin/packages", "package")]


def _tabs() -> rx.Component:
    path = A.router.page.path
    return rx.hstack(
        *[rx.link(rx.hstack(rx.icon(icon, size=15), rx.text(label, size="2", weight="medium"), spacing="2",
                            align="center"),
                  href=href, underline="none", id=f"tab-{href.strip('/').replace('/', '-')}", padding="7px 12px",
                  border_radius="8px", background=rx.cond(path == href, "var(--indigo-a3)", "transparent"),
                  color=rx.cond(path == href, "var(--indigo-11)", "var(--gray-11)"))
          for label, href, icon in TABS],
        spacing="1", width="100%",
    )


def admin_frame(title: str, *children: rx.Component) -> rx.Component:
    return page_frame(
        title,
        rx.cond(
            A.admin_denied != "",
            rx.callout(A.admin_denied, icon="lock", color_scheme="amber", id="admin-denied"),
            rx.vstack(_tabs(), *children, width="100%", spacing="4"),
        ),
    )


def _pager(label: rx.Var, page: rx.Var, last: rx.Var, go, pager_id: str) -> rx.Component:  # noqa: ANN001
    """Server-side paging controls: the handler ``go(delta)`` loads the previous or next page."""
    return rx.hstack(
        rx.text(label, size="2", color_scheme="gray", id=f"{pager_id}-label"),
        rx.spacer(),
        rx.button(rx.icon("chevron-left", size=16), variant="soft", size="1", on_click=go(-1), disabled=page <= 1,
                  id=f"{pager_id}-prev", aria_label="Previous page"),
        rx.button(rx.icon("chevron-right", size=16), variant="soft", size="1", on_click=go(1), disabled=last,
                  id=f"{pager_id}-next", aria_label="Next page"),
        width="100%", align="center", spacing="2",
    )


def _table(heads: list[str], rows: rx.Var, row_fn, table_id: str) -> rx.Component:  # noqa: ANN001
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in heads])),
        rx.table.body(rx.foreach(rows, row_fn)),
        width="100%", id=table_id,
    )


# --- credit costs -----------------------------------------------------------------------------------

def _edit_cost_dialog() -> rx.Component:
    p = A.preview
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Edit cost: ", A.e_op),
            rx.vstack(
                rx.hstack(
                    rx.vstack(rx.text("Credits", size="2", weight="medium"),
                              rx.input(default_value=A.e_cost, on_change=A.set_e_cost, type="number", min="0",
                                       id="cost-input", key=A.e_op), spacing="1"),
                    rx.vstack(rx.text("Unit", size="2", weight="medium"),
                              rx.select(UNITS, value=A.e_unit, on_change=A.set_e_unit, id="unit-select"), spacing="1"),
                    rx.vstack(rx.text("Active", size="2", weight="medium"),
                              rx.switch(checked=A.e_active, on_change=A.set_e_active, id="active-switch"),
                              spacing="1"),
                    spacing="4", align="start",
                ),
                rx.hstack(
                    rx.vstack(rx.text("Minimum credits per charge", size="2", weight="medium"),
                              rx.input(default_value=A.e_min, on_change=A.set_e_min, type="number", min="0",
                                       id="min-credits-input", key=A.e_op + "-min"), spacing="1"),
                    rx.cond(
                        A.e_unit == "per_1k_tokens",
                        rx.vstack(rx.text("Tokens per credit", size="2", weight="medium"),
                                  rx.input(default_value=A.e_tokens, on_change=A.set_e_tokens, type="number",
                                           min="1", placeholder="1000 (default)", id="tokens-per-credit-input",
                                           key=A.e_op + "-tokens"), spacing="1"),
                    ),
                    spacing="4", align="start",
                ),
                rx.cond(
                    p["error"].to(str) != "",
                    rx.callout(p["error"].to(str), icon="circle-alert", color_scheme="red"),
                    rx.callout(
                        rx.text("A typical 100-keyword run costs ", rx.text.strong(p["current"].to(str)),
                                " credits now and ", rx.text.strong(p["proposed"].to(str), id="preview-proposed"),
                                " with this change (", p["delta"].to(str), ")."),
                        icon="calculator", color_scheme="indigo", id="cost-preview"),
                ),
                rx.text("A change applies to the next item charged and is kept in the audit list.", size="1",
                        color_scheme="gray"),
                rx.hstack(rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray")),
                          rx.button("Save", on_click=A.save_cost, id="save-cost"), justify="end", width="100%"),
                spacing="4",
            ),
            max_width="560px",
        ),
        open=A.edit_open, on_open_change=A.set_edit_open,
    )


def admin_costs_page() -> rx.Component:
    return admin_frame(
        "Credit costs",
        rx.hstack(
            stat_card("Typical 100-keyword run", A.typical_total_label, "calculator",
                      "credits at today's prices"),
            stat_card("Clusters · ideas · articles · images", A.typical_items, "workflow",
                      "estimated items of that run"),
            width="100%", spacing="4",
        ),
        card("Operations", _table(
            ["Operation", "Description", "Credits", "Unit", "Minimum", "Active", ""], A.costs,
            lambda c: rx.table.row(
                rx.table.cell(rx.code(c["operation"].to(str))),
                rx.table.cell(c["name"].to(str)),
                rx.table.cell(c["cost_label"].to(str), class_name="cost-value"),
                rx.table.cell(rx.vstack(rx.text(c["unit"].to(str), size="2"),
                                        rx.cond(c["tokens_label"].to(str) != "",
                                                rx.text(c["tokens_label"].to(str), size="1", color_scheme="gray")),
                                        spacing="0")),
                rx.table.cell(c["min_label"].to(str), class_name="min-value"),
                rx.table.cell(rx.cond(c["active"].to(bool), rx.badge("active", color_scheme="green"),
                                      rx.badge("off", color_scheme="gray"))),
                rx.table.cell(rx.button(rx.icon("pencil", size=14), "Edit", size="1", variant="soft",
                                        on_click=A.edit_cost(c["operation"].to(str)),
                                        id="edit-" + c["operation"].to(str))),
                class_name="cost-row",
            ), "costs-table")),
        card("Audit", rx.cond(
            A.audit.length() > 0,
            _table(["When", "Who", "Operation", "Change (old → new)"], A.audit, lambda a: rx.table.row(
                rx.table.cell(a["when"].to(str)), rx.table.cell(a["who"].to(str)),
                rx.table.cell(rx.code(a["operation"].to(str))), rx.table.cell(a["change"].to(str)),
                class_name="audit-row"), "audit-table"),
            rx.text("No changes yet.", size="2", color_scheme="gray"))),
        _edit_cost_dialog(),
    )


# --- accounts ---------------------------------------------------------------------------------------

def _adjust_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Adjust credits: ", A.adj_account_name),
            rx.form(
                rx.vstack(
                    rx.text("Amount (negative to remove credits)", size="2", weight="medium"),
                    rx.input(name="amount", type="number", required=True, id="adjust-amount", width="100%"),
                    rx.text("Reason (required, shown in the account's history)", size="2", weight="medium"),
                    rx.input(name="reason", required=True, id="adjust-reason", width="100%",
                             placeholder="e.g. Goodwill credit for the outage on 3 March"),
                    rx.hstack(rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                              rx.button("Adjust", type="submit", id="adjust-submit"), justify="end", width="100%"),
                    spacing="3",
                ),
                on_submit=A.adjust, reset_on_submit=False,
            ),
            max_width="480px",
        ),
        open=A.adj_open, on_open_change=A.set_adj_open,
    )


def admin_accounts_page() -> rx.Component:
    return admin_frame(
        "Accounts",
        card("Accounts", rx.form(
            rx.hstack(rx.input(name="search", placeholder="Search accounts by name", default_value=A.acc_search,
                               id="account-search", width="320px"),
                      rx.button(rx.icon("search", size=14), "Search", type="submit", variant="soft",
                                id="account-search-submit"),
                      spacing="2"),
            on_submit=A.search_accounts, reset_on_submit=False,
        ), _table(
            ["Account", "Balance", "Used this month", "Sites", "Users", ""], A.accounts, lambda a: rx.table.row(
                rx.table.cell(rx.hstack(rx.text(a["name"].to(str), weight="medium"),
                                        rx.cond(a["low"].to(bool), rx.badge("low", color_scheme="amber")))),
                rx.table.cell(a["balance_label"].to(str), class_name="account-balance"),
                rx.table.cell(a["used_label"].to(str)),
                rx.table.cell(a["sites_label"].to(str)), rx.table.cell(a["users_label"].to(str)),
                rx.table.cell(rx.button(rx.icon("coins", size=14), "Adjust credits", size="1", variant="soft",
                                        on_click=A.open_adjust(a["id"].to(int), a["name"].to(str)))),
                class_name="account-row", id="account-" + a["id"].to(str),
            ), "accounts-table"),
            _pager(A.acc_pager, A.acc_page, A.acc_last, A.go_accounts, "accounts-pager")),
        _adjust_dialog(),
    )


# --- payments ---------------------------------------------------------------------------------------

def admin_payments_page() -> rx.Component:
    return admin_frame(
        "Payments awaiting approval",
        card("Awaiting approval", rx.cond(
            A.pending.length() > 0,
            rx.vstack(
                rx.input(placeholder="Note for approve / reject (required to reject)", default_value="",
                         on_change=A.set_review_note, id="review-note", width="100%"),
                _table(["Date", "Account", "Invoice", "Reference", "Amount", ""], A.pending, lambda p: rx.table.row(
                    rx.table.cell(p["date"].to(str)), rx.table.cell(p["account"].to(str)),
                    rx.table.cell(p["invoice_number"].to(str)), rx.table.cell(rx.code(p["reference"].to(str))),
                    rx.table.cell(p["amount"].to(str)),
                    rx.table.cell(rx.hstack(
                        rx.button(rx.icon("check", size=14), "Approve", size="1", color_scheme="green",
                                  on_click=A.review(p["id"].to(int), True), class_name="approve-payment"),
                        rx.button(rx.icon("x", size=14), "Reject", size="1", color_scheme="red", variant="soft",
                                  on_click=A.review(p["id"].to(int), False), class_name="reject-payment"),
                        spacing="2")),
                    class_name="pending-row",
                ), "pending-table"),
                _pager(A.pend_pager, A.pend_page, A.pend_last, A.go_pending, "pending-pager"),
                width="100%",
            ),
            empty_state("badge-check", "Nothing to approve", "Bank transfers waiting for approval appear here."),
        )),
        card("Reviewed and card payments", _table(
            ["Date", "Account", "Invoice", "Method", "Amount", "Status", "Note"], A.recent_payments,
            lambda p: rx.table.row(
                rx.table.cell(p["date"].to(str)), rx.table.cell(p["account"].to(str)),
                rx.table.cell(p["invoice_number"].to(str)), rx.table.cell(p["method_label"].to(str)),
                rx.table.cell(p["amount"].to(str)),
                rx.table.cell(status_badge(p["display_status"])), rx.table.cell(p["note"].to(str)),
                class_name="reviewed-row"), "reviewed-table"),
            _pager(A.rev_pager, A.rev_page, A.rev_last, A.go_reviewed, "reviewed-pager")),
    )


# --- invoices ---------------------------------------------------------------------------------------

def admin_invoices_page() -> rx.Component:
    return admin_frame(
        "Invoices",
        card("All accounts", _table(
            ["Number", "Date", "Account", "Type", "Credits", "Status", "Total", ""], A.all_invoices,
            lambda r: rx.table.row(
                rx.table.cell(rx.el.a(r["number"].to(str), href="/files/invoices/" + r["id"].to(str) + ".pdf",
                                      target="_blank")),
                rx.table.cell(r["date"].to(str)), rx.table.cell(r["account"].to(str)),
                rx.table.cell(r["type"].to(str)), rx.table.cell(r["credits_label"].to(str)),
                rx.table.cell(status_badge(r["status"])),
                rx.table.cell(r["total"].to(str)),
                rx.table.cell(rx.hstack(
                    rx.cond(r["can_pay"].to(bool), rx.button("Mark paid", size="1", color_scheme="green",
                                                            on_click=A.invoice_action(r["id"].to(int), "paid"),
                                                            class_name="mark-paid")),
                    rx.cond(r["can_void"].to(bool), rx.button("Void", size="1", color_scheme="gray", variant="soft",
                                                             on_click=A.invoice_action(r["id"].to(int), "void"),
                                                             class_name="void-invoice")),
                    spacing="2")),
                class_name="admin-invoice-row",
            ), "admin-invoices-table"),
            _pager(A.inv_pager, A.inv_page, A.inv_last, A.go_invoices, "invoices-pager")),
    )


# --- packages ---------------------------------------------------------------------------------------

def _package_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(A.pkg["id"].to(int) > 0, "Edit package", "New package")),
            rx.form(
                rx.vstack(
                    rx.text("Name", size="2", weight="medium"),
                    rx.input(name="name", default_value=A.pkg["name"].to(str), required=True, id="pkg-name",
                             width="100%"),
                    rx.hstack(
                        rx.vstack(rx.text("Credits", size="2", weight="medium"),
                                  rx.input(name="credits", default_value=A.pkg["credits"].to(str), id="pkg-credits"),
                                  spacing="1"),
                        rx.vstack(rx.text("Price (USD)", size="2", weight="medium"),
                                  rx.input(name="price", default_value=A.pkg["price"].to(str), id="pkg-price",
                                           placeholder="79.00"), spacing="1"),
                        spacing="4"),
                    rx.hstack(rx.checkbox(name="is_active", default_checked=A.pkg["is_active"].to(bool)),
                              rx.text("Active (customers can buy it)", size="2"), spacing="2"),
                    rx.hstack(rx.dialog.close(rx.button("Cancel", variant="soft", color_scheme="gray", type="button")),
                              rx.button("Save", type="submit", id="pkg-save"), justify="end", width="100%"),
                    spacing="3",
                ),
                on_submit=A.save_package, reset_on_submit=False,
            ),
            max_width="480px",
        ),
        open=A.pkg_open, on_open_change=A.set_pkg_open,
    )


def admin_packages_page() -> rx.Component:
    return admin_frame(
        "Credit packages",
        rx.hstack(rx.spacer(), rx.button(rx.icon("plus", size=16), "New package", on_click=A.open_package(0),
                                         id="new-package"), width="100%"),
        card("Packages", _table(
            ["Name", "Credits", "Price", "Per credit", "Active", ""], A.packages, lambda p: rx.table.row(
                rx.table.cell(p["name"].to(str), weight="medium"), rx.table.cell(p["credits_label"].to(str)),
                rx.table.cell(p["price"].to(str)), rx.table.cell(p["per_credit"].to(str)),
                rx.table.cell(rx.cond(p["is_active"].to(bool), rx.badge("active", color_scheme="green"),
                                      rx.badge("off", color_scheme="gray"))),
                rx.table.cell(rx.button("Edit", size="1", variant="soft", on_click=A.open_package(p["id"].to(int)))),
                class_name="package-row",
            ), "packages-table")),
        _package_dialog(),
    )
