"""My account page: layout."""

from __future__ import annotations

import reflex as rx

from igny8_app.components.layout import page_frame
from igny8_app.pages.account.state import AccountState


A = AccountState


def _pw_field(label: str, name: str, auto: str) -> rx.Component:
    return rx.vstack(rx.text(label, size="2", weight="medium"),
                     rx.input(name=name, type="password", required=True, id=name.replace("_", "-"), width="100%",
                              auto_complete=auto),
                     spacing="1", width="100%")


def password_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Password", size="4"),
            rx.text("Changing your password signs you out everywhere else (other browsers and devices).", size="2",
                    color_scheme="gray"),
            rx.cond(A.pw_done != "", rx.callout(A.pw_done, icon="circle-check", color_scheme="green", width="100%",
                                                id="pw-done")),
            rx.cond(A.pw_error != "", rx.callout(A.pw_error, icon="triangle-alert", color_scheme="red", width="100%",
                                                 id="pw-error")),
            rx.form(
                rx.vstack(
                    _pw_field("Current password", "current_password", "current-password"),
                    _pw_field("New password (8+ characters)", "new_password", "new-password"),
                    _pw_field("Repeat the new password", "new_password2", "new-password"),
                    rx.button("Change password", type="submit", id="pw-submit", margin_top="6px"),
                    spacing="3", width="100%", max_width="420px",
                ),
                on_submit=A.change_password, reset_on_submit=True, key=A.pw_form_key,
            ),
            spacing="3", width="100%",
        ),
        width="100%",
    )


def notifications_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Notifications", size="4"),
            rx.text("Runs completed, paused or failed, low balance and invoices always appear in the notification "
                    "centre (the bell).", size="2", color_scheme="gray"),
            rx.hstack(rx.switch(checked=A.email_notifications, on_change=A.set_email_notifications,
                                id="email-notifications"),
                      rx.text("Also send them to me by email", size="2"), spacing="2", align="center"),
            rx.cond(~A.email_enabled, rx.text("Email is not configured on this server (SMTP_URL).", size="1",
                                              color_scheme="gray")),
            spacing="3", width="100%",
        ),
        width="100%",
    )


def account_page() -> rx.Component:
    return page_frame(
        "My account",
        rx.text("Signed in as ", rx.text.strong(A.user_email), ".", size="2", color_scheme="gray"),
        password_card(),
        notifications_card(),
    )
