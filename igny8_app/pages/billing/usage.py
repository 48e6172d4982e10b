"""Usage history (/billing/usage): every charge, filtered and paged; CSV export."""

from __future__ import annotations

import reflex as rx

from igny8_app.components.layout import empty_state, stat_card
from igny8_app.pages.billing.frame import billing_frame
from igny8_app.pages.billing.state import OPERATIONS, BillingState as B


def _usage_filters() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.vstack(rx.text("From", size="1", color_scheme="gray"),
                      rx.input(name="from", type="date", default_value=B.f_from, id="f-from"), spacing="1"),
            rx.vstack(rx.text("To", size="1", color_scheme="gray"),
                      rx.input(name="to", type="date", default_value=B.f_to, id="f-to"), spacing="1"),
            rx.vstack(rx.text("Operation", size="1", color_scheme="gray"),
                      rx.select.root(rx.select.trigger(id="f-op", min_width="150px"),
                                     rx.select.content(rx.select.item("All operations", value="all"),
                                                       *[rx.select.item(o.replace("_", " "), value=o)
                                                         for o in OPERATIONS]),
                                     value=B.f_op, on_change=B.set_f_op), spacing="1"),
            rx.vstack(rx.text("Site", size="1", color_scheme="gray"),
                      rx.select.root(rx.select.trigger(id="f-site", min_width="150px"),
                                     rx.select.content(rx.select.item("All sites", value="all"),
                                                       rx.foreach(B.site_options, lambda o: rx.select.item(
                                                           o["label"], value=o["value"]))),
                                     value=B.f_site, on_change=B.set_f_site), spacing="1"),
            rx.vstack(rx.text("Run", size="1", color_scheme="gray"),
                      rx.input(name="run_id", placeholder="run id", default_value=B.f_run, id="f-run"), spacing="1"),
            rx.button(rx.icon("filter", size=14), "Apply", type="submit", id="apply-filters"),
            rx.button("Clear", variant="soft", color_scheme="gray", type="button", on_click=B.clear_filters),
            rx.spacer(),
            rx.button(rx.icon("download", size=14), "Export CSV", variant="outline", type="button",
                      on_click=B.export_csv, id="export-csv"),
            align="end", spacing="3", width="100%", wrap="wrap",
        ),
        on_submit=B.apply_filters,
        reset_on_submit=False,
    )


def _usage_table() -> rx.Component:
    heads = ["Date", "Type", "Operation", "Site", "Run", "Item", "Credits", "Tokens", "Balance after"]
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in heads])),
        rx.table.body(rx.foreach(B.usage_rows, lambda r: rx.table.row(
            rx.table.cell(r["created_at"].to(str), white_space="nowrap"),
            rx.table.cell(rx.badge(r["type"].to(str), variant="soft",
                                   color_scheme=rx.cond(r["type"].to(str) == "deduction", "gray", "green"))),
            rx.table.cell(r["operation"].to(str)),
            rx.table.cell(r["site"].to(str)),
            rx.table.cell(rx.cond(r["run_id"].to(str) != "",
                                  rx.link(r["run_id"].to(str), href="/automation?run_id=" + r["run_id"].to(str),
                                          size="1"), "—")),
            rx.table.cell(r["item"].to(str)),
            rx.table.cell(rx.text(r["credits_label"].to(str), weight="medium",
                                  color=rx.cond(r["credits"].to(int) < 0, "var(--red-11)", "var(--green-11)")),
                          text_align="right"),
            rx.table.cell(r["tokens"].to(str), text_align="right"),
            rx.table.cell(r["balance_after"].to(str), text_align="right", class_name="balance-after"),
            class_name="usage-row",
        ))),
        width="100%",
        size="1",
        id="usage-table",
    )


def billing_usage_page() -> rx.Component:
    return billing_frame(
        "Usage history",
        rx.hstack(
            stat_card("Rows", B.usage_total_label, "list", "matching the filters"),
            stat_card("Credits used", B.usage_used_label, "activity", "charges in the selection"),
            stat_card("Net change", B.usage_net_label, "scale", "charges, grants and refunds"),
            width="100%", spacing="4",
        ),
        rx.card(rx.vstack(
            _usage_filters(),
            rx.cond(B.filter_error != "", rx.callout(B.filter_error, icon="circle-alert", color_scheme="red",
                                                     id="filter-error")),
            rx.cond(B.usage_rows.length() > 0, _usage_table(),
                    empty_state("list", "No usage matches", "Charges and grants appear here. Clear the filters "
                                                            "to see everything.")),
            rx.hstack(
                rx.text(B.usage_total_label, " rows", size="2", color_scheme="gray", id="usage-count"),
                rx.spacer(),
                rx.button(rx.icon("chevron-left", size=16), variant="soft", size="1", on_click=B.go_usage_page(-1),
                          disabled=B.usage_page <= 1, id="usage-prev"),
                rx.text(B.usage_pages_label, size="2", id="usage-page-label"),
                rx.button(rx.icon("chevron-right", size=16), variant="soft", size="1", on_click=B.go_usage_page(1),
                          disabled=B.usage_page >= B.usage_pages, id="usage-next"),
                width="100%", align="center",
            ),
            width="100%", spacing="4",
        ), width="100%"),
    )
