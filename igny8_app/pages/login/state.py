"""The login page. The password goes over the websocket to ``submit_login``; on success the browser
is sent to /auth/complete with a one-time ticket that becomes the HttpOnly session cookie."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import reflex as rx

from igny8_app.api.auth_routes import safe_next
from igny8_app.api.common import router_client_ip
from igny8_app.components import hard_navigate
from igny8_app.domain.errors import RateLimited, Unauthenticated
from igny8_app.services.accounts import login_tickets
from igny8_app.services.accounts import signin


class LoginState(rx.State):
    form_error: str = ""
    submitting: bool = False

    @rx.var
    def login_error(self) -> str:
        return self.form_error or self.router.url.query_parameters.get("error", "")

    @rx.var
    def login_email(self) -> str:
        return self.router.url.query_parameters.get("email", "")

    @rx.event
    def clear_error(self):
        self.form_error = ""

    @rx.event
    def submit_login(self, form: dict[str, Any]):
        email = str(form.get("email") or "").strip()
        password = str(form.get("password") or "")
        try:
            token = signin.sign_in(email=email, password=password, ip=router_client_ip(self.router))
        except (Unauthenticated, RateLimited) as exc:
            self.form_error = exc.message
            return
        self.form_error = ""
        ticket = login_tickets.issue(token)
        next_url = safe_next(self.router.url.query_parameters.get("next"))
        return hard_navigate("/auth/complete?" + urlencode({"ticket": ticket, "next": next_url}))
