"""All invoices (/admin/invoices): every account's invoices; mark paid or void."""

from __future__ import annotations

import reflex as rx

from igny8_app.components.widgets import card, data_table, pager, status_badge
from igny8_app.domain.enums import InvoiceStatus
from igny8_app.pages.admin.frame import admin_frame
from igny8_app.pages.admin.state import AdminInvoicesState as A


def admin_invoices_page() -> rx.Component:
    return admin_frame(
        "Invoices",
        card("All accounts", data_table(
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
                                                            on_click=A.invoice_action(r["id"].to(int), InvoiceStatus.PAID.value),
                                                            class_name="mark-paid")),
                    rx.cond(r["can_void"].to(bool), rx.button("Void", size="1", color_scheme="gray", variant="soft",
                                                             on_click=A.invoice_action(r["id"].to(int), InvoiceStatus.VOID.value),
                                                             class_name="void-invoice")),
                    spacing="2")),
                class_name="admin-invoice-row",
            ), "admin-invoices-table"),
            pager(A.inv_pager, A.inv_page, A.inv_last, A.go_invoices, "invoices-pager")),
    )
