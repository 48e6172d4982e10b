"""Billing overview for account owners and admins: balance, usage this month, recent ledger rows."""

from __future__ import annotations

from typing import Any

import reflex as rx

from igny8_app.components.layout import empty_state, page_frame, stat_card
from igny8_app.domain.errors import DomainError
from igny8_app.domain.roles import Permission
from igny8_app.models import Account, utcnow
from igny8_app.services import billing
from igny8_app.state import PAGE_LOADERS, SessionState


class BillingState(SessionState):
    transactions: list[dict[str, Any]] = []
    used_this_month: int = 0
    low_balance_threshold: int = 0
    billing_denied: str = ""

    @rx.event
    def load_billing(self):
        self.billing_denied = ""
        if not self.active_site_id:
            return
        try:
            with self._authorize(Permission.MANAGE) as ctx:
                account = ctx.session.get(Account, ctx.site.account_id)
                month_start = utcnow().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
                self.used_this_month = billing.used_since(session=ctx.session, account_id=account.id,
                                                          since=month_start)
                self.low_balance_threshold = account.low_balance_threshold
                self.balance = account.credits
                rows = billing.recent_transactions(session=ctx.session, account_id=account.id)
        except DomainError as exc:
            self.transactions = []
            self.billing_denied = exc.message
            return
        self.transactions = [
            {**r, "created_at": r["created_at"].strftime("%Y-%m-%d %H:%M"),
             "operation_type": r["operation_type"] or "—", "run_id": r["run_id"] or ""}
            for r in rows
        ]


PAGE_LOADERS["/billing"] = BillingState.load_billing


def _tx_table() -> rx.Component:
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                       ("Date", "Type", "Operation", "Description", "Credits", "Balance after")])),
        rx.table.body(rx.foreach(BillingState.transactions, lambda t: rx.table.row(
            rx.table.cell(t["created_at"].to(str)),
            rx.table.cell(rx.badge(t["type"].to(str), variant="soft")),
            rx.table.cell(t["operation_type"].to(str)),
            rx.table.cell(t["description"].to(str)),
            rx.table.cell(rx.text(t["amount"].to_string(), color=rx.cond(t["amount"].to(int) < 0, "var(--red-11)",
                                                                        "var(--green-11)"), weight="medium")),
            rx.table.cell(t["balance_after"].to_string()),
        ))),
        width="100%",
        id="transactions-table",
    )


def billing_page() -> rx.Component:
    return page_frame(
        "Billing",
        rx.cond(
            BillingState.billing_denied != "",
            rx.callout(BillingState.billing_denied + " Billing is for account owners and admins.", icon="lock",
                       color_scheme="amber", id="billing-denied"),
            rx.vstack(
                rx.hstack(
                    stat_card("Balance", BillingState.balance.to_string(), "coins", "credits available"),
                    stat_card("Used this month", BillingState.used_this_month.to_string(), "activity", "credits"),
                    stat_card("Low-balance alert", BillingState.low_balance_threshold.to_string(), "bell",
                              "credits"),
                    width="100%",
                    spacing="4",
                ),
                rx.card(
                    rx.vstack(
                        rx.heading("Recent transactions", size="4"),
                        rx.cond(BillingState.transactions.length() > 0, _tx_table(),
                                empty_state("receipt", "No transactions yet", "Grants and charges appear here.")),
                        width="100%",
                    ),
                    width="100%",
                ),
                width="100%",
                spacing="4",
            ),
        ),
    )
