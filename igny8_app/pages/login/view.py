"""Sign-in page: layout."""

from __future__ import annotations

import reflex as rx

from igny8_app.pages.login.state import LoginState


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
