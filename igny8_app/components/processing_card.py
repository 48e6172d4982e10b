"""The CurrentProcessingCard: one card for the current (or last) run of the site.

About 75% main area (stage, bars, counts, current item, up next) and 25% metrics (a live
duration counter that excludes paused time, credits, stage, status). Paused runs turn yellow
with the reason and what to do next; cancelled, failed and completed runs have their own look.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from igny8_app.domain.enums import PauseReason, RequestedAction, RunStatus

RUNNING, PAUSED, CANCELLED = RunStatus.RUNNING.value, RunStatus.PAUSED.value, RunStatus.CANCELLED.value
COMPLETED, FAILED, SKIPPED = RunStatus.COMPLETED.value, RunStatus.FAILED.value, RunStatus.SKIPPED.value
PAUSE, CANCEL = RequestedAction.PAUSE.value, RequestedAction.CANCEL.value

# Radix animates every change of a progress bar (a 120 ms transform transition). Live runs update
# the bars up to 50 times a second, so they would animate without pause; with software
# compositing (no GPU: servers, VMs, thin clients) that alone kept a whole core busy and delayed
# every update behind it (bench/push_latency.py: browser CPU 104% -> 40%, p95 30 -> 12 ms).
NO_BAR_TRANSITION = {"& .rt-ProgressIndicator": {"transition": "none"}}

PAUSE_HELP = {
    PauseReason.OPERATOR.value: "Paused by an operator. Resume continues with the next item.",
    PauseReason.INSUFFICIENT_CREDITS.value:
        "Paused: the account ran out of credits. Add credits on the Billing page, then resume.",
    PauseReason.PROVIDER_UNAVAILABLE.value:
        "Paused: the AI provider kept failing. Check the provider settings, then resume.",
    PauseReason.REVIEW.value: "Paused for review. Check the results so far, then resume.",
}

# Ticks every [data-ticker] element once a second: base seconds + time since the anchor, while running.
_TICKER_JS = """
(function(){
  if (window.__igny8Ticker) return; window.__igny8Ticker = true;
  function fmt(s){s=Math.max(0,Math.floor(s));var h=Math.floor(s/3600),m=Math.floor(s%3600/60),x=s%60;
    return (h?h+'h ':'')+(h||m?m+'m ':'')+x+'s';}
  setInterval(function(){
    document.querySelectorAll('[data-ticker]').forEach(function(el){
      var base=parseFloat(el.dataset.base||'0'), anchor=parseFloat(el.dataset.anchor||'0');
      var running=el.dataset.running==='true';
      el.textContent = fmt(running ? base + (Date.now()/1000 - anchor) : base);
    });
  }, 1000);
})();
"""


def ticker_script() -> rx.Component:
    return rx.script(_TICKER_JS)


def _theme(status: rx.Var) -> tuple[Any, Any]:
    background = rx.match(status, (PAUSED, "var(--amber-2)"), (CANCELLED, "var(--gray-3)"),
                          (FAILED, "var(--red-2)"), (COMPLETED, "var(--green-2)"), "var(--indigo-1)")
    border = rx.match(status, (PAUSED, "var(--amber-8)"), (CANCELLED, "var(--gray-8)"),
                      (FAILED, "var(--red-8)"), (COMPLETED, "var(--green-8)"), "var(--indigo-7)")
    return background, border


def _status_badge(status: rx.Var) -> rx.Component:
    return rx.badge(status, size="2", variant="solid", id="run-status", color_scheme=rx.match(
        status, (RUNNING, "indigo"), (PAUSED, "amber"), (COMPLETED, "green"), (FAILED, "red"), "gray"))


def _metric(label: str, value: rx.Component) -> rx.Component:
    return rx.vstack(rx.text(label, size="1", color_scheme="gray", weight="medium"), value, spacing="0")


def _controls(state: Any) -> rx.Component:
    run = state.run
    status = run["status"].to(str)
    requested = run["requested_action"].to(str)
    has_request = (requested == PAUSE) | (requested == CANCEL)  # null-safe (JSON null is not "")
    busy = state.pending_action != ""
    return rx.hstack(
        rx.cond(
            status == RUNNING,
            rx.button(rx.cond(state.pending_action == "pause", rx.spinner(size="1"), rx.icon("pause", size=14)),
                      "Pause", on_click=state.pause, disabled=busy | has_request | ~state.can_run,
                      variant="soft", color_scheme="amber", id="pause-button"),
        ),
        rx.cond(
            status == PAUSED,
            rx.button(rx.cond(state.pending_action == "resume", rx.spinner(size="1"), rx.icon("play", size=14)),
                      "Resume", on_click=state.resume, disabled=busy | ~state.can_run, color_scheme="indigo",
                      id="resume-button"),
        ),
        rx.cond(
            (status == RUNNING) | (status == PAUSED),
            rx.alert_dialog.root(
                rx.alert_dialog.trigger(
                    rx.button(rx.cond(state.pending_action == "cancel", rx.spinner(size="1"), rx.icon("x", size=14)),
                              "Cancel", variant="soft", color_scheme="red",
                              disabled=busy | (requested == CANCEL) | ~state.can_run, id="cancel-button"),
                ),
                rx.alert_dialog.content(
                    rx.alert_dialog.title("Cancel this run?"),
                    rx.alert_dialog.description(
                        "The current item finishes, then the run stops for good. Work already done is kept; "
                        "credits already used are not refunded."),
                    rx.hstack(
                        rx.alert_dialog.cancel(rx.button("Keep running", variant="soft", color_scheme="gray")),
                        rx.alert_dialog.action(rx.button("Cancel run", color_scheme="red", on_click=state.cancel,
                                                         id="confirm-cancel")),
                        justify="end", spacing="3", margin_top="12px",
                    ),
                ),
                open=state.confirm_cancel,
                on_open_change=state.set_confirm_cancel,
            ),
        ),
        rx.icon_button(rx.icon("x", size=16), variant="ghost", color_scheme="gray", on_click=state.close_card,
                       id="close-card", title="Close"),
        spacing="2",
        align="center",
    )


def _banner(state: Any) -> rx.Component:
    run = state.run
    status = run["status"].to(str)
    requested = run["requested_action"].to(str)
    reason = run["pause_reason"].to(str)
    return rx.fragment(
        rx.cond((status == RUNNING) & (requested == PAUSE),
                rx.callout("Pausing — finishing current item…", icon="loader", color_scheme="amber", size="1",
                           id="pausing-note")),
        rx.cond((status == RUNNING) & (requested == CANCEL),
                rx.callout("Cancelling — finishing current item…", icon="loader", color_scheme="red", size="1",
                           id="cancelling-note")),
        rx.cond(status == PAUSED,
                rx.callout(rx.match(reason, *[(k, v) for k, v in PAUSE_HELP.items()], "Paused."),
                           icon="circle-pause", color_scheme="amber", size="1", id="paused-note")),
        rx.cond(status == FAILED,
                rx.callout("The run failed: " + run["error"].to(str), icon="circle-x", color_scheme="red",
                           size="1")),
        rx.cond(status == CANCELLED,
                rx.callout("Cancelled. Finished items are kept; start a new run to continue.", icon="ban",
                           color_scheme="gray", size="1")),
        rx.cond(status == COMPLETED,
                rx.cond(run["result"].to(str) == "cap_reached",
                        rx.callout("Stopped at the per-run credit cap (cap_reached, not a failure): the remaining "
                                   "items wait for the next run.", icon="octagon-pause", color_scheme="amber",
                                   size="1", id="cap-reached-note"),
                        rx.callout("Completed: every stage is done.", icon="circle-check", color_scheme="green",
                                   size="1"))),
        rx.cond(status == SKIPPED,
                rx.callout("Scheduled run skipped: " + run["skip_reason"].to(str), icon="calendar-x",
                           color_scheme="orange", size="1", id="skipped-note")),
    )


def processing_card(state: Any) -> rx.Component:
    run = state.run
    status = run["status"].to(str)
    background, border = _theme(status)
    stage = run["current_stage"].to(int)
    count = run["stage_count"].to(int)  # the registry's stages, from the processing state
    overall = ((stage - 1) * 100 + run["percentage"].to(int)) // rx.cond(count > 0, count, 1)
    return rx.card(
        rx.hstack(
            rx.vstack(  # main area
                rx.hstack(
                    rx.heading("Stage ", stage.to_string(), "/", count.to_string(), " — ", run["stage_name"].to(str),
                               size="4", id="stage-title"),
                    rx.spacer(),
                    _controls(state),
                    width="100%",
                    align="center",
                ),
                _banner(state),
                rx.progress(value=run["percentage"].to(int), width="100%", size="3", id="stage-progress",
                            color_scheme=rx.cond(status == PAUSED, "amber", "indigo"), max_height="10px",
                            height="10px", style=NO_BAR_TRANSITION),
                rx.hstack(
                    rx.text(run["processed_items"].to_string(), " / ", run["total_items"].to_string(),
                            " processed (", run["percentage"].to_string(), "%)", weight="bold", size="3",
                            id="processed-count"),
                    rx.cond(run["failed_items"].to(int) > 0,
                            rx.badge(run["failed_items"].to_string(), " failed", color_scheme="red")),
                    rx.spacer(),
                    rx.text(run["remaining_count"].to_string(), " remaining", size="2", color_scheme="gray"),
                    width="100%",
                ),
                rx.hstack(rx.text("Overall", size="1", color_scheme="gray", width="60px"),
                          rx.progress(value=overall, width="100%", size="1", id="overall-progress",
                                      style=NO_BAR_TRANSITION),
                          rx.text(overall.to_string(), "%", size="1", color_scheme="gray"), width="100%",
                          align="center"),
                rx.cond(
                    (status == RUNNING) & run["current_item"].to(bool),
                    rx.vstack(
                        rx.text("Now: ", rx.text.strong(run["current_item"].to(str)), size="2", id="current-item"),
                        rx.text("Up next", size="1", color_scheme="gray", weight="medium"),
                        rx.foreach(run["up_next"].to(list[str]), lambda t: rx.text("· ", t, size="2",
                                                                                   color_scheme="gray")),
                        spacing="1",
                        width="100%",
                    ),
                ),
                width="75%",
                spacing="3",
                align="start",
            ),
            rx.divider(orientation="vertical", size="4"),
            rx.vstack(  # metrics panel
                _metric("Duration", rx.text(
                    "", size="5", weight="bold", id="run-duration", data_ticker="1",
                    data_base=run["duration_seconds"].to_string(),
                    data_anchor=run["as_of"].to_string(),
                    data_running=rx.cond(status == RUNNING, "true", "false"))),
                _metric("Credits used", rx.text(run["credits_used"].to_string(), size="5", weight="bold",
                                                id="credits-used")),
                _metric("Still to go", rx.text("about ", run["estimate_remaining"].to_string(), " credits", size="3",
                                               weight="medium", id="estimate-remaining")),
                _metric("Stage", rx.text(stage.to_string(), " of ", count.to_string(), size="3", weight="medium")),
                _metric("Status", _status_badge(status)),
                rx.text(run["run_id"].to(str), size="1", color_scheme="gray", font_family="monospace", id="card-run-id"),
                width="25%",
                spacing="3",
                padding_left="16px",
            ),
            width="100%",
            align="stretch",
        ),
        id="processing-card",
        class_name=rx.cond(status == PAUSED, "run-paused", "run-" + status),
        style={"background": background, "border": "1px solid", "border_color": border},
        width="100%",
    )
