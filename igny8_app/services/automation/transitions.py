"""The one place a run changes status: pause, resume, cancel, complete, fail, and the stops for
review, credits, provider and the credit cap. ``domain.run_state.check_transition`` decides
whether the change is legal; ``transition`` applies it to the run's row, in the caller's
transaction, with its activity-log entry (naming who did it).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from igny8_app.domain.enums import EventLevel, PauseReason, RunStatus
from igny8_app.domain.run_state import check_transition
from igny8_app.models import AutomationRun, SiteLock, utcnow
from igny8_app.services.automation import events as run_events

KINDS = {RunStatus.PAUSED: "pause", RunStatus.RUNNING: "resume", RunStatus.CANCELLED: "cancel",
         RunStatus.COMPLETED: "run_complete", RunStatus.FAILED: "run_failed"}


def transition(s: Session, run: AutomationRun, to: RunStatus, message: str, *,
               reason: PauseReason | None = None, actor: str | None = None, now: datetime | None = None,
               stage: int | None = None, level: EventLevel = EventLevel.INFO, kind: str | None = None,
               **data: object) -> None:
    """Move ``run`` to ``to`` (a pause with its ``reason``) and record ``message`` as done by
    ``actor`` (an email, 'scheduler', 'watchdog', 'command line'; None: the run itself).

    Any pending request is settled by it; a run that stops loses its worker's lease owner; a
    finished run releases its site. Raises IllegalTransition (nothing changed)."""
    to, reason = check_transition(run.status, to, reason)
    now = now or utcnow()
    if run.paused_at is not None and to is not RunStatus.PAUSED:  # leaving a pause: count its time
        run.paused_seconds += max(0, int((now - run.paused_at).total_seconds()))
        run.paused_at = None
    if to is RunStatus.PAUSED:
        run.paused_at, run.pause_reason = now, reason.value
    elif to is RunStatus.RUNNING:
        run.resumed_at, run.pause_reason, run.heartbeat_at = now, None, now
    else:
        run.completed_at = now
        if to is RunStatus.CANCELLED:
            run.cancelled_at = now
        release_lock(s, run)
    run.status, run.requested_action, run.requested_by = to.value, None, None
    if to is not RunStatus.RUNNING:
        run.lease_owner = None
    run_events.record(s, run, message, stage=stage, level=level, kind=kind or KINDS[to], actor=actor, **data)
    s.add(run)


def release_lock(s: Session, run: AutomationRun) -> None:
    s.execute(sa.delete(SiteLock).where(SiteLock.site_id == run.site_id, SiteLock.run_pk == run.id))
