"""The command line's Typer apps and its shared options and output helpers."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from igny8_app.domain.errors import DomainError
from igny8_app.domain.run_state import COMMAND_LINE

app = typer.Typer(no_args_is_help=True, add_completion=False, help="IGNY8 Automation command line.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
billing_app = typer.Typer(no_args_is_help=True, help="Credit ledger.")
run_app = typer.Typer(no_args_is_help=True, help="Automation runs: start, pause, resume, cancel, status.")
app.add_typer(db_app, name="db")
app.add_typer(billing_app, name="billing")
app.add_typer(run_app, name="run")
config_app = typer.Typer(no_args_is_help=True, help="Per-site automation configuration and schedule.")
app.add_typer(config_app, name="config")
scheduler_app = typer.Typer(no_args_is_help=True, help="Scheduled runs (every worker also runs the scheduler).")
app.add_typer(scheduler_app, name="scheduler")

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]
AsOpt = Annotated[str, typer.Option("--as", help="Whose action this is, for the run's activity log (an email).",
                                     callback=lambda v: v.strip().lower() or COMMAND_LINE)]


def out(data: dict, as_json: bool, text: str) -> None:
    typer.echo(json.dumps(data, default=str) if as_json else text)


def fail(exc: DomainError, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({"error": exc.code, "detail": exc.message}), err=True)
    else:
        typer.secho(f"Error: {exc.message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(1)


ai_app = typer.Typer(no_args_is_help=True, help="AI provider: check the connection.")
app.add_typer(ai_app, name="ai")
