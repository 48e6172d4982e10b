"""Automation: run the pipeline for the active site and watch it live.

Progress is pushed, not polled: the worker publishes a Redis event after each committed item; the
web process's progress hub (``igny8_app/progress_hub.py``) hands a site's events to ``watch`` (a
background event per open page), which shows the committed state on the card and reloads the
durable dashboard from the database at stage ends, so a page that (re)connects is never stale.
The states (the settings dialog's too) are here; the layout is in view.py and config.py.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from igny8_app.domain.enums import RunStatus
from igny8_app.domain.errors import DomainError, Unauthenticated
from igny8_app.domain.roles import Permission
from igny8_app.live_access import AccessGate
from igny8_app.pipeline import stages as registry
from igny8_app import progress_hub
from igny8_app.progress_hub import get_hub
from igny8_app import user_scope
from igny8_app.services.automation import config as automation_config
from igny8_app.services.automation import control as automation
from igny8_app.services.automation.config import ConfigInvalid
from igny8_app.state import PAGE_LOADERS, SessionState

ACTIVE_STATUSES = (RunStatus.RUNNING.value, RunStatus.PAUSED.value)  # a run that holds its site


def _text(value: Any) -> str:
    return "" if value is None else str(value)


class ConfigState(SessionState):
    """The settings dialog (config.py): the site's automation settings; owners and admins save them."""

    config_open: bool = False
    form: dict[str, str] = {}  # every field as the form shows it (strings)
    review: list[int] = []
    field_errors: dict[str, str] = {}
    schedule_text: str = ""
    next_run_local: str = ""
    timezone: str = "UTC"
    saved_message: str = ""
    form_version: int = 0  # remounts the form with fresh default values

    def _fill_form(self, cfg: dict[str, Any]) -> None:
        self.form = {k: ("true" if cfg[k] else "") if k == "enabled" else _text(cfg[k])
                     for k in automation_config.EDITABLE if k != "review_after_stages"}
        self.review = list(cfg["review_after_stages"])
        self.schedule_text = cfg["schedule"] if cfg["enabled"] else "Scheduled runs are off"
        self.next_run_local = cfg["next_run_local"] or ""
        self.timezone = cfg["timezone"]
        self.form_version += 1

    @rx.event
    def load_config(self):
        if not self.active_site_id:
            return None
        try:
            with self._authorize(Permission.READ) as ctx:
                self._fill_form(automation_config.get_config(site_id=ctx.site.id, session=ctx.session))
        except DomainError as exc:
            return self._fail(exc)
        return None

    @rx.event
    def open_config(self):
        self.field_errors, self.saved_message = {}, ""
        self.config_open = True
        return ConfigState.load_config

    @rx.event
    def set_config_open(self, value: bool):
        self.config_open = bool(value)

    @rx.event
    def save_config(self, data: dict[str, Any]):
        self.saved_message = ""
        changes: dict[str, Any] = {k: str(data.get(k, "") or "").strip() for k in automation_config.EDITABLE
                                   if k not in ("enabled", "review_after_stages")}
        changes["enabled"] = bool(data.get("enabled"))
        changes["review_after_stages"] = [n for n in automation_config.review_stages() if data.get(f"review_{n}")]
        try:
            with self._authorize(Permission.MANAGE) as ctx:  # one unit of work: authorise and act
                cfg = automation_config.update_config(site_id=ctx.site.id, changes=changes, session=ctx.session)
        except ConfigInvalid as exc:
            self.field_errors = exc.errors
            return rx.toast.error("Please correct the highlighted settings.")
        except DomainError as exc:
            return self._fail(exc)
        self.field_errors = {}
        self._fill_form(cfg)
        self.saved_message = (f"Saved. Next scheduled run: {cfg['next_run_local']}." if cfg["next_run_local"]
                              else "Saved. Scheduled runs are off: runs start only with Run now.")
        return rx.toast.success(self.saved_message)


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
        self.stages = [{**r, "icon": registry.stage(r["stage"]).icon} for r in data["stages"]]
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
        return self.run_status in ACTIVE_STATUSES

    @rx.var
    def run_now_block(self) -> str:
        """Why Run now is disabled, or ''."""
        if self.run_status in ACTIVE_STATUSES:
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
        """Follow this site's run: the process's progress hub hands over the site's events
        (``progress_hub.follow`` paces and coalesces them and keeps at most one reload in flight).

        An item event carries the committed processing state, which replaces the card's run (the
        cheap path, no database read). Anything else (a stage end, pause, completion, another
        run) also reloads the dashboard, shown unless a newer item event already updated the card.

        The page's access (session, membership, site) is re-checked at most once a second,
        events or not (``live_access.AccessGate``), and before every reload: when it is gone the
        feed stops and the card's data is cleared (``_lose_access``).
        """
        async with self:
            gen, site_id, token = self._watch_gen, self.active_site_id, self._session_token()

        def current() -> bool:
            return self._watch_gen == gen and self.active_site_id == site_id

        def apply_events(events: list[dict[str, Any]]) -> tuple[bool, dict[str, Any]]:
            return self._apply_item(events), self.run

        def apply_dashboard(read_at: int, data: dict[str, Any]) -> None:
            run = self._apply_dashboard(data, card=read_at >= self._card_seq)
            if run is not None:
                self.run = run
            self.pending_action = ""

        gate = AccessGate(lambda: user_scope.check_site_access(token=token, site_id=site_id,
                                                             permission=Permission.READ, touch=False))
        denied = await progress_hub.follow(
            get_hub(), site_id, page=self, current=current, gate=gate, apply_events=apply_events,
            apply_dashboard=apply_dashboard,
            recheck=lambda: user_scope.check_site_access(token=token, site_id=site_id, permission=Permission.READ))
        if denied is None:
            return None  # idle, or superseded by a newer watcher
        async with self:
            return self._lose_access(denied) if self._watch_gen == gen else None

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
                or any(e.get("stage_done") or e.get("reload") or not e.get("state") or e.get("status") != RunStatus.RUNNING.value
                       for e in events))

    # --- commands -------------------------------------------------------------------------------

    @rx.event
    def run_now(self):
        if self.pending_action:
            return
        try:
            with self._authorize(Permission.RUN) as ctx:  # one unit of work: authorise and act
                run = automation.start_run(site_id=ctx.site.id, user_id=ctx.user.id, actor=ctx.user.email,
                                           session=ctx.session)
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
            with self._authorize(Permission.RUN) as ctx:  # one unit of work: authorise and act
                self.run = fn(run_id=self.run["run_id"], site_id=ctx.site.id, actor=ctx.user.email,
                              session=ctx.session)
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

