"""Forgotten password (/forgot: ask for an emailed link) and the reset page (/reset?token=…).
Both are public; the link is single-use and expires (services/accounts/passwords.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import reflex as rx

from igny8_app.components import hard_navigate
from igny8_app.db import read_session
from igny8_app.domain.errors import DomainError
from igny8_app.services.accounts import login_tickets
from igny8_app.services.accounts import passwords

SENT = ("If an account exists for that address, we have emailed a link to reset its password. "
        "It works once and expires in 60 minutes.")


class ResetState(rx.State):
    forgot_done: bool = False
    reset_email: str = ""
    reset_error: str = ""
    form_error: str = ""
    loaded: bool = False

    @rx.event
    def load_forgot(self):
        self.forgot_done = False

    @rx.event
    def request_link(self, form: dict[str, Any]):
        passwords.request_reset(email=str(form.get("email") or ""))
        self.forgot_done = True

    def _token(self) -> str:
        return self.router.url.query_parameters.get("token", "")

    @rx.event
    def load_reset(self):
        self.loaded, self.reset_error, self.form_error = False, "", ""
        try:
            with read_session() as s:
                self.reset_email = passwords.reset_email(session=s, token=self._token())
        except DomainError as exc:
            self.reset_error = exc.message
        self.loaded = True

    @rx.event
    def set_password(self, form: dict[str, Any]):
        new = str(form.get("password") or "")
        if new != str(form.get("password2") or ""):
            self.form_error = "The two passwords differ."
            return
        try:
            token = passwords.complete_reset(token=self._token(), new_password=new)
        except DomainError as exc:
            self.form_error = exc.message
            return
        return hard_navigate("/auth/complete?" + urlencode({"ticket": login_tickets.issue(token), "next": "/keywords"}))
