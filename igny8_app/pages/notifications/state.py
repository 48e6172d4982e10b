"""The notification centre, for every logged-in user: their notifications (run completed, paused
with the reason, failed; low balance; invoice issued or paid), newest first. Opening one marks it
read, switches to its site and goes to its subject. Rules in services/notifications/inbox.py."""

from __future__ import annotations

from typing import Any

import reflex as rx

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
            with self._authorize(site=False, write=False) as ctx:
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
