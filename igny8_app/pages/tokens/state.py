"""API tokens page, for every logged-in user: their tokens (name, created, last used), create one
(its value is shown once), revoke. Owners also see and revoke every token of the active site's
account. Rules in services/accounts/tokens.py; each handler authorises on the server."""

from __future__ import annotations

from typing import Any

import reflex as rx

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
            with self._authorize(site=False, write=False) as ctx:
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
