"""Sign-in page: layout."""

from __future__ import annotations

import reflex as rx

from igny8_app.components.layout import signed_out_card
from igny8_app.pages.login.state import LoginState


def login_page() -> rx.Component:
    return signed_out_card(
        "sparkles", "IGNY8 Automation", "Sign in to your workspace",
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
        width="400px",
    )
