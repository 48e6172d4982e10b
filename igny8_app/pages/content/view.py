"""Content page: layout (the list, and one article at /content/ID)."""

from __future__ import annotations

import reflex as rx

from igny8_app.components.layout import empty_state, page_frame
from igny8_app.domain import content_workflow
from igny8_app.domain.enums import ContentStatus
from igny8_app.services.content import articles as content_svc
from igny8_app.pages.content.state import ALL, ContentState

DRAFT, REVIEW, PUBLISHED = ContentStatus.DRAFT.value, ContentStatus.REVIEW.value, ContentStatus.PUBLISHED.value


S = ContentState

PROSE = {
    "font_family": "Georgia, 'Iowan Old Style', 'Times New Roman', serif",
    "font_size": "18px",
    "line_height": "1.75",
    "color": "var(--gray-12)",
    "& h2": {"font_size": "1.55rem", "line_height": "1.3", "margin": "2.2rem 0 0.7rem", "font_weight": "700"},
    "& h3": {"font_size": "1.2rem", "line_height": "1.35", "margin": "1.6rem 0 0.5rem", "font_weight": "700"},
    "& p": {"margin": "0 0 1.1rem"},
    "& ul": {"margin": "0 0 1.2rem", "padding_left": "1.4rem", "list_style": "disc"},
    "& li": {"margin": "0.3rem 0"},
}


def _filters() -> rx.Component:
    return rx.hstack(
        rx.select.root(
            rx.select.trigger(placeholder="Status", id="status-filter"),
            rx.select.content(
                rx.select.item("All statuses", value=ALL),
                *[rx.select.item(st.capitalize(), value=st) for st in content_workflow.STATUSES],
            ),
            value=S.status_filter, on_change=S.set_status_filter,
        ),
        rx.select.root(
            rx.select.trigger(placeholder="Cluster", id="cluster-filter"),
            rx.select.content(
                rx.select.item("All clusters", value=ALL),
                rx.foreach(S.cluster_options, lambda o: rx.select.item(o["label"], value=o["value"])),
            ),
            value=S.cluster_filter, on_change=S.set_cluster_filter,
        ),
        rx.spacer(),
        rx.text(S.page_label, size="2", color_scheme="gray"),
        rx.button(rx.icon("chevron-left", size=14), variant="soft", size="1", on_click=S.prev_page,
                  disabled=S.page <= 1),
        rx.button(rx.icon("chevron-right", size=14), variant="soft", size="1", on_click=S.next_page),
        align="center", spacing="3", width="100%",
    )


def _list() -> rx.Component:
    return rx.card(
        rx.vstack(
            _filters(),
            rx.cond(
                S.article_total > 0,
                rx.table.root(
                    rx.table.header(rx.table.row(
                        rx.table.column_header_cell("Title"), rx.table.column_header_cell("Cluster"),
                        rx.table.column_header_cell("Status"), rx.table.column_header_cell("Words"),
                        rx.table.column_header_cell("Created"))),
                    rx.table.body(rx.foreach(S.articles, lambda a: rx.table.row(
                        rx.table.cell(rx.link(a["title"].to(str), href="/content/" + a["id"].to_string(),
                                              weight="medium")),
                        rx.table.cell(rx.text(a["cluster"].to(str), color_scheme="gray")),
                        rx.table.cell(rx.badge(a["status"].to(str), color_scheme=a["color"].to(str))),
                        rx.table.cell(a["words"].to_string()),
                        rx.table.cell(a["created"].to(str)),
                        class_name="content-row"))),
                    width="100%", id="content-table",
                ),
                empty_state("file-text", "No articles here",
                            "Articles appear when an automation run reaches stage 4 (Tasks → Content); "
                            "try clearing the filters."),
            ),
            spacing="4", width="100%",
        ),
        width="100%",
    )


def _field(label: str, name: str, value: rx.Var, limit: int | None = None, area: bool = False) -> rx.Component:
    hint = f" (max {limit})" if limit else ""
    control = (rx.text_area(name=name, default_value=value, rows="18", width="100%",
                            font_family="var(--code-font-family)", font_size="13px")
               if area else rx.input(name=name, default_value=value, width="100%"))
    return rx.vstack(rx.text(label + hint, size="2", weight="medium"), control, spacing="1", width="100%")


def _edit_form() -> rx.Component:
    return rx.card(
        rx.form(
            rx.vstack(
                _field("Title", "title", S.a_title, content_svc.TITLE_MAX),
                _field("Meta title", "meta_title", S.a_meta_title, 60),
                _field("Meta description", "meta_description", S.a_meta_description, 160),
                _field("Body (HTML: h2, h3, p, ul, li, strong, em; anything else is removed)", "body", S.a_html,
                       area=True),
                rx.cond(S.edit_error != "", rx.callout(S.edit_error, icon="triangle-alert", color_scheme="red",
                                                       width="100%", id="edit-error")),
                rx.hstack(rx.button("Cancel", type="button", variant="soft", color_scheme="gray",
                                    on_click=S.cancel_edit),
                          rx.button("Save", type="submit", id="save-article"), justify="end", width="100%"),
                spacing="3", width="100%",
            ),
            on_submit=S.save_edit, key=S.view_id.to_string(), width="100%",
        ),
        width="100%", max_width="760px",
    )


