"""Notification centre: layout."""

from __future__ import annotations

import reflex as rx

from igny8_app.components.layout import empty_state, page_frame
from igny8_app.pages.notifications.state import KIND_STYLE, NotificationsState


N = NotificationsState


def _icon(kind: rx.Var) -> rx.Component:
    return rx.match(
        kind.to(str),
        *[(k, rx.center(rx.icon(icon, size=18), width="36px", height="36px", border_radius="8px",
                        background=f"var(--{scheme}-a3)", color=f"var(--{scheme}-11)"))
          for k, (icon, scheme) in KIND_STYLE.items()],
        rx.center(rx.icon("bell", size=18), width="36px", height="36px"),
    )


def _item(n: rx.Var) -> rx.Component:
    unread = n["unread"].to(bool)
    return rx.box(
        rx.hstack(
            _icon(n["kind"]),
            rx.vstack(
                rx.hstack(rx.text(n["title"].to(str), weight=rx.cond(unread, "bold", "medium"), size="3"),
                          rx.cond(unread, rx.badge("new", color_scheme="red", variant="soft", size="1")),
                          spacing="2", align="center"),
                rx.text(n["body"].to(str), size="2", color_scheme="gray"),
                rx.text(n["when"].to(str), " UTC", size="1", color_scheme="gray"),
                spacing="1", align="start", flex="1",
            ),
            rx.icon("chevron-right", size=18, color="var(--gray-8)"),
            spacing="3", align="center", width="100%",
        ),
        on_click=N.open_item(n["id"].to(int)),
        class_name="notification-item",
        cursor="pointer", padding="14px 16px", width="100%",
        border_bottom="1px solid var(--gray-a3)",
        background=rx.cond(unread, "var(--indigo-a2)", "transparent"),
        _hover={"background": "var(--gray-a3)"},
    )


def notifications_page() -> rx.Component:
    return page_frame(
        "Notifications",
        rx.hstack(
            rx.hstack(rx.switch(checked=N.unread_only, on_change=N.set_unread_only, id="unread-only"),
                      rx.text("Unread only", size="2"), spacing="2", align="center"),
            rx.spacer(),
            rx.button(rx.icon("check-check", size=15), "Mark all read", variant="soft", on_click=N.mark_all_read,
                      id="mark-all-read", disabled=N.unread == 0),
            width="100%", align="center",
        ),
        rx.card(
            rx.cond(N.items.length() > 0,
                    rx.vstack(rx.foreach(N.items, _item), spacing="0", width="100%"),
                    empty_state("bell", "Nothing here yet", "Run results, pauses, low balance and invoices appear "
                                "here. Email copies can be turned off under My account.")),
            width="100%", padding="0", id="notification-list",
        ),
    )
