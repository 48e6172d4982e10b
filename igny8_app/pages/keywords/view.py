"""Keywords page: layout."""

from __future__ import annotations

import reflex as rx

from igny8_app.components.layout import dialog_actions, empty_state, page_frame, stat_card
from igny8_app.components.widgets import status_badge
from igny8_app.domain.enums import KeywordStatus
from igny8_app.settings import MAX_IMPORT_BYTES
from igny8_app.pages.keywords.state import INTENTS, KeywordsState, STATUS_OPTIONS


STATUS_SCHEME = {KeywordStatus.NEW.value: "blue", KeywordStatus.MAPPED.value: "green",
                 KeywordStatus.FAILED.value: "red"}  # a keyword's status colour


def _status_badge(status: rx.Var) -> rx.Component:
    return status_badge(status, STATUS_SCHEME, default="gray")


def _sort_header(label: str, column: str) -> rx.Component:
    return rx.table.column_header_cell(
        rx.hstack(
            rx.text(label),
            rx.cond(
                KeywordsState.sort == column,
                rx.icon(rx.cond(KeywordsState.descending, "arrow-down", "arrow-up"), size=14),
                rx.icon("arrow-up-down", size=14, color="var(--gray-8)"),
            ),
            spacing="1",
            align="center",
            cursor="pointer",
            on_click=KeywordsState.sort_by(column),
        ),
        id=f"sort-{column}",
    )


def _table() -> rx.Component:
    return rx.table.root(
        rx.table.header(
            rx.table.row(
                _sort_header("Keyword", "keyword"),
                _sort_header("Volume", "volume"),
                _sort_header("Difficulty", "difficulty"),
                rx.table.column_header_cell("Intent"),
                _sort_header("Status", "status"),
            )
        ),
        rx.table.body(
            rx.foreach(
                KeywordsState.rows,
                lambda r: rx.table.row(
                    rx.table.cell(rx.text(r["keyword"], weight="medium")),
                    rx.table.cell(r["volume"].to(int).to_string()),
                    rx.table.cell(rx.cond(r["difficulty"], r["difficulty"].to(str), "—")),
                    rx.table.cell(rx.cond(r["intent"], r["intent"].to(str), "—")),
                    rx.table.cell(_status_badge(r["status"].to(str))),
                    class_name="keyword-row",
                ),
            )
        ),
        variant="surface",
        size="2",
        width="100%",
        id="keywords-table",
    )


def _add_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(rx.button(rx.icon("plus", size=16), "Add keyword", variant="soft", id="add-keyword-open",
                                    disabled=~KeywordsState.can_run)),
        rx.dialog.content(
            rx.dialog.title("Add a keyword"),
            rx.form(
                rx.vstack(
                    rx.input(name="keyword", placeholder="e.g. how to prune roses", required=True, width="100%",
                             id="add-keyword-input"),
                    rx.hstack(
                        rx.input(name="volume", placeholder="Volume", type="number", min="0", width="100%"),
                        rx.input(name="difficulty", placeholder="Difficulty 1-5", type="number", min="1", max="5",
                                 width="100%"),
                        width="100%",
                    ),
                    rx.select(INTENTS, name="intent", placeholder="Intent (optional)", width="100%"),
                    dialog_actions(rx.button("Add", type="submit", id="add-keyword-submit")),
                    spacing="3",
                ),
                on_submit=KeywordsState.add_keyword,
                reset_on_submit=False,
            ),
        ),
        open=KeywordsState.add_open,
        on_open_change=KeywordsState.set_add_open,
    )


