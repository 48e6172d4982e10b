"""Run activity: RunEvent rows (the activity log), the per-run JSONL trace file, and live progress
events published to Redis after each commit (``publish``, an after-commit effect)."""

from __future__ import annotations

import json
import time
import logging
from typing import Any

from redis.exceptions import RedisError
from sqlmodel import Session

from igny8_app.db import on_commit
from igny8_app.domain.enums import EventLevel, RunStatus
from igny8_app.models import AutomationRun, RunEvent, utcnow
from igny8_app.queue import get_redis
from igny8_app.services.notifications.inbox import run_changed
from igny8_app.settings import get_settings

log = logging.getLogger(__name__)
PROGRESS_CHANNEL = "igny8:progress"  # one channel; events carry site_id and run_id
PROGRESS_EVERY_N = 10
NOTIFIED = (RunStatus.COMPLETED.value, RunStatus.PAUSED.value, RunStatus.FAILED.value)  # run_changed acts on these


def record(session: Session, run: AutomationRun, message: str, *, stage: int | None = None,
           level: EventLevel | str = EventLevel.INFO, kind: str = "info", actor: str | None = None,
           **data: Any) -> None:
    """Add a RunEvent row in the caller's transaction, and append the same event to the trace file.
    ``actor``: who did it (an email, 'scheduler', 'watchdog', 'command line'); None for the run's own steps."""
    session.add(RunEvent(run_pk=run.id, stage=stage, level=EventLevel(level).value, message=message, actor=actor))
    trace(run, kind, message=message, stage=stage, level=EventLevel(level).value, actor=actor, **data)


def trace(run: AutomationRun, kind: str, **data: Any) -> None:
    """Append one JSON line to data/runs/<run_id>/trace.jsonl (best effort: never fails a run)."""
    try:
        folder = get_settings().runs_dir / run.run_id
        folder.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"ts": utcnow().isoformat(), "event": kind, "run_id": run.run_id, **data}, default=str)
        with open(folder / "trace.jsonl", "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
    except OSError:
        log.warning("could not write the trace of run %s", run.run_id, exc_info=True)


def publish(session: Session, run: AutomationRun, state: dict[str, Any] | None = None, **extra: Any) -> None:
    """Tell live UIs that a run changed. Call it inside the run's transaction: a final state
    (completed, paused, failed) writes its notification rows in it, so they commit, or roll back,
    with the run; the Redis event goes out after the commit. Lost events are harmless: a client
    reloads the durable state from the database when it (re)connects."""
    payload = {"site_id": run.site_id, "run_id": run.run_id, "status": run.status, **extra}
    if state is not None:
        payload["state"] = state
    if run.status in NOTIFIED:  # notification centre (+ email, after the commit)
        run_changed(session=session, run=run)
    on_commit(session, lambda: _send(payload))


def _send(payload: dict[str, Any]) -> None:
    payload["published_at"] = time.time()  # right after the commit: latency benchmarks use it
    try:
        get_redis().publish(PROGRESS_CHANNEL, json.dumps(payload, default=str))
    except RedisError:
        log.warning("progress event for %s not published (Redis unavailable)", payload["run_id"])
