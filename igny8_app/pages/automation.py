"""Automation: the six-stage pipeline of the active site (queue sizes per stage)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from igny8_app.components.layout import page_frame
from igny8_app.domain.errors import DomainError
from igny8_app.domain.roles import Permission
from igny8_app.services.pipeline import pipeline_overview
from igny8_app.state import PAGE_LOADERS, SessionState

STAGE_ICONS = ["git-merge", "lightbulb", "list-checks", "file-text", "message-square-text", "image"]


class AutomationState(SessionState):
    stages: list[dict[str, Any]] = []

    @rx.event
    def load_overview(self):
        if not self.active_site_id:
            self.stages = []
            return
        try:
            with self._authorize(Permission.READ) as ctx:
                rows = pipeline_overview(session=ctx.session, site_id=ctx.site.id)
        except DomainError as exc:
            return self._fail(exc)
        self.stages = [{**r, "icon": STAGE_ICONS[r["stage"] - 1]} for r in rows]


PAGE_LOADERS["/automation"] = AutomationState.load_overview


def _stage_card(stage: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.badge("Stage ", stage["stage"].to_string(), variant="soft", color_scheme="indigo"),
                rx.spacer(),
                rx.cond(stage["failed"].to(int) > 0,
                        rx.badge(stage["failed"].to_string(), " failed", color_scheme="red", variant="soft")),
            ),
            rx.text(stage["name"].to(str), weight="bold", size="3"),
            rx.hstack(
                rx.vstack(rx.text("Pending", size="1", color_scheme="gray"),
                          rx.text(stage["pending"].to_string(), size="5", weight="bold"), spacing="0"),
                rx.vstack(rx.text("Processed", size="1", color_scheme="gray"),
                          rx.text(stage["processed"].to_string(), size="5", weight="bold"), spacing="0"),
                spacing="6",
            ),
            spacing="2",
        ),
        class_name="stage-card",
    )


def automation_page() -> rx.Component:
    return page_frame(
        "Automation",
        rx.callout(
            "Each stage is a queue worked item by item. This overview shows what is waiting and what is done "
            "for the active site.",
            icon="info",
            color_scheme="indigo",
            variant="surface",
        ),
        rx.grid(rx.foreach(AutomationState.stages, _stage_card), columns="3", spacing="4", width="100%"),
    )