def _import_dialog() -> rx.Component:
    summary = KeywordsState.import_summary
    return rx.dialog.root(
        rx.dialog.trigger(rx.button(rx.icon("upload", size=16), "Import CSV", id="import-open",
                                    disabled=~KeywordsState.can_run)),
        rx.dialog.content(
            rx.dialog.title("Import keywords from CSV"),
            rx.dialog.description(
                "UTF-8 CSV with a header row: keyword (required), volume, difficulty (1-5), intent. "
                "Up to 10 MB and 100,000 rows. Duplicates are skipped.",
                size="2",
            ),
            rx.upload(
                rx.vstack(
                    rx.icon("file-up", size=28, color="var(--indigo-9)"),
                    rx.text("Drop a CSV here or click to choose", size="2", weight="medium"),
                    align="center",
                    spacing="2",
                ),
                id="csv",
                accept={"text/csv": [".csv"], "text/plain": [".txt"]},
                max_files=1,
                max_size=MAX_IMPORT_BYTES,
                on_drop_rejected=KeywordsState.reject_file,
                multiple=False,
                disabled=KeywordsState.importing,
                on_drop=KeywordsState.handle_upload(rx.upload_files(upload_id="csv")),
                border="2px dashed var(--indigo-a6)",
                border_radius="10px",
                padding="28px",
                margin_y="12px",
                cursor="pointer",
            ),
            rx.cond(
                KeywordsState.importing,
                rx.vstack(
                    rx.text(KeywordsState.import_phase, size="2"),
                    rx.progress(value=KeywordsState.import_pct, width="100%"),
                    rx.text(KeywordsState.import_done.to_string() + " / " + KeywordsState.import_total.to_string(),
                            size="1", color_scheme="gray"),
                    width="100%",
                    id="import-progress",
                ),
            ),
            rx.cond(
                KeywordsState.import_fatal != "",
                rx.callout(KeywordsState.import_fatal, icon="circle-x", color_scheme="red", id="import-fatal"),
            ),
            rx.cond(
                summary.length() > 0,
                rx.vstack(
                    rx.hstack(
                        rx.badge("Imported ", summary["imported"].to_string(), color_scheme="green", size="2"),
                        rx.badge("Duplicates ", summary["duplicates"].to_string(), color_scheme="gray", size="2"),
                        rx.badge("Invalid ", summary["invalid"].to_string(), color_scheme="red", size="2"),
                        id="import-summary",
                    ),
                    rx.cond(
                        KeywordsState.import_errors.length() > 0,
                        rx.scroll_area(
                            rx.vstack(
                                rx.foreach(
                                    KeywordsState.import_errors,
                                    lambda e: rx.text(
                                        rx.text.strong("Line " + e["line"].to_string() + ": "), e["reason"].to(str),
                                        size="1",
                                    ),
                                ),
                                spacing="1",
                            ),
                            max_height="180px",
                            type="auto",
                        ),
                    ),
                    width="100%",
                ),
            ),
            rx.hstack(rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")), justify="end",
                      margin_top="12px"),
        ),
        open=KeywordsState.import_open,
        on_open_change=KeywordsState.set_import_open,
    )


def _toolbar() -> rx.Component:
    return rx.hstack(
        rx.input(
            rx.input.slot(rx.icon("search", size=16)),
            placeholder="Search keywords…",
            default_value=KeywordsState.search,
            on_change=KeywordsState.set_search.debounce(300),
            width="320px",
            id="keyword-search",
        ),
        rx.select(STATUS_OPTIONS, value=KeywordsState.status_filter, on_change=KeywordsState.set_status_filter,
                  id="status-filter"),
        rx.spacer(),
        _add_dialog(),
        _import_dialog(),
        width="100%",
        align="center",
    )


def _pager() -> rx.Component:
    return rx.hstack(
        rx.text(KeywordsState.range_label, size="2", color_scheme="gray", id="range-label"),
        rx.spacer(),
        rx.select(["25", "50", "100", "200"], value=KeywordsState.page_size.to_string(),
                  on_change=KeywordsState.set_page_size, size="1"),
        rx.button(rx.icon("chevron-left", size=16), variant="soft", size="1", on_click=KeywordsState.go_page(-1),
                  disabled=KeywordsState.page <= 1, id="prev-page"),
        rx.text("Page ", KeywordsState.page.to_string(), " of ", KeywordsState.page_count.to_string(), size="2"),
        rx.button(rx.icon("chevron-right", size=16), variant="soft", size="1", on_click=KeywordsState.go_page(1),
                  disabled=KeywordsState.page >= KeywordsState.page_count, id="next-page"),
        width="100%",
        align="center",
    )


def keywords_page() -> rx.Component:
    c = KeywordsState.counts
    return page_frame(
        "Keywords",
        rx.hstack(
            stat_card("Total keywords", KeywordsState.total_keywords.to_string(), "key-round",
                      KeywordsState.active_site_name),
            stat_card("New (waiting for clustering)", c.get(KeywordStatus.NEW.value, 0).to_string(), "circle-dot"),
            stat_card("Mapped to clusters", c.get(KeywordStatus.MAPPED.value, 0).to_string(), "git-merge"),
            stat_card("Failed", c.get(KeywordStatus.FAILED.value, 0).to_string(), "circle-alert"),
            width="100%",
            spacing="4",
        ),
        rx.card(
            rx.vstack(
                _toolbar(),
                rx.cond(
                    KeywordsState.total > 0,
                    _table(),
                    empty_state("key-round", "No keywords match",
                                "Import a CSV or add keywords by hand. Clear the search or the status filter "
                                "to see everything."),
                ),
                _pager(),
                spacing="4",
                width="100%",
            ),
            width="100%",
        ),
    )