def _actions() -> rx.Component:
    def btn(label: str, target: str, icon: str, color: str) -> rx.Component:
        return rx.button(rx.icon(icon, size=14), label, size="2", variant="soft", color_scheme=color,
                         on_click=S.change_status(target), id=f"to-{target}")

    return rx.hstack(
        rx.cond(S.can_run, rx.fragment(
            rx.cond(S.a_status == DRAFT, btn("Move to review", REVIEW, "eye", "amber")),
            rx.cond(S.a_status == REVIEW, btn("Publish", PUBLISHED, "circle-check", "green")),
            rx.cond(S.a_status != DRAFT, btn("Back to draft", DRAFT, "undo-2", "gray")),
            rx.button(rx.icon("pencil", size=14), "Edit", size="2", variant="soft", on_click=S.start_edit,
                      id="edit-article"),
        )),
        rx.spacer(),
        rx.el.a(rx.button(rx.icon("file-code", size=14), "HTML", size="2", variant="outline"),
                href=S.html_href, id="download-html"),
        rx.el.a(rx.button(rx.icon("file-text", size=14), "Markdown", size="2", variant="outline"),
                href=S.md_href, id="download-md"),
        rx.cond(S.a_run_id != "", rx.el.a(
            rx.button(rx.icon("folder-archive", size=14), "Run zip", size="2", variant="outline"),
            href=S.zip_href, id="download-zip")),
        spacing="2", width="100%", wrap="wrap",
    )


def _article() -> rx.Component:
    img_style = {"width": "100%", "height": "auto", "border_radius": "10px", "display": "block"}
    return rx.vstack(
        rx.hstack(rx.button(rx.icon("arrow-left", size=14), "All articles", variant="ghost", size="2",
                            on_click=S.close_article, id="back-to-list"), width="100%"),
        _actions(),
        rx.cond(S.editing, _edit_form(), rx.fragment()),
        rx.card(
            rx.box(
                rx.hstack(
                    rx.badge(S.a_status, color_scheme=S.status_color, size="2", id="article-status"),
                    rx.text(S.a_words.to_string() + " words", size="2", color_scheme="gray"),
                    rx.cond(S.a_cluster != "", rx.text("· " + S.a_cluster, size="2", color_scheme="gray")),
                    spacing="2", align="center", margin_bottom="12px",
                ),
                rx.heading(S.a_title, as_="h1", size="8", line_height="1.2", margin_bottom="12px",
                           font_family=PROSE["font_family"], id="article-title"),
                rx.box(
                    rx.text("Meta title", size="1", weight="bold", color_scheme="gray"),
                    rx.text(rx.cond(S.a_meta_title != "", S.a_meta_title, "—"), size="2"),
                    rx.text("Meta description", size="1", weight="bold", color_scheme="gray", margin_top="6px"),
                    rx.text(rx.cond(S.a_meta_description != "", S.a_meta_description, "—"), size="2"),
                    padding="12px 14px", border_radius="8px", background="var(--gray-a2)",
                    border="1px solid var(--gray-a4)", margin_bottom="24px",
                ),
                rx.cond(S.a_featured != "", rx.image(src=S.a_featured, alt=S.a_title, id="featured-image",
                                                     margin_bottom="28px", aspect_ratio="16 / 9",
                                                     object_fit="cover", **img_style)),
                rx.box(rx.html(S.a_html), style=PROSE, id="article-body"),
                rx.foreach(S.a_images, lambda src: rx.image(src=src, alt="", class_name="in-article-image",
                                                            margin="28px 0", **img_style)),
                max_width="760px", margin="0 auto", padding="32px 20px 48px",
            ),
            width="100%",
        ),
        spacing="4", width="100%", align="stretch",
    )


def _missing() -> rx.Component:
    return rx.card(
        rx.vstack(
            empty_state("file-x", "Article not found",
                        "No article with this address is in a site you can read. It may have been deleted."),
            rx.link(rx.button(rx.icon("arrow-left", size=14), "All articles", variant="soft", size="2"),
                    href="/content"),
            align="center", width="100%",
        ),
        width="100%", id="article-missing",
    )


def content_page() -> rx.Component:
    """/content (the list) and /content/ID (one article): one page, two routes."""
    return page_frame("Content", rx.cond(S.view_id > 0, _article(), rx.cond(S.article_missing, _missing(), _list())))
