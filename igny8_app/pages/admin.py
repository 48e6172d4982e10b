"""Platform admin (superusers only): credit costs."""

from __future__ import annotations

from typing import Any

import reflex as rx

from igny8_app.components.layout import page_frame
from igny8_app.db import read_session
from igny8_app.domain.errors import DomainError, Forbidden
from igny8_app.services import billing
from igny8_app.state import PAGE_LOADERS, SessionState


class AdminState(SessionState):
    costs: list[dict[str, Any]] = []
    admin_denied: str = ""

    @rx.event
    def load_admin(self):
        self.admin_denied = ""
        try:
            with self._authorize(site=False) as ctx:
                if not ctx.user.is_superuser:
                    raise Forbidden("Only platform admins can see this page.")
            with read_session() as s:
                rows = billing.list_cost_configs(session=s)
        except DomainError as exc:
            self.costs = []
            self.admin_denied = exc.message
            return
        self.costs = [{"operation": r.operation_type, "name": r.display_name, "cost": r.credits_cost,
                       "unit": r.unit, "active": r.is_active} for r in rows]


PAGE_LOADERS["/admin"] = AdminState.load_admin


def admin_page() -> rx.Component:
    return page_frame(
        "Credit costs",
        rx.cond(
            AdminState.admin_denied != "",
            rx.callout(AdminState.admin_denied, icon="lock", color_scheme="amber", id="admin-denied"),
            rx.card(
                rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                                   ("Operation", "Description", "Credits", "Unit", "Active")])),
                    rx.table.body(rx.foreach(AdminState.costs, lambda c: rx.table.row(
                        rx.table.cell(rx.code(c["operation"].to(str))),
                        rx.table.cell(c["name"].to(str)),
                        rx.table.cell(c["cost"].to_string()),
                        rx.table.cell(c["unit"].to(str)),
                        rx.table.cell(rx.cond(c["active"].to(bool), rx.badge("active", color_scheme="green"),
                                              rx.badge("off", color_scheme="gray"))),
                    ))),
                    width="100%",
                ),
                width="100%",
            ),
        ),
    )
