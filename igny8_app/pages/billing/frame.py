"""What the billing pages share: the frame with the section's tabs, or the refusal for a member
who may not manage the account."""

from __future__ import annotations

import reflex as rx

from igny8_app.components.layout import page_frame
from igny8_app.components.widgets import tab_bar
from igny8_app.pages.billing.state import BillingState as B

TABS = [("Overview", "/billing", "layout-dashboard"), ("Usage history", "/billing/usage", "list"),
        ("Invoices", "/billing/invoices", "receipt"), ("Payments", "/billing/payments", "wallet"),
        ("Settings", "/billing/settings", "settings")]


def billing_frame(title: str, *children: rx.Component) -> rx.Component:
    return page_frame(
        title,
        rx.cond(
            B.billing_denied != "",
            rx.callout(B.billing_denied + " Billing is for account owners and admins.", icon="lock",
                       color_scheme="amber", id="billing-denied"),
            rx.vstack(tab_bar(TABS, B.router.page.path, padding_bottom="4px"), *children, width="100%", spacing="4"),
        ),
    )
