"""API tokens page, for every logged-in user: their tokens (name, created, last used), create one
(its value is shown once), revoke. Owners also see and revoke every token of the active site's
account. Rules in services/accounts/tokens.py; each handler authorises on the server."""

from __future__ import annotations

from typing import Any

import reflex as rx

from igny8_app.components.layout import dialog_actions, empty_state, page_frame
from igny8_app.domain.errors import DomainError
from igny8_app.domain.roles import Permission
from igny8_app.services.accounts import access as accounts
from igny8_app.services.accounts import tokens
from igny8_app.state import PAGE_LOADERS, SessionState


class TokensState(SessionState):
    token_rows: list[dict[str, Any]] = []
    account_scope: bool = False  # the list shows the whole account's tokens (owners)
    new_token: str = ""
    new_token_name: str = ""
    create_open: bool = False
    create_error: str = ""

    def _scope(self, ctx) -> int | None:  # noqa: ANN001
        """The account whose tokens an owner sees, or None (own tokens only)."""
        if not self.active_site_id:
            return None
        try:
            site, _ = accounts.authorize_site(session=ctx.session, user=ctx.user, site_id=self.active_site_id,
                                              permission=Permission.OWN)
        except DomainError:
            return None
        return site.account_id

    @rx.event
    def load_tokens(self):
        try:
            with self._authorize(site=False) as ctx:
                aid = self._scope(ctx)
                self.account_scope = aid is not None
                self.token_rows = tokens.list_tokens(session=ctx.session, user=ctx.user, account_id=aid)
        except DomainError as exc:
            return self._fail(exc)

    @rx.event
    def set_create_open(self, value: bool):
        self.create_open = value
        if value:
            self.new_token, self.new_token_name, self.create_error = "", "", ""

    @rx.event
    def create_token(self, form: dict[str, Any]):
        name = str(form.get("name") or "").strip()
        if not name:
            self.create_error = "Give the token a name, so you know later what uses it."
            return
        try:
            with self._authorize(site=False) as ctx:
                row, plain = tokens.create_token(session=ctx.session, user=ctx.user, name=name)
        except DomainError as exc:
            return self._fail(exc)
        self.new_token, self.new_token_name, self.create_error = plain, row["name"], ""
        return TokensState.load_tokens

    @rx.event
    def revoke(self, token_id: int):
        try:
            with self._authorize(site=False) as ctx:
                tokens.revoke_token(session=ctx.session, user=ctx.user, token_id=int(token_id),
                                    account_id=self._scope(ctx))
        except DomainError as exc:
            return self._fail(exc)
        return [rx.toast.success("Token revoked: it stops working at once."), TokensState.load_tokens]


PAGE_LOADERS["/tokens"] = TokensState.load_tokens
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
