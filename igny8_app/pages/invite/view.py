"""Accept-an-invitation page: layout."""

from __future__ import annotations

import reflex as rx

from igny8_app.components.layout import signed_out_card
from igny8_app.pages.invite.state import InviteState


S = InviteState


def _field(label: str, **props) -> rx.Component:
    return rx.vstack(rx.text(label, size="2", weight="medium"), rx.input(size="3", width="100%", **props),
                     spacing="1", width="100%")


def invite_page() -> rx.Component:
    return signed_out_card(
        "user-plus", "Join a team on IGNY8", "Accept your invitation",
        rx.cond(
            ~S.loaded,
            rx.center(rx.spinner(size="3"), padding="24px", width="100%"),
            rx.cond(
                S.inv_error != "",
                rx.vstack(rx.callout(S.inv_error, icon="triangle-alert", color_scheme="red", width="100%",
                                     id="invite-page-error"),
                          rx.link("Go to sign in", href="/login"), spacing="3", width="100%"),
                rx.vstack(
                    rx.text("You are invited to ", rx.text.strong(S.inv_account), " as ",
                            rx.text.strong(S.inv_role, id="invite-page-role"), ".", size="3"),
                    rx.text("Email: ", rx.code(S.inv_email, id="invite-page-email"), size="2"),
                    rx.cond(S.form_error != "", rx.callout(S.form_error, icon="triangle-alert",
                                                           color_scheme="red", width="100%",
                                                           id="invite-form-error")),
                    rx.form(
                        rx.cond(
                            S.inv_existing,
                            rx.vstack(
                                rx.text("This email already has an IGNY8 login: confirm its password to "
                                        "join.", size="2", color_scheme="gray"),
                                _field("Password", name="password", type="password", required=True,
                                       id="accept-password", auto_complete="current-password"),
                                spacing="3", width="100%",
                            ),
                            rx.vstack(
                                _field("Your name", name="full_name", id="accept-name",
                                       auto_complete="name"),
                                _field("Choose a password (8+ characters)", name="password",
                                       type="password", required=True, id="accept-password",
                                       auto_complete="new-password"),
                                _field("Repeat the password", name="password2", type="password",
                                       required=True, id="accept-password2", auto_complete="new-password"),
                                spacing="3", width="100%",
                            ),
                        ),
                        rx.button("Accept and join", type="submit", size="3", width="100%",
                                  id="accept-submit", margin_top="12px"),
                        on_submit=S.accept, reset_on_submit=False, width="100%",
                    ),
                    spacing="3", width="100%",
                ),
            ),
        ),
        width="440px",
    )
