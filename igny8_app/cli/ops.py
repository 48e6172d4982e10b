"""Operations: the scheduler, retention and the AI provider check."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from igny8_app.domain.errors import DomainError
from igny8_app.cli.common import JsonOpt, fail, out, ai_app, app, scheduler_app


@scheduler_app.command("tick")
def scheduler_tick(
    now: Annotated[Optional[str], typer.Option(help="Pretend the time is this ISO instant (tests, replays).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Start (or record as skipped) every scheduled run that is due, once."""
    from datetime import datetime

    from igny8_app.services.automation import scheduler

    at = None
    if now:
        try:
            at = datetime.fromisoformat(now)
        except ValueError:
            fail(DomainError(f"'{now}' is not an ISO date-time."), as_json)
        if at.tzinfo is None:
            fail(DomainError("--now needs a timezone offset, e.g. 2026-03-29T01:30:00+00:00."), as_json)
    result = scheduler.run_due(now=at).as_dict()
    out(result, as_json, f"Started {len(result['started'])}, skipped {len(result['skipped'])}, "
                          f"already recorded {result['existing']}.")


@app.command("retention")
def retention_cmd(
    action: Annotated[str, typer.Argument(help="'prune'.")],
    days: Annotated[Optional[int], typer.Option(help="Keep this many days (default IGNY8_RETENTION_DAYS, 90).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Prune run logs and traces and orphaned media older than the retention period."""
    from igny8_app.services.system import retention

    if action != "prune":
        fail(DomainError("The only retention action is 'prune'."), as_json)
    if days is not None and days < 1:
        fail(DomainError("--days must be at least 1."), as_json)
    r = retention.prune(days=days)
    out({**r.summary(), "trace_dir_names": r.trace_dirs, "media_file_names": r.media_files}, as_json,
         f"Pruned {r.run_events} run log event(s), {len(r.trace_dirs)} trace folder(s), "
         f"{len(r.media_files)} orphaned media file(s) older than {r.cutoff:%Y-%m-%d %H:%M} UTC "
         f"({r.bytes_freed:,} bytes freed).")


@scheduler_app.command("run")
def scheduler_run() -> None:
    """Run only the periodic tasks (scheduler, watchdog, retention) in the foreground."""
    import logging
    import signal

    from igny8_app.services.automation.scheduler import PeriodicRunner
    from igny8_app.services.system.periodic import periodic_tasks

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    runner = PeriodicRunner(tasks=periodic_tasks())
    signal.signal(signal.SIGTERM, lambda *_: runner.stopped.set())
    runner.start()
    try:
        while runner.is_alive():
            runner.join(1)
    except KeyboardInterrupt:
        runner.stopped.set()


@ai_app.command("check")
def ai_check(
    account: Annotated[Optional[int], typer.Option(help="Use this account's AI settings (default: the environment's).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """One tiny request to the configured provider; exit status 1 if it fails."""
    from igny8_app.services.automation import ai_settings

    result = ai_settings.check_connection(account_id=account)
    out(result, as_json, ("OK: " if result["ok"] else "FAILED: ") + result["message"])
    if not result["ok"]:
        raise typer.Exit(1)
