"""What the admin pages share: the frame with the section's tabs, or the refusal for a non-admin."""

from __future__ import annotations

import reflex as rx

from igny8_app.components.layout import page_frame
from igny8_app.components.widgets import tab_bar
from igny8_app.pages.admin.state import AdminBaseState as A

TABS = [("Credit costs", "/admin", "coins"), ("Accounts", "/admin/accounts", "building-2"),
        ("Payments", "/admin/payments", "badge-check"), ("Invoices", "/admin/invoices", "receipt"),
        ("Packages", "/admin/packages", "package")]


def admin_frame(title: str, *children: rx.Component) -> rx.Component:
    return page_frame(
        title,
        rx.cond(
            A.admin_denied != "",
            rx.callout(A.admin_denied, icon="lock", color_scheme="amber", id="admin-denied"),
            rx.vstack(tab_bar(TABS, A.router.page.path), *children, width="100%", spacing="4"),
        ),
    )
