"""API tokens page: layout."""

from __future__ import annotations

import reflex as rx

from igny8_app.components.layout import dialog_actions, empty_state, page_frame
from igny8_app.pages.tokens.state import TokensState


K = TokensState


def _create_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(rx.button(rx.icon("plus", size=16), "New token", id="token-create-open", size="3")),
        rx.dialog.content(
            rx.dialog.title("New API token"),
            rx.cond(
                K.new_token != "",
                rx.vstack(
                    rx.callout("Copy the token now: it is shown only once. We store only its fingerprint.",
                               icon="circle-check", color_scheme="green", width="100%"),
                    rx.text(K.new_token_name, weight="bold"),
                    rx.input(value=K.new_token, read_only=True, id="token-value", width="100%",
                             font_family="monospace"),
                    rx.text("Send it as ", rx.code("Authorization: Bearer <token>"), ".", size="2",
                            color_scheme="gray"),
                    rx.hstack(rx.dialog.close(rx.button("Done", id="token-done")), justify="end", width="100%"),
                    spacing="3", width="100%",
                ),
                rx.form(
                    rx.vstack(
                        rx.text("Name", size="2", weight="medium"),
                        rx.input(name="name", placeholder="e.g. CI deploy", id="token-name", width="100%",
                                 max_length=120),
                        rx.cond(K.create_error != "", rx.callout(K.create_error, icon="triangle-alert",
                                                                 color_scheme="red", width="100%")),
                        rx.text("The token acts as you, with your role in each account.", size="1",
                                color_scheme="gray"),
                        dialog_actions(rx.button("Create token", type="submit", id="token-create")),
                        spacing="2", width="100%",
                    ),
                    on_submit=K.create_token, reset_on_submit=False,
                ),
            ),
            max_width="520px",
        ),
        open=K.create_open,
        on_open_change=K.set_create_open,
    )


def _table() -> rx.Component:
    heads = ["Name", "Token", "Owner", "Created", "Last used", ""]
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in heads])),
        rx.table.body(rx.foreach(K.token_rows, lambda t: rx.table.row(
            rx.table.cell(rx.text(t["name"].to(str), weight="medium")),
            rx.table.cell(rx.code(t["prefix"].to(str))),
            rx.table.cell(rx.cond(t["mine"].to(bool), rx.badge("you", variant="soft"), rx.text(t["owner"].to(str)))),
            rx.table.cell(t["created"].to(str)),
            rx.table.cell(t["last_used"].to(str)),
            rx.table.cell(rx.button("Revoke", size="1", variant="soft", color_scheme="red", class_name="token-revoke",
                                    on_click=K.revoke(t["id"].to(int)))),
            class_name="token-row", data_name=t["name"].to(str), align="center",
        ))),
        width="100%", variant="surface",
    )


def tokens_page() -> rx.Component:
    return page_frame(
        "API tokens",
        rx.hstack(
            rx.text(rx.cond(K.account_scope, "Every live token of this account's members (you are an owner).",
                            "Your personal tokens for the REST API (/api/v1)."), size="2", color_scheme="gray"),
            rx.spacer(), _create_dialog(), width="100%", align="center",
        ),
        rx.card(
            rx.cond(K.token_rows.length() > 0, _table(),
                    empty_state("key", "No tokens", "Create a token to call the REST API from scripts and CI.")),
            width="100%", id="tokens-card",
        ),
    )
