"""Automation: run the pipeline for the active site and watch it live.

Progress is pushed, not polled: the worker publishes a Redis event after each committed item;
``watch`` (a background event per open page) is subscribed to it and reloads the durable state
from the database when an event for this site arrives, so a page that (re)connects is never stale.
"""

from __future__ import annotations

import json
from typing import Any

import reflex as rx

from igny8_app.components.layout import page_frame
from igny8_app.components.processing_card import processing_card, ticker_script
from igny8_app.pages.automation_config import ConfigState, config_button, config_dialog
from igny8_app.domain.errors import DomainError
from igny8_app.domain.roles import Permission
from igny8_app.services import automation
from igny8_app.services.pipeline import pipeline_overview
from igny8_app.services.run_events import PROGRESS_CHANNEL
from igny8_app.state import PAGE_LOADERS, SessionState

STAGE_ICONS = ["git-merge", "lightbulb", "list-checks", "file-text", "message-square-text", "image"]
WATCH_IDLE_LIMIT_S = 30 * 60


class AutomationState(SessionState):
    """Slow-changing page data (stage cards, history, activity, estimate). Per-item progress lives
    in ``LiveRunState`` below: a substate has its own React context, so an item update
    re-renders only the processing card, not the whole page."""

    stages: list[dict[str, Any]] = []
    run_status: str = ""  # status of the current/last run (stage cards, Run now)
    run_stage: int = 0  # its current stage
    skipped_stages: list[int] = []
    history_rows: list[dict[str, Any]] = []
    activity: list[dict[str, Any]] = []
    estimate_total: int = 0
    estimate_needed: int = 0
    card_open: bool = True
    detail_open: bool = False
    detail: dict[str, Any] = {}
    detail_log: list[dict[str, Any]] = []
    _watch_gen: int = 0

    # --- loading --------------------------------------------------------------------------------

    def _reload(self, ctx) -> dict[str, Any]:  # noqa: ANN001 - a Ctx from SessionState._authorize
        """Reload the page data; returns the current/last run's processing state ({} if none)."""
        s, site = ctx.session, ctx.site
        self.stages = [{**r, "icon": STAGE_ICONS[r["stage"] - 1]} for r in pipeline_overview(session=s, site_id=site.id)]
        run = automation.current_run(session=s, site_id=site.id) or automation.last_run(session=s, site_id=site.id)
        state = automation.processing_state(session=s, run=run) if run else {}
        self._note_run(state)
        self.history_rows = automation.history(session=s, site_id=site.id)
        self.activity = automation.logs(session=s, run=run, lines=30) if run else []
        est = automation.estimate(session=s, site_id=site.id)
        self.estimate_total = est["total"]
        self.estimate_needed = est["required_to_start"]
        self.balance = est["balance"]
        return state

    def _note_run(self, state: dict[str, Any]) -> None:
        """Copy what the page (not the card) shows of the run; assign only on change."""
        status, stage = state.get("status", ""), state.get("current_stage", 0)
        skipped = [st["stage"] for st in state.get("stages", []) if st.get("result", {}).get("skipped")]
        if (status, stage, skipped) != (self.run_status, self.run_stage, self.skipped_stages):
            self.run_status, self.run_stage, self.skipped_stages = status, stage, skipped

    @rx.event
    def close_card(self):
        self.card_open = False

    @rx.event
    def open_card(self):
        self.card_open = True

    @rx.event
    def open_detail(self, run_id: str):
        try:
            with self._authorize(Permission.READ) as ctx:
                run = automation.get_run(session=ctx.session, run_id=run_id, site_id=ctx.site.id)
                self.detail = automation.processing_state(session=ctx.session, run=run)
                self.detail["config"] = run.config_snapshot
                self.detail["summary"] = automation.run_summary(run)
                self.detail_log = automation.logs(session=ctx.session, run=run, lines=200)
        except DomainError as exc:
            return self._fail(exc)
        self.detail_open = True

    @rx.event
    def set_detail_open(self, value: bool):
        self.detail_open = bool(value)

    @rx.var
    def run_active(self) -> bool:
        return self.run_status in ("running", "paused")

    @rx.var
    def run_now_block(self) -> str:
        """Why Run now is disabled, or ''."""
        if self.run_status in ("running", "paused"):
            return "A run is already active for this site."
        if not any(st.get("pending") for st in self.stages):
            return "Nothing is waiting in any stage: import keywords first."
        if self.balance < self.estimate_needed:
            return (f"Not enough credits: starting needs {self.estimate_needed:,} "
                    f"(1.2 × the estimate of {self.estimate_total:,}); the balance is {self.balance:,}.")
        return ""


