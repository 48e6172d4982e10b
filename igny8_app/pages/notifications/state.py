"""The notification centre, for every logged-in user: their notifications (run completed, paused
with the reason, failed; low balance; invoice issued or paid), newest first. Opening one marks it
read, switches to its site and goes to its subject. Rules in services/notifications/inbox.py."""

from __future__ import annotations

from typing import Any

import reflex as rx

from igny8_app.components.layout import empty_state, page_frame
from igny8_app.domain.errors import DomainError
from igny8_app.services.notifications import inbox as notifications
from igny8_app.services.accounts import sites
from igny8_app.state import PAGE_LOADERS, SessionState

KIND_STYLE = {"run_completed": ("circle-check", "green"), "run_paused": ("circle-pause", "amber"),
              "run_failed": ("circle-x", "red"), "low_balance": ("triangle-alert", "amber"),
              "invoice_issued": ("receipt", "indigo"), "invoice_paid": ("badge-check", "green")}


class NotificationsState(SessionState):
    items: list[dict[str, Any]] = []
    unread_only: bool = False

    @rx.event
    def load_notifications(self):
        try:
            with self._authorize(site=False) as ctx:
                self.items = notifications.list_for_user(session=ctx.session, user_id=ctx.user.id,
                                                         unread_only=self.unread_only)
                self.unread = notifications.unread_count(session=ctx.session, user_id=ctx.user.id)
        except DomainError as exc:
            return self._fail(exc)

    @rx.event
    def set_unread_only(self, value: bool):
        self.unread_only = bool(value)
        return NotificationsState.load_notifications

    @rx.event
    def open_item(self, notification_id: int):
        try:
            with self._authorize(site=False) as ctx:
                n = notifications.mark_read(session=ctx.session, user_id=ctx.user.id,
                                            notification_id=int(notification_id))
                link, site_id = n.link or "/notifications", n.site_id
                if site_id:
                    try:
                        sites.set_active_site(session=ctx.session, user=ctx.user, site_id=site_id)
                    except DomainError:
                        pass  # no longer theirs: just open the page
        except DomainError as exc:
            return self._fail(exc)
        return rx.redirect(link)

    @rx.event
    def mark_all_read(self):
        try:
            with self._authorize(site=False) as ctx:
                notifications.mark_all_read(session=ctx.session, user_id=ctx.user.id)
        except DomainError as exc:
            return self._fail(exc)
        return NotificationsState.load_notifications


PAGE_LOADERS["/notifications"] = NotificationsState.load_notifications
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
