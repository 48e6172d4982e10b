"""The Automation page's components: stage cards, header, history, activity, the item dialog and
the review notice. The state (and the live ``watch`` loop) is in state.py."""

from __future__ import annotations

from typing import Any

import reflex as rx

from igny8_app.components.layout import page_frame
from igny8_app.components.processing_card import (CANCELLED, COMPLETED, FAILED, PAUSED, RUNNING, SKIPPED,
                                                   processing_card, ticker_script)
from igny8_app.domain.enums import EventLevel, PauseReason
from igny8_app.pages.automation.state import AutomationState, LiveRunState
from igny8_app.pages.automation.config import config_button, config_dialog
from igny8_app.pages.automation.state import ConfigState


def _stage_state(stage: rx.Var) -> rx.Var:
    """waiting / active / done / skipped / failed, from the run and the queue counts."""
    number = stage["stage"].to(int)
    current = AutomationState.run_stage
    return rx.cond(
        AutomationState.run_active & (current == number), "active",
        rx.cond(AutomationState.run_active & (current < number), "waiting",
                rx.cond(AutomationState.skipped_stages.contains(number), "skipped",
                        rx.cond(stage["failed"].to(int) > 0, "failed",
                                rx.cond(stage["pending"].to(int) > 0, "waiting", "done")))))


def _stage_card(stage: rx.Var) -> rx.Component:
    state = _stage_state(stage)
    is_active = state == "active"
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.center(rx.icon("circle-dot", size=16), width="30px", height="30px", border_radius="8px",
                          background=rx.cond(is_active, "var(--indigo-9)", "var(--gray-a3)"),
                          color=rx.cond(is_active, "white", "var(--gray-11)")),
                rx.text("Stage ", stage["stage"].to_string(), size="1", color_scheme="gray", weight="medium"),
                rx.spacer(),
                rx.badge(rx.cond(state == "failed", stage["failed"].to_string() + " failed", state),
                         variant=rx.cond(is_active, "solid", "soft"),
                         color_scheme=rx.match(state, ("active", "indigo"), ("done", "green"), ("skipped", "amber"),
                                               ("failed", "red"), "gray"),
                         class_name="stage-state"),
                width="100%",
                align="center",
            ),
            rx.text(stage["name"].to(str), weight="bold", size="3"),
            rx.cond(
                is_active,  # its live counts are on the processing card; these reload at stage ends
                rx.hstack(rx.icon("arrow-up", size=14), rx.text("In progress: live counts in the card above",
                                                                size="2", color_scheme="indigo"),
                          align="center", spacing="1", min_height="44px", class_name="stage-live-note"),
                rx.hstack(
                    rx.vstack(rx.text("Pending", size="1", color_scheme="gray"),
                              rx.text(stage["pending"].to_string(), size="5", weight="bold",
                                      class_name="stage-pending"), spacing="0"),
                    rx.vstack(rx.text("Processed", size="1", color_scheme="gray"),
                              rx.text(stage["processed"].to_string(), size="5", weight="bold",
                                      class_name="stage-processed"), spacing="0"),
                    spacing="6",
                ),
            ),
            spacing="2",
        ),
        class_name="stage-card",
        style=rx.cond(is_active, {"outline": "2px solid var(--indigo-8)"}, {}),
    )


def _header() -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.vstack(
                rx.text("Run the whole pipeline for ", rx.text.strong(AutomationState.active_site_name), size="3"),
                rx.text("Estimated cost: ", rx.text.strong(AutomationState.estimate_total.to_string(), " credits"),
                        " · starting needs ", AutomationState.estimate_needed.to_string(),
                        " · balance ", AutomationState.balance_label, size="2", color_scheme="gray",
                        id="estimate-line"),
                rx.cond(AutomationState.run_now_block != "",
                        rx.text(AutomationState.run_now_block, size="2", color="var(--amber-11)", id="run-now-block")),
                rx.text(rx.icon("calendar-clock", size=14, style={"display": "inline", "verticalAlign": "-2px"}),
                        " ", ConfigState.schedule_text,
                        rx.cond(ConfigState.next_run_local != "", " · next run " + ConfigState.next_run_local, ""),
                        size="2", color_scheme="gray", id="schedule-line"),
                spacing="1",
            ),
            rx.spacer(),
            config_button(),
            rx.cond(~AutomationState.card_open & (AutomationState.run_status != ""),
                    rx.button(rx.icon("panel-top-open", size=16), "Show last run", variant="soft",
                              on_click=AutomationState.open_card, id="reopen-card")),
            rx.button(rx.icon("play", size=16), "Run now", size="3", on_click=LiveRunState.run_now,
                      disabled=(AutomationState.run_now_block != "") | ~AutomationState.can_run,
                      id="run-now"),
            align="center",
            width="100%",
        ),
    )


