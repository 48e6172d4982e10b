"""The login page: a plain form posted to /auth/login, which sets an HttpOnly session cookie."""

from __future__ import annotations

import reflex as rx


class LoginState(rx.State):
    @rx.var
    def login_error(self) -> str:
        return self.router.url.query_parameters.get("error", "")

    @rx.var
    def login_email(self) -> str:
        return self.router.url.query_parameters.get("email", "")

    @rx.var
    def next_url(self) -> str:
        value = self.router.url.query_parameters.get("next", "/keywords")
        return value if value.startswith("/") and not value.startswith("//") else "/keywords"


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
                rx.el.form(
                    rx.vstack(
                        rx.text("Email", size="2", weight="medium"),
                        rx.input(name="email", type="email", placeholder="you@company.com", required=True,
                                 default_value=LoginState.login_email, size="3", width="100%", id="email"),
                        rx.text("Password", size="2", weight="medium"),
                        rx.input(name="password", type="password", required=True, size="3", width="100%",
                                 id="password"),
                        rx.el.input(type="hidden", name="next", value=LoginState.next_url),
                        rx.button("Sign in", type="submit", size="3", width="100%", id="login-submit",
                                  margin_top="8px"),
                        spacing="2",
                        width="100%",
                    ),
                    action="/auth/login",
                    method="post",
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
