"""Automation runs and their per-site configuration."""

from __future__ import annotations

from typing import Annotated

import typer

from igny8_app.domain.enums import Trigger
from igny8_app.domain.errors import DomainError
from igny8_app.domain.run_state import COMMAND_LINE
from igny8_app.cli.common import AsOpt, JsonOpt, fail, out, config_app, run_app


RunIdArg = Annotated[str, typer.Argument(help="Run id, e.g. run_20250101_120000_manual_ab12cd.")]


def _state_text(state: dict) -> str:
    extra = f", {state['requested_action']} requested" if state.get("requested_action") else ""
    extra += f", reason {state['pause_reason']}" if state.get("pause_reason") else ""
    return (f"{state['run_id']}: {state['status']}{extra} — stage {state['current_stage']} ({state['stage_name']}) "
            f"{state['processed_items']}/{state['total_items']} ({state['percentage']}%), "
            f"{state['credits_used']} credits, {state['duration_seconds']} s")


@run_app.command("start")
def run_start(site: Annotated[int, typer.Option(help="Site id.")], as_json: JsonOpt = False,
              by: AsOpt = COMMAND_LINE) -> None:
    """Start a manual run for a site (queued for the workers)."""
    from igny8_app.services.automation import control as automation

    try:
        run = automation.start_run(site_id=site, trigger=Trigger.MANUAL, actor=by)
    except DomainError as exc:
        fail(exc, as_json)
    out({"run_id": run.run_id}, as_json, f"Started {run.run_id} for site {site}.")


def _run_action(action: str, run_id: str, as_json: bool, by: str = COMMAND_LINE) -> None:
    from igny8_app.services.automation import control as automation

    service = {"pause": automation.pause_run, "resume": automation.resume_run, "cancel": automation.cancel_run,
               "status": automation.get_processing_state}[action]
    try:
        state = service(run_id=run_id, **({} if action == "status" else {"actor": by}))
    except DomainError as exc:
        fail(exc, as_json)
    out(state, as_json, _state_text(state))


@run_app.command("pause")
def run_pause(run_id: RunIdArg, as_json: JsonOpt = False, by: AsOpt = COMMAND_LINE) -> None:
    """Pause a run after its current item (at once when no worker holds it)."""
    _run_action("pause", run_id, as_json, by)


@run_app.command("resume")
def run_resume(run_id: RunIdArg, as_json: JsonOpt = False, by: AsOpt = COMMAND_LINE) -> None:
    """Resume a paused run with its next unprocessed item."""
    _run_action("resume", run_id, as_json, by)


@run_app.command("cancel")
def run_cancel(run_id: RunIdArg, as_json: JsonOpt = False, by: AsOpt = COMMAND_LINE) -> None:
    """Cancel a run after its current item; final."""
    _run_action("cancel", run_id, as_json, by)


@run_app.command("status")
def run_status(run_id: RunIdArg, as_json: JsonOpt = False) -> None:
    """The processing state of a run, whatever its status."""
    _run_action("status", run_id, as_json)


@run_app.command("estimate")
def run_estimate(site: Annotated[int, typer.Option(help="Site id.")], as_json: JsonOpt = False) -> None:
    """The credits a run started now would use, per stage and in total."""
    from igny8_app.db import read_session
    from igny8_app.services.automation import control, estimate

    try:
        with read_session() as s:
            data = estimate.summary(control.estimate(session=s, site_id=site))
    except DomainError as exc:
        fail(exc, as_json)
    out(data, as_json, estimate.summary_text(data))


@run_app.command("retry-failed")
def run_retry_failed(site: Annotated[int, typer.Option(help="Site id.")], as_json: JsonOpt = False) -> None:
    """Put a site's failed items back in their queues."""
    from igny8_app.db import write_session
    from igny8_app.services.automation import control as automation

    try:
        with write_session() as s:
            counts = automation.retry_failed_items(site_id=site, session=s)
    except DomainError as exc:
        fail(exc, as_json)
    total = sum(counts.values())
    out({"site_id": site, "retried": counts, "total": total}, as_json,
         f"Requeued {total} failed item(s): " + ", ".join(f"{k} {v}" for k, v in counts.items()) + ".")


# --- automation configuration ----------------------------------------------------------------

def _config_text(cfg: dict) -> str:
    lines = [f"Site {cfg['site_id']} automation configuration ({cfg['timezone']}):"]
    lines += [f"  {k:<22} {'' if v is None else v}" for k, v in cfg.items()
              if k not in ("site_id", "timezone", "next_run_at", "last_run_at", "updated_at")]
    return "\n".join(lines)


@config_app.command("show")
def config_show(site: Annotated[int, typer.Option(help="Site id.")], as_json: JsonOpt = False) -> None:
    """Show a site's configuration, its schedule and the next scheduled run."""
    from igny8_app.services.automation import config as automation_config

    try:
        cfg = automation_config.get_config(site_id=site)
    except DomainError as exc:
        fail(exc, as_json)
    out(cfg, as_json, _config_text(cfg))


@config_app.command("set")
def config_set(
    site: Annotated[int, typer.Option(help="Site id.")],
    settings: Annotated[list[str], typer.Argument(help="key=value pairs, e.g. enabled=true frequency=weekly "
                                                       "weekday=0 scheduled_time=03:30 max_credits_per_run= "
                                                       "review_after_stages=1,2 (empty value = no cap).")],
    as_json: JsonOpt = False,
) -> None:
    """Change settings; all are validated first and nothing is saved when one is invalid."""
    from igny8_app.db import write_session
    from igny8_app.services.automation import config as automation_config

    changes = {}
    for pair in settings:
        key, sep, value = pair.partition("=")
        if not sep:
            fail(DomainError(f"'{pair}' is not key=value."), as_json)
        changes[key.strip()] = value
    try:
        with write_session() as s:
            cfg = automation_config.update_config(site_id=site, changes=changes, session=s)
    except DomainError as exc:
        fail(exc, as_json)
    out(cfg, as_json, _config_text(cfg) + f"\nSaved. Next scheduled run: {cfg['next_run_local'] or 'none (disabled)'}.")