def _history() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Run history", size="4"),
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                               ("Run", "Status", "Trigger", "Started", "Duration", "Credits")])),
                # a skipped scheduled run shows why; a capped run says so
                rx.table.body(rx.foreach(AutomationState.history_rows, lambda r: rx.table.row(
                    rx.table.cell(rx.link(r["run_id"].to(str), on_click=AutomationState.open_detail(r["run_id"]),
                                          cursor="pointer", size="2")),
                    rx.table.cell(rx.hstack(
                        rx.badge(r["status"].to(str), color_scheme=rx.match(
                            r["status"].to(str), (COMPLETED, "green"), (RUNNING, "indigo"), (PAUSED, "amber"),
                            (CANCELLED, "gray"), (FAILED, "red"), (SKIPPED, "orange"), "gray")),
                        rx.cond(r["result"].to(str) == "cap_reached", rx.badge("cap reached", variant="outline",
                                                                               color_scheme="amber")),
                        rx.cond(r["skip_reason"], rx.tooltip(rx.icon("info", size=14, color="var(--orange-11)"),
                                                             content=r["skip_reason"].to(str))),
                        spacing="1", align="center")),
                    rx.table.cell(r["trigger"].to(str)),
                    rx.table.cell(r["started_at"].to(str)[:16].replace("T", " ")),
                    rx.table.cell(r["duration_seconds"].to_string(), " s"),
                    rx.table.cell(r["total_credits_used"].to_string()),
                ))),
                width="100%",
                size="1",
                id="history-table",
            ),
            width="100%",
        ),
        width="100%",
    )


def _activity() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Activity", size="4"),
            rx.scroll_area(
                rx.vstack(rx.foreach(AutomationState.activity, lambda e: rx.hstack(
                    rx.text(e["created_at"].to(str)[11:19], size="1", color_scheme="gray", font_family="monospace"),
                    rx.badge(e["level"].to(str), size="1", color_scheme=rx.match(
                        e["level"].to(str), (EventLevel.WARNING.value, "amber"), (EventLevel.ERROR.value, "red"), "gray")),
                    rx.text(e["message"].to(str), size="2"),
                    spacing="2", align="center")), spacing="1", id="activity-log"),
                max_height="260px", type="auto",
            ),
            width="100%",
        ),
        width="100%",
    )


def _detail_dialog() -> rx.Component:
    d = AutomationState.detail
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Run ", d["run_id"].to(str)),
            rx.text("Status: ", rx.text.strong(d["status"].to(str)), " · credits ", d["credits_used"].to_string(),
                    " · ", d["duration_seconds"].to_string(), " s", size="2"),
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                               ("Stage", "Total", "Processed", "Failed", "Credits")])),
                rx.table.body(rx.foreach(d["stages"].to(list[dict[str, Any]]), lambda st: rx.table.row(
                    rx.table.cell(st["name"].to(str)), rx.table.cell(st["total_items"].to_string()),
                    rx.table.cell(st["processed_items"].to_string()), rx.table.cell(st["failed_items"].to_string()),
                    rx.table.cell(st["credits_used"].to_string())))),
                size="1", width="100%",
            ),
            rx.cond(d["summary"].to(dict[str, Any])["skip_reason"],
                    rx.callout(d["summary"].to(dict[str, Any])["skip_reason"].to(str), icon="calendar-x",
                               color_scheme="orange", size="1", id="detail-skip")),
            rx.cond(d["summary"].to(dict[str, Any])["result"].to(str) == "cap_reached",
                    rx.callout("Stopped at the per-run credit cap (cap_reached); the remaining items wait for the "
                               "next run.", icon="octagon-pause", color_scheme="amber", size="1")),
            rx.text("Configuration used (snapshot taken when the run started)", weight="bold", size="2",
                    margin_top="8px"),
            rx.code_block(d["config"].to_string(), language="json", wrap_long_lines=True),
            rx.scroll_area(rx.vstack(rx.foreach(AutomationState.detail_log, lambda e: rx.text(
                e["created_at"].to(str)[11:19], " ", e["message"].to(str), size="1")), spacing="0"),
                max_height="200px", type="auto"),
            rx.hstack(rx.dialog.close(rx.button("Close", variant="soft")), justify="end"),
            max_width="720px",
        ),
        open=AutomationState.detail_open,
        on_open_change=AutomationState.set_detail_open,
    )


REVIEW_LINKS = {1: ("/keywords", "the new clusters"), 2: ("/keywords", "the clusters and their ideas"),
                3: ("/content", "the queued tasks"), 4: ("/content", "the new drafts"),
                5: ("/content", "the content and its image prompts")}


def _review_notice() -> rx.Component:
    """A run paused at a review gate links to what needs review (the stage before current_stage)."""
    run = LiveRunState.run
    reviewed = run["current_stage"].to(int) - 1
    return rx.cond(
        (run["status"].to(str) == PAUSED) & (run["pause_reason"].to(str) == PauseReason.REVIEW.value),
        rx.callout(
            rx.text("Paused for review after stage ", reviewed.to_string(), ". Check ",
                    rx.match(reviewed, *[(n, rx.link(label, href=href)) for n, (href, label) in REVIEW_LINKS.items()],
                             rx.link("the output", href="/content")),
                    ", then press Resume to continue.", size="2"),
            icon="eye", color_scheme="indigo", width="100%", id="review-notice"),
    )


def automation_page() -> rx.Component:
    return page_frame(
        "Automation",
        ticker_script(),
        _header(),
        _review_notice(),
        rx.cond(LiveRunState.access_lost != "",
                rx.callout(LiveRunState.access_lost, icon="shield-off", color_scheme="red", width="100%",
                           id="access-lost")),
        rx.cond(AutomationState.card_open & (AutomationState.run_status != ""), processing_card(LiveRunState)),
        rx.grid(rx.foreach(AutomationState.stages, _stage_card), columns="3", spacing="4", width="100%",
                id="stage-cards"),
        rx.grid(_history(), _activity(), columns="2", spacing="4", width="100%"),
        _detail_dialog(),
        config_dialog(),
    )
