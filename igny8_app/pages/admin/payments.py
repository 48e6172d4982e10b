"""Payment approvals (/admin/payments): manual payments waiting, and the ones reviewed."""

from __future__ import annotations

import reflex as rx

from igny8_app.components.layout import empty_state
from igny8_app.components.widgets import card, data_table, pager, status_badge
from igny8_app.pages.admin.frame import admin_frame
from igny8_app.pages.admin.state import AdminPaymentsState as A


def admin_payments_page() -> rx.Component:
    return admin_frame(
        "Payments awaiting approval",
        card("Awaiting approval", rx.cond(
            A.pending.length() > 0,
            rx.vstack(
                rx.input(placeholder="Note for approve / reject (required to reject)", default_value="",
                         on_change=A.set_review_note, id="review-note", width="100%"),
                data_table(["Date", "Account", "Invoice", "Reference", "Amount", ""], A.pending, lambda p: rx.table.row(
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
                pager(A.pend_pager, A.pend_page, A.pend_last, A.go_pending, "pending-pager"),
                width="100%",
            ),
            empty_state("badge-check", "Nothing to approve", "Bank transfers waiting for approval appear here."),
        )),
        card("Reviewed and card payments", data_table(
            ["Date", "Account", "Invoice", "Method", "Amount", "Status", "Note"], A.recent_payments,
            lambda p: rx.table.row(
                rx.table.cell(p["date"].to(str)), rx.table.cell(p["account"].to(str)),
                rx.table.cell(p["invoice_number"].to(str)), rx.table.cell(p["method_label"].to(str)),
                rx.table.cell(p["amount"].to(str)),
                rx.table.cell(status_badge(p["display_status"])), rx.table.cell(p["note"].to(str)),
                class_name="reviewed-row"), "reviewed-table"),
            pager(A.rev_pager, A.rev_page, A.rev_last, A.go_reviewed, "reviewed-pager")),
    )
