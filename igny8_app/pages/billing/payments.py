"""Payments (/billing/payments): the account's payments and their status."""

from __future__ import annotations

import reflex as rx

from igny8_app.components.layout import empty_state
from igny8_app.components.widgets import card, status_badge
from igny8_app.pages.billing.frame import billing_frame
from igny8_app.pages.billing.overview import buy_dialog
from igny8_app.pages.billing.state import BillingState as B


def billing_payments_page() -> rx.Component:
    return billing_frame(
        "Payments",
        rx.match(
            B.checkout_notice,
            ("success", rx.callout("Thank you: Stripe has your card payment. The invoice is marked paid and the "
                                   "credits are added as soon as Stripe confirms it (usually within seconds).",
                                   icon="circle-check", color_scheme="green", id="checkout-success", width="100%")),
            ("cancelled", rx.callout("Card checkout cancelled: nothing was charged.", icon="info",
                                     color_scheme="gray", id="checkout-cancelled", width="100%")),
            rx.fragment(),
        ),
        rx.hstack(rx.cond(B.stripe_enabled,
                          rx.text("Card payments are credited when Stripe confirms them; bank transfers once IGNY8 "
                                  "has approved them.", size="2", color_scheme="gray"),
                          rx.text("Bank transfers wait for approval by IGNY8; credits are added when approved.",
                                  size="2", color_scheme="gray")),
                  rx.spacer(), buy_dialog(), width="100%", align="center"),
        card("Payments", rx.cond(
            B.payment_rows.length() > 0,
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                               ("Date", "Invoice", "Method", "Reference", "Amount", "Status",
                                                "Note")])),
                rx.table.body(rx.foreach(B.payment_rows, lambda r: rx.table.row(
                    rx.table.cell(r["date"].to(str), white_space="nowrap"),
                    rx.table.cell(r["invoice_number"].to(str), white_space="nowrap"),
                    rx.table.cell(r["method_label"].to(str), white_space="nowrap"),
                    rx.table.cell(rx.code(r["reference"].to(str)), white_space="nowrap"),
                    rx.table.cell(r["amount"].to(str)),
                    rx.table.cell(status_badge(r["display_status"])),
                    rx.table.cell(r["note"].to(str)),
                    class_name="payment-row",
                ))),
                width="100%",
                id="payments-table",
            ),
            empty_state("wallet", "No payments yet", "Buy a credit package to get started."),
        )),
    )