class LiveRunState(AutomationState):
    """The processing card's run, updated per committed item by ``watch``; and its controls."""

    run: dict[str, Any] = {}
    pending_action: str = ""
    confirm_cancel: bool = False

    @rx.event
    def load_automation(self):
        if not self.active_site_id:
            self.stages, self.run, self.history_rows, self.activity = [], {}, [], []
            self.run_status, self.run_stage = "", 0
            return
        try:
            with self._authorize(Permission.READ) as ctx:
                self.run = self._reload(ctx)
        except DomainError as exc:
            return self._fail(exc)
        self._watch_gen += 1
        return [LiveRunState.watch, ConfigState.load_config]

    @rx.event(background=True)
    async def watch(self):
        """Follow this site's run: reload from the database on every progress event."""
        from redis.asyncio import Redis

        from igny8_app.settings import get_settings

        async with self:
            gen, site_id = self._watch_gen, self.active_site_id
        client = Redis.from_url(get_settings().redis_url)
        pubsub = client.pubsub()
        await pubsub.subscribe(PROGRESS_CHANNEL)
        idle = 0.0
        try:
            while idle < WATCH_IDLE_LIMIT_S:
                msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if msg is None:
                    idle += 1.0
                    async with self:
                        if self._watch_gen != gen or self.active_site_id != site_id:
                            return  # the page was reloaded or the site changed: a newer watcher runs
                    continue
                # coalesce: drain what has queued up, keep only this site's events
                events = [json.loads(msg["data"])]
                while (more := await pubsub.get_message(ignore_subscribe_messages=True, timeout=0)) is not None:
                    events.append(json.loads(more["data"]))
                events = [e for e in events if e.get("site_id") == site_id]
                if not events:
                    continue
                idle = 0.0
                async with self:
                    if self._watch_gen != gen or self.active_site_id != site_id:
                        return
                    if any(e.get("stage_done") or not e.get("state") or e.get("status") != "running" for e in events):
                        self._apply_event({"reload": True})
                    else:
                        self._apply_event(events[-1])  # the newest committed state wins
        finally:
            await pubsub.aclose()
            await client.aclose()

    def _apply_event(self, event: dict[str, Any]) -> None:
        """Cheap path: the event carries the committed state; stage ends reload everything."""
        state = event.get("state")
        if state and not event.get("stage_done") and state.get("status") == "running" and self.run \
                and self.run.get("run_id") == state["run_id"]:
            self.run = state
            self._note_run(state)
            return
        try:
            with self._authorize(Permission.READ) as ctx:  # re-checked on every reload
                self.run = self._reload(ctx)
        except DomainError:
            return
        self.pending_action = ""

    # --- commands -------------------------------------------------------------------------------

    @rx.event
    def run_now(self):
        if self.pending_action:
            return
        try:
            with self._authorize(Permission.RUN) as ctx:
                site_id, user_id = ctx.site.id, ctx.user.id
            run = automation.start_run(site_id=site_id, user_id=user_id)
            with self._authorize(Permission.READ) as ctx:
                self.run = self._reload(ctx)
        except DomainError as exc:
            return self._fail(exc)
        self.card_open = True
        return rx.toast.success(f"Run {run.run_id} started.")

    def _control(self, action: str):
        if self.pending_action or not self.run:
            return None
        self.pending_action = action
        yield
        fn = {"pause": automation.pause_run, "resume": automation.resume_run, "cancel": automation.cancel_run}[action]
        try:
            with self._authorize(Permission.RUN) as ctx:
                site_id = ctx.site.id
            self.run = fn(run_id=self.run["run_id"], site_id=site_id)
            self._note_run(self.run)
        except DomainError as exc:
            self.pending_action = ""
            yield self._fail(exc)
            return
        self.pending_action = ""
        self.confirm_cancel = False

    @rx.event
    def pause(self):
        yield from self._control("pause")

    @rx.event
    def resume(self):
        yield from self._control("resume")

    @rx.event
    def cancel(self):
        yield from self._control("cancel")

    @rx.event
    def set_confirm_cancel(self, value: bool):
        self.confirm_cancel = bool(value)


PAGE_LOADERS["/automation"] = LiveRunState.load_automation


# --- view ---------------------------------------------------------------------------------------

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
                            r["status"].to(str), ("completed", "green"), ("running", "indigo"), ("paused", "amber"),
                            ("cancelled", "gray"), ("failed", "red"), ("skipped", "orange"), "gray")),
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
                        e["level"].to(str), ("warning", "amber"), ("error", "red"), "gray")),
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
        (run["status"].to(str) == "paused") & (run["pause_reason"].to(str) == "review"),
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
        rx.cond(AutomationState.card_open & (AutomationState.run_status != ""), processing_card(LiveRunState)),
        rx.grid(rx.foreach(AutomationState.stages, _stage_card), columns="3", spacing="4", width="100%",
                id="stage-cards"),
        rx.grid(_history(), _activity(), columns="2", spacing="4", width="100%"),
        _detail_dialog(),
        config_dialog(),
    )
