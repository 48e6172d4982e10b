"""The Automation page's settings dialog: schedule, batch sizes, delays, per-run caps, review
gates. Everyone in the account sees the settings; owners and admins save them (checked on the
server in ``ConfigState.save_config``, state.py). Validation is the service's: each field shows its
own message."""

from __future__ import annotations

import reflex as rx

from igny8_app.domain.enums import Frequency
from igny8_app.pages.automation.state import ConfigState
from igny8_app.pipeline import stages as registry
from igny8_app.services.automation import config as automation_config

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
CAP_FIELDS = [*((st.cap_key, st.queue.name.capitalize()) for st in registry.STAGES if st.cap_key),
              ("max_credits_per_run", "Credits")]


def _batch_hint(st: registry.Stage) -> str:
    lo, hi = automation_config.batch_range(st.batch_key)
    return f"{st.unit}s per call, {lo}-{hi}" if st.batched else f"items per batch, {lo}-{hi}"


def _error(name: str) -> rx.Component:
    return rx.cond(ConfigState.field_errors.contains(name),
                   rx.text(ConfigState.field_errors[name], size="1", color="var(--red-11)", id=f"err-{name}"))


def _number(name: str, label: str, *, hint: str = "", placeholder: str = "") -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", weight="medium"),
        rx.input(name=name, default_value=ConfigState.form[name], placeholder=placeholder, id=f"cfg-{name}",
                 disabled=~ConfigState.can_manage, size="2", width="100%"),
        *([rx.text(hint, size="1", color_scheme="gray")] if isinstance(hint, rx.Var) or hint else []),
        _error(name),
        spacing="1", width="100%",
    )


def _native_select(name: str, options: list[tuple[str, str]]) -> rx.Component:
    return rx.el.select(*[rx.el.option(label, value=value) for value, label in options], name=name,
                        default_value=ConfigState.form[name], id=f"cfg-{name}", disabled=~ConfigState.can_manage,
                        class_name="rt-reset rt-SelectTrigger rt-r-size-2 rt-variant-surface",
                        style={"width": "100%", "padding": "0 8px"})


def _checkbox(name: str, label: str, checked: rx.Var) -> rx.Component:
    return rx.el.label(
        rx.el.input(type="checkbox", name=name, default_checked=checked, id=f"cfg-{name}",
                    disabled=~ConfigState.can_manage, style={"marginRight": "6px"}),
        rx.text(label, as_="span", size="2"),
        style={"display": "flex", "alignItems": "center", "cursor": "pointer"},
    )


def _section(title: str, *children: rx.Component) -> rx.Component:
    return rx.vstack(rx.text(title, weight="bold", size="2"), *children, spacing="2", width="100%")


def config_dialog() -> rx.Component:
    f = ConfigState.form
    schedule = _section(
        "Schedule",
        _checkbox("enabled", "Run automatically on a schedule", f["enabled"] == "true"),
        rx.grid(
            rx.vstack(rx.text("Frequency", size="1", weight="medium"),
                      _native_select("frequency", [(f.value, f.value.capitalize()) for f in Frequency]),
                      _error("frequency"), spacing="1"),
            _number("scheduled_time", "Time (HH:MM)", hint=ConfigState.timezone, placeholder="02:00"),
            rx.vstack(rx.text("Weekday (weekly)", size="1", weight="medium"),
                      _native_select("weekday", [("", "—"), *[(str(i), d) for i, d in enumerate(WEEKDAYS)]]),
                      _error("weekday"), spacing="1"),
            _number("month_day", "Day of month (monthly)", hint="1-28", placeholder="1"),
            columns="4", spacing="3", width="100%",
        ),
    )
    batches = _section(
        "Batch sizes and delays",
        rx.grid(*[_number(st.batch_key, f"{st.number} {st.short_title}", hint=_batch_hint(st))
                  for st in registry.STAGES if st.batch_key], columns="3", spacing="3", width="100%"),
        rx.grid(_number("within_stage_delay", "Delay within a stage (s)", hint="after each batch, 0-3600"),
                _number("between_stage_delay", "Delay between stages (s)", hint="0-3600"),
                _number("in_article_images", "In-article images per content", hint="0-5"),
                columns="3", spacing="3", width="100%"),
    )
    caps = _section(
        "Per-run caps (empty = no cap)",
        rx.grid(*[_number(name, label, placeholder="no cap",
                          hint="at most the balance" if name == "max_credits_per_run" else "")
                  for name, label in CAP_FIELDS], columns="4", spacing="3", width="100%"),
    )
    review = _section(
        "Review gates: pause the run for review after",
        rx.hstack(*[_checkbox(f"review_{n}", registry.stage(n).short_title, ConfigState.review.contains(n))
                    for n in automation_config.review_stages()], spacing="4", wrap="wrap"),
        _error("review_after_stages"),
    )
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Automation settings"),
            rx.dialog.description(rx.text("Current schedule: ", rx.text.strong(ConfigState.schedule_text),
                                          rx.cond(ConfigState.next_run_local != "",
                                                  rx.text.span(" · next run ", rx.text.strong(
                                                      ConfigState.next_run_local, id="next-run-local"))),
                                          size="2", color_scheme="gray"), margin_bottom="12px"),
            rx.el.form(
                rx.vstack(
                    schedule, rx.separator(size="4"), batches, rx.separator(size="4"), caps,
                    rx.separator(size="4"), review,
                    rx.cond(ConfigState.saved_message != "",
                            rx.callout(ConfigState.saved_message, icon="calendar-check", color_scheme="green",
                                       size="1", width="100%", id="config-saved")),
                    rx.cond(~ConfigState.can_manage,
                            rx.callout("Only owners and admins can change these settings.", icon="lock",
                                       color_scheme="gray", size="1", width="100%")),
                    rx.hstack(
                        rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray", type="button")),
                        rx.button("Save settings", type="submit", disabled=~ConfigState.can_manage,
                                  id="save-config"),
                        justify="end", width="100%",
                    ),
                    spacing="3", width="100%",
                ),
                on_submit=ConfigState.save_config,
                reset_on_submit=False,
                key=ConfigState.form_version.to_string(),
                id="config-form",
            ),
            max_width="860px",
        ),
        open=ConfigState.config_open,
        on_open_change=ConfigState.set_config_open,
    )


def config_button() -> rx.Component:
    return rx.button(rx.icon("settings-2", size=16), "Settings", variant="soft", size="3",
                     on_click=ConfigState.open_config, id="open-config")
