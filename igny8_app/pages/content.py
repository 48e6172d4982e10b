"""Content: the articles generated for the active site."""

from __future__ import annotations

from typing import Any

import reflex as rx
import sqlalchemy as sa

from igny8_app.components.layout import empty_state, page_frame
from igny8_app.domain.errors import DomainError
from igny8_app.domain.roles import Permission
from igny8_app.models import Content
from igny8_app.state import PAGE_LOADERS, SessionState

PAGE_SIZE = 50


class ContentState(SessionState):
    articles: list[dict[str, Any]] = []
    article_total: int = 0

    @rx.event
    def load_content(self):
        if not self.active_site_id:
            self.articles, self.article_total = [], 0
            return
        try:
            with self._authorize(Permission.READ) as ctx:
                t = Content.__table__
                where = t.c.site_id == ctx.site.id
                self.article_total = ctx.session.execute(sa.select(sa.func.count()).where(where)).scalar_one()
                rows = ctx.session.execute(
                    sa.select(t.c.id, t.c.title, t.c.status, t.c.word_count, t.c.created_at)
                    .where(where).order_by(t.c.id.desc()).limit(PAGE_SIZE)
                ).all()
        except DomainError as exc:
            return self._fail(exc)
        self.articles = [{"id": r.id, "title": r.title, "status": r.status, "words": r.word_count,
                          "created": r.created_at.strftime("%Y-%m-%d %H:%M")} for r in rows]


PAGE_LOADERS["/content"] = ContentState.load_content


def content_page() -> rx.Component:
    return page_frame(
        "Content",
        rx.card(
            rx.cond(
                ContentState.article_total > 0,
                rx.table.root(
                    rx.table.header(rx.table.row(
                        rx.table.column_header_cell("Title"), rx.table.column_header_cell("Status"),
                        rx.table.column_header_cell("Words"), rx.table.column_header_cell("Created"))),
                    rx.table.body(rx.foreach(ContentState.articles, lambda a: rx.table.row(
                        rx.table.cell(a["title"].to(str)), rx.table.cell(rx.badge(a["status"].to(str))),
                        rx.table.cell(a["words"].to_string()), rx.table.cell(a["created"].to(str))))),
                    width="100%",
                ),
                empty_state("file-text", "No articles yet",
                            "Articles appear here when an automation run reaches stage 4 (Tasks → Content)."),
            ),
            width="100%",
        ),
    )
