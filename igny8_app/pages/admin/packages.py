"""Credit packages (/admin/packages): the packages on sale; add or edit one."""

from __future__ import annotations

import reflex as rx

from igny8_app.components.layout import dialog_actions
from igny8_app.components.widgets import card, data_table
from igny8_app.pages.admin.frame import admin_frame
from igny8_app.pages.admin.state import AdminPackagesState as A


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
                    dialog_actions(rx.button("Save", type="submit", id="pkg-save")),
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
        card("Packages", data_table(
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
