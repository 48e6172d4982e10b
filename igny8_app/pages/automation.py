"""Automation: run the pipeline for the active site and watch it live.

Progress is pushed, not polled: the worker publishes a Redis event after each committed item; the
web process's progress hub (``igny8_app/progress_hub.py``) hands a site's events to ``watch`` (a
background event per open page), which shows the committed state on the card and reloads the
durable dashboard from the database at stage ends, so a page that (re)connects is never stale.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import reflex as rx

from igny8_app.components.layout import page_frame
from igny8_app.components.processing_card import processing_card, ticker_script
from igny8_app.pages.automation_config import ConfigState, config_button, config_dialog
from igny8_app.domain.errors import DomainError, Unauthenticated
from igny8_app.domain.roles import Permission
from igny8_app.live_access import AccessGate
from igny8_app.progress_hub import get_hub
from igny8_app.services import accounts, automation
from igny8_app.state import PAGE_LOADERS, SessionState

STAGE_ICONS = ["git-merge", "lightbulb", "list-checks", "file-text", "message-square-text", "image"]
WATCH_IDLE_LIMIT_S = 30 * 60
MIN_PUSH_INTERVAL_S = 0.02  # at most ~50 card updates a second per page; faster events coalesce
PUSHES_PER_SECOND = 500  # per web process, shared by its open pages: 50 pages get 10 updates a second each


def push_interval(watchers: int) -> float:
    """The least time between two card updates of one page, with ``watchers`` pages open in this
    process: every page still sees the newest state, just less often when many are open."""
    return max(MIN_PUSH_INTERVAL_S, watchers / PUSHES_PER_SECOND)


PUSH_TRACE = os.environ.get("IGNY8_PUSH_TRACE", "")  # a file: one line per push (bench/push_latency.py)


def _trace_push(run: dict[str, Any]) -> None:
    with open(PUSH_TRACE, "a", encoding="utf-8") as fh:
        fh.write(f"{time.time():.6f} {run.get('current_stage', 0)} {run.get('processed_items', 0)} "
                 f"{run.get('total_items', 0)}\n")


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
    _card_seq: int = 0  # progress-hub sequence number of the event the card's run came from

    # --- loading --------------------------------------------------------------------------------

    def _reload(self, ctx) -> dict[str, Any]:  # noqa: ANN001 - a Ctx from SessionState._authorize
        """Reload the page data; returns the current/last run's processing state ({} if none)."""
        return self._apply_dashboard(automation.site_dashboard(session=ctx.session, site_id=ctx.site.id))

    def _apply_dashboard(self, data: dict[str, Any], *, card: bool = True) -> dict[str, Any]:
        """Show a ``services.automation.site_dashboard``; returns its run state for the card, or
        None with ``card=False`` (the card keeps its run: a newer item event already updated it)."""
        self.stages = [{**r, "icon": STAGE_ICONS[r["stage"] - 1]} for r in data["stages"]]
        if card:
            self._note_run(data["run"])
        self.history_rows = data["history"]
        self.activity = data["activity"]
        self.estimate_total = data["estimate_total"]
        self.estimate_needed = data["estimate_needed"]
        self.balance = data["balance"]
        return data["run"] if card else None

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
    access_lost: str = ""  # why the live view stopped (the page lost its access), or ""

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
        self._card_seq = 0
        self.access_lost = ""
        return [LiveRunState.watch, ConfigState.load_config]

    @rx.event(background=True)
    async def watch(self):
        """Follow this site's run: the process's progress hub hands over the site's events.

        An item event carries the committed processing state, which replaces the card's run (the
        cheap path, no database read). Anything else (a stage end, pause, completion, another
        run) also reloads the dashboard: read once per process for every page of the site, in a
        thread, concurrently with the item events that keep arriving, so the card never waits
        for it. Pushes to the browser are paced to at most one per ``push_interval()``: faster
        events are coalesced and the newest committed state wins (a browser on 2 busy cores
        cannot paint 150 updates a second, and queueing them only makes every later update late).

        The page's access (session, membership, site) is re-checked at most once a second,
        events or not (``live_access.AccessGate``), and before every reload: when it is gone the
        feed stops and the card's data is cleared (``_lose_access``).
        """
        async with self:
            gen, site_id, token = self._watch_gen, self.active_site_id, self._session_token()
        hub = get_hub()
        queue = hub.open(site_id)
        wanted: dict[str, Any] = {"seq": 0, "done": 0, "denied": None}  # the reload this page needs / has
        reloader: asyncio.Task | None = None
        gate = AccessGate(lambda: accounts.check_site_access(token=token, site_id=site_id,
                                                             permission=Permission.READ, touch=False))

        async def reload() -> None:
            while wanted["done"] < wanted["seq"]:
                target = wanted["seq"]
                try:  # re-checked on every reload: a revoked session or role stops the feed
                    await asyncio.to_thread(accounts.check_site_access, token=token, site_id=site_id,
                                            permission=Permission.READ)
                    read_at, data = await hub.dashboard(site_id, target)
                except DomainError as exc:
                    wanted["denied"] = exc
                    return
                async with self:
                    if self._watch_gen != gen or self.active_site_id != site_id or wanted["denied"]:
                        return
                    run = self._apply_dashboard(data, card=read_at >= self._card_seq)
                    if run is not None:
                        self.run = run
                    self.pending_action = ""
                wanted["done"] = target

        last_event, last_push = time.monotonic(), 0.0
        events: list[dict[str, Any]] = []
        try:
            while wanted["denied"] is None and time.monotonic() - last_event < WATCH_IDLE_LIMIT_S:
                try:  # wake for the next event, or when the access check is due
                    events.append(await asyncio.wait_for(queue.get(), timeout=max(gate.due_in(), 0.01)))
                    last_event = time.monotonic()
                    if (wait := last_push + push_interval(hub.watchers()) - time.monotonic()) > 0:
                        await asyncio.sleep(wait)
                    while not queue.empty():
                        events.append(queue.get_nowait())
                except asyncio.TimeoutError:
                    pass
                try:
                    allowed = await gate.ensure()  # a no-op until a second has passed since the last check
                except DomainError as exc:
                    wanted["denied"] = exc
                    break
                async with self:
                    if self._watch_gen != gen or self.active_site_id != site_id:
                        return  # the page was reloaded or the site changed: a newer watcher runs
                    if not (events and allowed):  # nothing new, or access unverified: hold events back
                        continue
                    needs_reload = self._apply_item(events)
                    shown = self.run
                batch, events = events, []
                last_push = time.monotonic()
                if PUSH_TRACE:  # benchmarks: when each page's update left this process
                    _trace_push(shown)
                if needs_reload:
                    wanted["seq"] = max(e.get("_seq", 0) for e in batch)
                    if reloader is None or reloader.done():
                        reloader = asyncio.create_task(reload())
        finally:
            hub.close(site_id, queue)
            if reloader is not None and not reloader.done():
                reloader.cancel()
        if wanted["denied"] is None:
            return None  # idle for WATCH_IDLE_LIMIT_S: the page reconnects (and reloads) when used again
        async with self:
            return self._lose_access(wanted["denied"]) if self._watch_gen == gen else None

    def _lose_access(self, exc: DomainError):
        """The page may no longer see this site: stop showing anything of its runs (titles,
        counts, credits, history, activity, balance) and say why; a dead session goes to login."""
        self._watch_gen += 1  # any later event of this watcher's generation is ignored
        self.run, self.detail, self.detail_log, self.detail_open, self.confirm_cancel = {}, {}, [], False, False
        self.stages, self.history_rows, self.activity, self.skipped_stages = [], [], [], []
        self.run_status, self.run_stage, self.pending_action = "", 0, ""
        self.estimate_total = self.estimate_needed = self.balance = 0
        self.access_lost = f"Access lost: {exc.message} The live view has stopped."
        if isinstance(exc, Unauthenticated):
            self.authenticated = False
            return rx.redirect("/login")
        return None

    def _apply_item(self, events: list[dict[str, Any]]) -> bool:
        """The cheap path: show the newest committed state of the card's run that the events carry
        (before any reload, so the card never waits for the dashboard read). Returns True when
        the events also need a full reload: a stage ended, the run left ``running``, an event
        without state, or a run that is not the one on the card."""
        carrying = [e for e in events if e.get("state")]
        newest = carrying[-1]["state"] if carrying else None
        if newest and self.run and self.run.get("run_id") == newest.get("run_id"):
            self.run = newest
            self._card_seq = carrying[-1].get("_seq", 0)
            self._note_run(newest)
        return (not newest or not self.run or self.run.get("run_id") != newest.get("run_id")
                or any(e.get("stage_done") or e.get("reload") or not e.get("state") or e.get("status") != "running"
                       for e in events))

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
