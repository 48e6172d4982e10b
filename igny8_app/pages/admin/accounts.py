"""Accounts (/admin/accounts): every account's balance and use; adjust credits."""

from __future__ import annotations

import reflex as rx

from igny8_app.components.layout import dialog_actions
from igny8_app.components.widgets import card, data_table, pager
from igny8_app.pages.admin.frame import admin_frame
from igny8_app.pages.admin.state import AdminAccountsState as A


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
                    dialog_actions(rx.button("Adjust", type="submit", id="adjust-submit")),
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
        ), data_table(
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
            pager(A.acc_pager, A.acc_page, A.acc_last, A.go_accounts, "accounts-pager")),
        _adjust_dialog(),
    )
