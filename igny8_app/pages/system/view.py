"""System page: layout."""

from __future__ import annotations

import reflex as rx

from igny8_app.components.layout import empty_state, page_frame, stat_card
from igny8_app.components.widgets import card, data_table
from igny8_app.pages.system.state import SystemState


S = SystemState


def _table(headers: list[str], rows: rx.Var, row, table_id: str) -> rx.Component:  # noqa: ANN001
    return data_table(headers, rows, row, table_id, size="1")


def _card(title: str, *children: rx.Component) -> rx.Component:
    return card(title, *children, spacing="2")


def _workers() -> rx.Component:
    return _card(
        "Workers",
        rx.cond(S.workers.length() > 0, _table(
            ["Worker", "Host / pid", "State", "Current job", "Run", "Heartbeat", "Done / failed"], S.workers,
            lambda w: rx.table.row(
                rx.table.cell(rx.text(w["name"].to(str), size="1", font_family="monospace")),
                rx.table.cell(w["hostname"].to(str), " / ", w["pid"].to_string()),
                rx.table.cell(rx.badge(w["state"].to(str), color_scheme=rx.match(
                    w["state"].to(str), ("busy", "indigo"), ("idle", "green"), "gray"))),
                rx.table.cell(rx.text(w["job"].to(str), size="1")),
                rx.table.cell(rx.cond(w["run_id"].to(str) != "", rx.vstack(
                    rx.text(w["run_id"].to(str), size="1", font_family="monospace"),
                    rx.text(w["run_site"].to(str), size="1", color_scheme="gray"), spacing="0"), "—")),
                rx.table.cell(w["beat_ago"].to(str)),
                rx.table.cell(w["successful_jobs"].to_string(), " / ", w["failed_jobs"].to_string()),
            ), "workers-table"),
            empty_state("server-off", "No live workers", "Start workers with `igny8 worker` (scripts/run.sh starts "
                        "IGNY8_WORKERS of them); runs wait in the queue until one is up.")),
    )


def _health() -> rx.Component:
    """Each health check with what failed: the text /api/v1/health keeps from anonymous callers."""
    return _card(
        "Health checks",
        _table(["Part", "Status"], S.health_checks, lambda c: rx.table.row(
            rx.table.cell(rx.hstack(rx.icon(rx.cond(c["ok"] == "yes", "circle-check", "circle-alert"), size=14,
                                            color=rx.cond(c["ok"] == "yes", "var(--green-10)", "var(--red-10)")),
                                    rx.text(c["part"]), spacing="1", align="center")),
            rx.table.cell(rx.text(c["detail"], size="1", font_family="monospace")),
        ), "health-table"),
    )


def _beats() -> rx.Component:
    return _card(
        "Periodic tasks",
        _table(["Task", "Last heartbeat", "By", "Last turn"], S.beats, lambda b: rx.table.row(
            rx.table.cell(rx.hstack(rx.icon(rx.cond(b["ok"] == "yes", "circle-check", "circle-alert"), size=14,
                                            color=rx.cond(b["ok"] == "yes", "var(--green-10)", "var(--amber-10)")),
                                    rx.text(b["task"]), spacing="1", align="center")),
            rx.table.cell(rx.cond(b["ok"] == "yes", b["ago"], "none recently")),
            rx.table.cell(rx.text(b["by"], size="1", font_family="monospace")),
            rx.table.cell(rx.text(b["detail"], size="1")),
        ), "beats-table"),
    )


def _failed() -> rx.Component:
    return _card(
        "Failed jobs",
        rx.cond(S.failed.length() > 0, _table(
            ["Job", "Error", "Run", "Ended", ""], S.failed, lambda f: rx.table.row(
                rx.table.cell(rx.vstack(rx.text(f["description"].to(str), size="1"),
                                        rx.text(f["id"].to(str), size="1", color_scheme="gray",
                                                font_family="monospace"), spacing="0")),
                rx.table.cell(rx.text(f["error"].to(str), size="1", color="var(--red-11)")),
                rx.table.cell(rx.text(f["run_id"].to(str), size="1", font_family="monospace")),
                rx.table.cell(rx.text(f["ended_at"].to(str)[:19].replace("T", " "), size="1")),
                rx.table.cell(rx.hstack(
                    rx.button("Retry", size="1", variant="soft", on_click=S.retry_job(f["id"].to(str))),
                    rx.button("Delete", size="1", variant="soft", color_scheme="red",
                              on_click=S.delete_job(f["id"].to(str))), spacing="2")),
            ), "failed-table"),
            rx.text("No failed jobs.", size="2", color_scheme="gray")),
    )


