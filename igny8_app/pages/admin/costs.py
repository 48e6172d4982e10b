"""Credit costs (/admin): the price of each operation, its audit trail, a typical run's price."""

from __future__ import annotations

import reflex as rx

from igny8_app.components.layout import stat_card
from igny8_app.components.widgets import card, data_table
from igny8_app.pages.admin.frame import admin_frame
from igny8_app.pages.admin.state import UNITS, AdminCostsState as A


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
        card("Operations", data_table(
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
            data_table(["When", "Who", "Operation", "Change (old → new)"], A.audit, lambda a: rx.table.row(
                rx.table.cell(a["when"].to(str)), rx.table.cell(a["who"].to(str)),
                rx.table.cell(rx.code(a["operation"].to(str))), rx.table.cell(a["change"].to(str)),
                class_name="audit-row"), "audit-table"),
            rx.text("No changes yet.", size="2", color_scheme="gray"))),
        _edit_cost_dialog(),
    )
