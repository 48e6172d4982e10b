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


def login_page() -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.center(rx.icon("sparkles", size=20, color="white"), width="40px", height="40px",
                              border_radius="10px", background="linear-gradient(135deg, #4f46e5, #06b6d4)"),
                    rx.vstack(rx.heading("IGNY8 Automation", size="5"),
                              rx.text("Sign in to your workspace", size="2", color_scheme="gray"), spacing="0"),
                    spacing="3",
                    align="center",
                ),
                rx.cond(
                    LoginState.login_error != "",
                    rx.callout(LoginState.login_error, icon="triangle-alert", color_scheme="red", width="100%",
                               id="login-error"),
                ),
                rx.form(
                    rx.vstack(
                        rx.text("Email", size="2", weight="medium"),
                        rx.input(name="email", type="email", placeholder="you@company.com", required=True,
                                 default_value=LoginState.login_email, size="3", width="100%", id="email",
                                 auto_complete="username"),
                        rx.text("Password", size="2", weight="medium"),
                        rx.input(name="password", type="password", required=True, size="3", width="100%",
                                 id="password", auto_complete="current-password"),
                        rx.button("Sign in", type="submit", size="3", width="100%", id="login-submit",
                                  margin_top="8px", loading=LoginState.submitting),
                        rx.link("Forgot your password?", href="/forgot", size="2", id="forgot-link"),
                        spacing="2",
                        width="100%",
                    ),
                    on_submit=LoginState.submit_login,
                    width="100%",
                ),
                spacing="4",
                width="100%",
            ),
            size="4",
            width="400px",
        ),
        height="100vh",
        background="radial-gradient(circle at 20% 20%, #e0e7ff, transparent 40%), "
                   "radial-gradient(circle at 80% 80%, #cffafe, transparent 40%), var(--gray-2)",
    )