def _locks() -> rx.Component:
    return _card(
        "Site locks (one active run per site)",
        rx.cond(S.locks.length() > 0, _table(
            ["Site", "Run", "Status", "Lease", "Heartbeat", ""], S.locks, lambda lk: rx.table.row(
                rx.table.cell(lk["site"].to(str)),
                rx.table.cell(rx.text(lk["run_id"].to(str), size="1", font_family="monospace")),
                rx.table.cell(lk["status"].to(str)),
                rx.table.cell(rx.cond(lk["live"].to(bool), rx.badge("live", color_scheme="green"),
                                      rx.badge("no live worker", color_scheme="amber"))),
                rx.table.cell(rx.text(lk["heartbeat_at"].to(str)[11:19], size="1")),
                rx.table.cell(rx.button("Release", size="1", variant="soft", color_scheme="red",
                                        disabled=lk["live"].to(bool), on_click=S.ask_release(lk["site_id"].to(int)))),
            ), "locks-table"),
            rx.text("No site is locked.", size="2", color_scheme="gray")),
    )


def _next_runs() -> rx.Component:
    return _card(
        "Next scheduled runs",
        rx.cond(S.next_runs.length() > 0, _table(["Site", "Due"], S.next_runs, lambda r: rx.table.row(
            rx.table.cell(r["site"].to(str)), rx.table.cell(r["at"].to(str))), "next-runs-table"),
            rx.text("No site has scheduled runs enabled.", size="2", color_scheme="gray")),
    )


def _confirm() -> rx.Component:
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title("Release the site lock?"),
            rx.alert_dialog.description(
                "The run holding it has no live worker. Its run is cancelled (items already done stay done) and "
                "the release is recorded on its log with your name.", size="2"),
            rx.hstack(rx.alert_dialog.cancel(rx.button("Keep", variant="soft", color_scheme="gray")),
                      rx.alert_dialog.action(rx.button("Release lock", color_scheme="red", on_click=S.release_lock,
                                                       id="confirm-release")),
                      justify="end", spacing="2", margin_top="12px"),
        ),
        open=S.confirm_site > 0,
        on_open_change=S.set_confirm_open,
    )


def system_page() -> rx.Component:
    h = S.health
    return page_frame(
        "System",
        rx.cond(
            S.denied != "",
            rx.callout(S.denied, icon="lock", color_scheme="amber", id="system-denied"),
            rx.vstack(
                rx.hstack(
                    rx.badge(rx.cond(h["status"].to(str) == "ok", "healthy", "unhealthy"), size="2",
                             color_scheme=rx.cond(h["status"].to(str) == "ok", "green", "red"), id="health-badge"),
                    rx.text(rx.foreach(h["failing"].to(list[str]), lambda x: rx.text.span(x, " failing · ")),
                            size="2", color="var(--red-11)"),
                    rx.spacer(),
                    rx.text("Updated ", S.updated, size="1", color_scheme="gray"),
                    rx.button(rx.icon("refresh-cw", size=14), "Refresh", size="1", variant="soft", on_click=S.refresh),
                    width="100%", align="center",
                ),
                rx.grid(
                    stat_card("Live workers", S.workers.length().to_string(), "server"),
                    stat_card("Queued jobs", S.queue["queued"].to_string(), "list-ordered", hint=S.queue["name"].to(str)),
                    stat_card("Running jobs", S.queue["started"].to_string(), "loader"),
                    stat_card("Failed jobs", S.queue["failed"].to_string(), "triangle-alert"),
                    columns="4", spacing="4", width="100%",
                ),
                _health(),
                _workers(),
                rx.grid(_beats(), _next_runs(), columns="2", spacing="4", width="100%"),
                _failed(),
                _locks(),
                _confirm(),
                width="100%", spacing="4",
            ),
        ),
    )
