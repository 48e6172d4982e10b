"""Invoices (/billing/invoices): the account's invoices, one opened in a dialog."""

from __future__ import annotations

import reflex as rx

from igny8_app.components.layout import empty_state
from igny8_app.components.widgets import card, status_badge
from igny8_app.pages.billing.frame import billing_frame
from igny8_app.pages.billing.state import BillingState as B


def _invoice_dialog() -> rx.Component:
    inv = B.invoice
    return rx.dialog.root(
        rx.dialog.content(
            rx.hstack(rx.dialog.title("Invoice ", inv["number"].to(str)), rx.spacer(), status_badge(inv["status"]),
                      align="center", width="100%"),
            rx.text(inv["date"].to(str), " · ", inv["type"].to(str), size="2", color_scheme="gray"),
            rx.text("Bill to: ", inv["bill_to"].to(str), size="2", padding_y="8px"),
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                               ("Description", "Qty", "Unit price", "Amount")])),
                rx.table.body(rx.foreach(B.invoice_lines, lambda x: rx.table.row(
                    rx.table.cell(x["description"].to(str)), rx.table.cell(x["quantity"].to(str)),
                    rx.table.cell(x["unit_price"].to(str)), rx.table.cell(x["amount"].to(str)),
                    class_name="invoice-line"))),
                width="100%", size="1",
            ),
            rx.vstack(
                rx.text("Subtotal ", inv["subtotal"].to(str), size="2", color_scheme="gray"),
                rx.text("Tax ", inv["tax"].to(str), size="2", color_scheme="gray"),
                rx.text("Total ", inv["total"].to(str), weight="bold", size="4", id="invoice-total"),
                align="end", width="100%", spacing="1", padding_top="8px",
            ),
            rx.hstack(
                rx.el.a(rx.button(rx.icon("file-down", size=16), "Download PDF", variant="outline"),
                        href=inv["pdf"].to(str), id="invoice-pdf-link", target="_blank"),
                rx.spacer(),
                rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")),
                width="100%", padding_top="12px",
            ),
            max_width="640px",
            id="invoice-detail",
        ),
        open=B.invoice_open,
        on_open_change=B.set_invoice_open,
    )


def billing_invoices_page() -> rx.Component:
    return billing_frame(
        "Invoices",
        card("Invoices", rx.cond(
            B.invoice_rows.length() > 0,
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                               ("Number", "Date", "Type", "Status", "Total", "")])),
                rx.table.body(rx.foreach(B.invoice_rows, lambda r: rx.table.row(
                    rx.table.cell(rx.link(r["number"].to(str), on_click=B.open_invoice(r["id"].to(int)),
                                          cursor="pointer", weight="medium")),
                    rx.table.cell(r["date"].to(str)),
                    rx.table.cell(r["type"].to(str)),
                    rx.table.cell(status_badge(r["status"])),
                    rx.table.cell(r["total"].to(str)),
                    rx.table.cell(rx.hstack(
                        rx.button("View", size="1", variant="soft", on_click=B.open_invoice(r["id"].to(int))),
                        rx.el.a(rx.button(rx.icon("file-down", size=14), "PDF", size="1", variant="outline"),
                                href="/files/invoices/" + r["id"].to(str) + ".pdf", target="_blank"),
                        spacing="2")),
                    class_name="invoice-row",
                ))),
                width="100%",
                id="invoices-table",
            ),
            empty_state("receipt", "No invoices yet", "Buying credits creates an invoice."),
        )),
        _invoice_dialog(),
    )
