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


R = ResetState


def _shell(title: str, subtitle: str, *children: rx.Component) -> rx.Component:
    return rx.center(
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.center(rx.icon("key-round", size=20, color="white"), width="40px", height="40px",
                              border_radius="10px", background="linear-gradient(135deg, #4f46e5, #06b6d4)"),
                    rx.vstack(rx.heading(title, size="5"), rx.text(subtitle, size="2", color_scheme="gray"),
                              spacing="0"),
                    spacing="3", align="center",
                ),
                *children,
                rx.link("Back to sign in", href="/login", size="2"),
                spacing="4", width="100%",
            ),
            size="4", width="420px",
        ),
        height="100vh",
        background="radial-gradient(circle at 20% 20%, #e0e7ff, transparent 40%), "
                   "radial-gradient(circle at 80% 80%, #cffafe, transparent 40%), var(--gray-2)",
    )


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
