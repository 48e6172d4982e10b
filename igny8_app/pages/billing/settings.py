"""Billing settings (/billing/settings): billing details and payment methods."""

from __future__ import annotations

import reflex as rx

from igny8_app.components.widgets import card
from igny8_app.pages.billing.frame import billing_frame
from igny8_app.pages.billing.state import BillingState as B


def _field(label: str, name: str, hint: str = "", **props) -> rx.Component:
    err = B.field_errors.get(name, "")
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        (rx.text_area if name == "address" else rx.input)(name=name, default_value=B.settings.get(name, ""),
                                                          id=f"set-{name}", width="100%", **props),
        rx.cond(err != "", rx.text(err, size="1", color="var(--red-11)", id=f"err-{name}"),
                rx.text(hint, size="1", color_scheme="gray")),
        spacing="1", width="100%",
    )


def billing_settings_page() -> rx.Component:
    return billing_frame(
        "Billing settings",
        rx.grid(
            card("Billing profile", rx.cond(~B.settings_loaded, rx.center(rx.spinner(size="3"), height="200px"), rx.form(
                rx.vstack(
                    _field("Billing email", "billing_email", "Invoices and payment notices go here."),
                    _field("Company", "company"),
                    _field("Address", "address", rows="3"),
                    rx.hstack(_field("Country", "country", "Two letters, e.g. DE, GB, US.", max_length=2),
                              _field("Tax id", "tax_id", "VAT or other tax number, printed on invoices."),
                              width="100%", spacing="4"),
                    _field("Low-balance threshold (credits)", "low_balance_threshold",
                           "You get one notice each time the balance drops below this."),
                    rx.hstack(rx.cond(B.settings_saved, rx.text("Saved.", color="var(--green-11)", size="2",
                                                                id="settings-saved")),
                              rx.spacer(), rx.button("Save settings", type="submit", id="save-settings"),
                              width="100%", align="center"),
                    spacing="4", width="100%",
                ),
                on_submit=B.save_settings,
                reset_on_submit=False,
                width="100%",
                key=B.settings.get("company", "") + B.settings.get("low_balance_threshold", ""),
            ))),
            card("Payment methods", _payment_methods()),
            columns="2fr 1fr", spacing="4", width="100%",
        ),
    )


def _payment_methods() -> rx.Component:
    m = B.methods
    return rx.vstack(
        rx.hstack(rx.icon("landmark", size=18), rx.text("Bank transfer", weight="medium"),
                  rx.badge("available", color_scheme="green"), spacing="2", align="center"),
        rx.text("Each purchase shows the bank details and a unique reference to quote.", size="2",
                color_scheme="gray"),
        rx.cond(m.get("bank_reference", "") != "",
                rx.text("Last reference: ", rx.code(m.get("bank_reference", ""), id="method-bank-reference"),
                        " (", m.get("bank_date", ""), ")", size="2")),
        rx.separator(size="4"),
        rx.cond(
            B.stripe_enabled,
            rx.vstack(
                rx.hstack(rx.icon("credit-card", size=18), rx.text("Card (Stripe)", weight="medium"),
                          rx.badge("available", color_scheme="green"), spacing="2", align="center",
                          id="method-card"),
                rx.text("You enter your card on Stripe's checkout page; card details stay with Stripe and are "
                        "never stored here.", size="2", color_scheme="gray"),
                rx.text(m.get("card_payments", "0"), " card payment(s)",
                        rx.cond(m.get("card_last", "") != "", rx.text.span(", the last ", m.get("card_last", ""))),
                        ".", size="2", id="method-card-summary"),
                spacing="2", width="100%",
            ),
            rx.hstack(rx.icon("credit-card", size=18), rx.text("Card (Stripe)", weight="medium"),
                      rx.badge("not configured", color_scheme="gray"), spacing="2", align="center",
                      id="method-card-off"),
        ),
        spacing="2", width="100%",
    )
