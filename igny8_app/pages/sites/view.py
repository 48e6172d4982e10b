"""Sites & sectors page: layout."""

from __future__ import annotations

import reflex as rx

from igny8_app.components.layout import dialog_actions, empty_state, page_frame
from igny8_app.pages.sites.state import SitesAdminState


S = SitesAdminState


# --- views ------------------------------------------------------------------------------------------

def _edit_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(S.edit_id == 0, "New site", "Edit site")),
            rx.form(
                rx.vstack(
                    rx.text("Name", size="2", weight="medium"),
                    rx.input(name="name", default_value=S.edit_name, required=True, id="site-name", width="100%"),
                    rx.text("Domain", size="2", weight="medium"),
                    rx.input(name="domain", default_value=S.edit_domain, required=True, id="site-domain",
                             placeholder="example.com", width="100%"),
                    rx.text("Sectors (1-5, one per line)", size="2", weight="medium"),
                    rx.text_area(name="sectors", default_value=S.edit_sectors, id="site-sectors", rows="5",
                                 width="100%"),
                    rx.cond(S.edit_error != "", rx.callout(S.edit_error, icon="triangle-alert", color_scheme="red",
                                                           id="site-error", width="100%")),
                    dialog_actions(rx.button("Save", type="submit", id="site-save")),
                    spacing="2", width="100%",
                ),
                on_submit=S.save_site, reset_on_submit=False,
            ),
            max_width="480px",
        ),
        open=S.edit_open, on_open_change=S.set_edit_open,
    )


def _delete_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Delete site"),
            rx.form(
                rx.vstack(
                    rx.callout(rx.text("This deletes ", rx.text.strong(S.delete_name), " with all its keywords, "
                                       "clusters, ideas, tasks, content, images and run history. It cannot be undone."),
                               icon="triangle-alert", color_scheme="red", width="100%"),
                    rx.text("Type the site's name to confirm:", size="2"),
                    rx.input(name="confirm", id="delete-confirm-name", width="100%", auto_complete="off"),
                    rx.cond(S.delete_error != "", rx.text(S.delete_error, color_scheme="red", size="2",
                                                          id="delete-error")),
                    dialog_actions(rx.button("Delete site", color_scheme="red", type="submit", id="delete-submit")),
                    spacing="3", width="100%",
                ),
                on_submit=S.delete_site, reset_on_submit=False,
            ),
            max_width="480px",
        ),
        open=S.delete_open, on_open_change=S.set_delete_open,
    )


def _status(r) -> rx.Component:  # noqa: ANN001
    return rx.cond(r["running"].to(bool), rx.badge("running", color_scheme="blue", variant="soft"),
                   rx.cond(r["active"].to(bool), rx.badge("active", color_scheme="green", variant="soft"),
                           rx.badge("inactive", color_scheme="gray", variant="soft")))


def _table() -> rx.Component:
    heads = ["Site", "Sectors", "Keywords", "Status", "Created", ""]
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in heads])),
        rx.table.body(rx.foreach(S.site_rows, lambda r: rx.table.row(
            rx.table.cell(rx.vstack(rx.text(r["name"].to(str), weight="medium", class_name="site-row-name"),
                                    rx.text(r["domain"].to(str), size="1", color_scheme="gray"), spacing="0")),
            rx.table.cell(rx.flex(rx.foreach(r["sectors"].to(list[str]), lambda x: rx.badge(x, variant="outline")),
                                  gap="4px", wrap="wrap", max_width="320px")),
            rx.table.cell(r["keywords"].to(int).to_string()),
            rx.table.cell(_status(r)),
            rx.table.cell(r["created"].to(str)),
            rx.table.cell(rx.hstack(
                rx.button(rx.icon("pencil", size=13), "Edit", size="1", variant="soft", class_name="site-edit",
                          on_click=S.open_edit(r["id"].to(int))),
                rx.cond(r["active"].to(bool),
                        rx.button("Deactivate", size="1", variant="soft", color_scheme="amber",
                                  class_name="site-deactivate", on_click=S.set_active(r["id"].to(int), False)),
                        rx.button("Reactivate", size="1", variant="soft", color_scheme="green",
                                  class_name="site-activate", on_click=S.set_active(r["id"].to(int), True))),
                rx.cond(S.is_account_owner,
                        rx.button(rx.icon("trash-2", size=13), "Delete", size="1", variant="soft", color_scheme="red",
                                  class_name="site-delete",
                                  on_click=S.open_delete(r["id"].to(int), r["name"].to(str)))),
                spacing="2")),
            class_name="site-row", align="center",
        ))),
        width="100%", variant="surface",
    )


def sites_admin_page() -> rx.Component:
    return page_frame(
        "Sites & sectors",
        rx.cond(
            S.sites_denied != "",
            rx.callout(S.sites_denied + " Sites are managed by account owners and admins.", icon="lock",
                       color_scheme="amber", id="sites-denied"),
            rx.vstack(
                rx.hstack(
                    rx.hstack(rx.switch(checked=S.show_inactive, on_change=S.set_show_inactive, id="show-inactive"),
                              rx.text("Show inactive sites in the site selector", size="2"), spacing="2",
                              align="center"),
                    rx.spacer(),
                    rx.button(rx.icon("plus", size=16), "New site", size="3", id="site-new", on_click=S.open_edit(0)),
                    width="100%", align="center",
                ),
                rx.card(rx.cond(S.site_rows.length() > 0, _table(),
                                empty_state("globe", "No sites yet", "Create a site to import keywords and run "
                                            "the automation.")), width="100%"),
                rx.text("A deactivated site keeps its data and runs nothing. Deleting a site needs no active run.",
                        size="1", color_scheme="gray"),
                _edit_dialog(), _delete_dialog(),
                width="100%", spacing="4",
            ),
        ),
    )
