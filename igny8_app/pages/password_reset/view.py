"""Forgot / reset password pages: layout."""

from __future__ import annotations

import reflex as rx

from igny8_app.components.layout import signed_out_card
from igny8_app.pages.password_reset.state import ResetState, SENT


R = ResetState


def _shell(title: str, subtitle: str, *children: rx.Component) -> rx.Component:
    return signed_out_card("key-round", title, subtitle, *children,
                           rx.link("Back to sign in", href="/login", size="2"))


def forgot_page() -> rx.Component:
    return _shell(
        "Forgot your password?", "We email you a link to choose a new one",
        rx.cond(
            R.forgot_done,
            rx.callout(SENT, icon="mail", color_scheme="green", id="forgot-done", width="100%"),
            rx.form(
                rx.vstack(
                    rx.text("Email", size="2", weight="medium"),
                    rx.input(name="email", type="email", required=True, size="3", width="100%", id="forgot-email",
                             auto_complete="username"),
                    rx.button("Email me a link", type="submit", size="3", width="100%", id="forgot-submit"),
                    spacing="2", width="100%",
                ),
                on_submit=R.request_link, width="100%",
            ),
        ),
    )


def reset_page() -> rx.Component:
    return _shell(
        "Choose a new password", "Your other sessions will be signed out",
        rx.cond(
            ~R.loaded,
            rx.center(rx.spinner(size="3"), width="100%"),
            rx.cond(
                R.reset_error != "",
                rx.callout(R.reset_error, icon="triangle-alert", color_scheme="red", id="reset-invalid", width="100%"),
                rx.form(
                    rx.vstack(
                        rx.text("For ", rx.code(R.reset_email, id="reset-email"), size="2"),
                        rx.cond(R.form_error != "", rx.callout(R.form_error, icon="triangle-alert",
                                                               color_scheme="red", width="100%", id="reset-error")),
                        rx.text("New password (8+ characters)", size="2", weight="medium"),
                        rx.input(name="password", type="password", required=True, size="3", width="100%",
                                 id="reset-password", auto_complete="new-password"),
                        rx.text("Repeat it", size="2", weight="medium"),
                        rx.input(name="password2", type="password", required=True, size="3", width="100%",
                                 id="reset-password2", auto_complete="new-password"),
                        rx.button("Set password and sign in", type="submit", size="3", width="100%",
                                  id="reset-submit", margin_top="6px"),
                        spacing="2", width="100%",
                    ),
                    on_submit=R.set_password, reset_on_submit=False, width="100%",
                ),
            ),
        ),
    )
