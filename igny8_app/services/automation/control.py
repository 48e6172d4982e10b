"""Automation runs: start, pause, resume, cancel, retry, and the read models (processing state,
history, logs, estimate). The run loop itself lives in ``run_loop``.

Entry points (Reflex states, API routes, CLI) authorise the caller, then call these functions,
which own their transactions. Queueing the RQ job happens only after the commit.
"""

from __future__ import annotations

import logging
import math
import secrets
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from igny8_app.db import on_commit, read_session, within, write_session
from igny8_app.domain.enums import PauseReason, RunStatus, Trigger
from igny8_app.domain.errors import Conflict, InsufficientCredits, NotFound, ValidationError
from igny8_app.domain.run_state import OPERATOR, Action, decide, percentage
from igny8_app.models import Account, AutomationConfig, AutomationRun, RunEvent, Site, SiteLock, StageProgress, utcnow
from igny8_app.pipeline import stages as registry
from igny8_app.pipeline.stages.base import FAILED
from igny8_app.services.automation import events as run_events
from igny8_app.services.automation.estimate import estimate_for_site, remaining
from igny8_app.services.automation.overview import pipeline_overview
from igny8_app.services.automation.transitions import release_lock, transition  # noqa: F401 (release_lock: re-exported)
from igny8_app.settings import get_settings

log = logging.getLogger(__name__)
CREDIT_SAFETY_FACTOR = 1.2
HISTORY_LIMIT = 20
RUN_FIELDS = ("max_credits_per_run", "in_article_images", "review_after_stages")


def config_fields() -> tuple[str, ...]:
    """What a run snapshots of its site's configuration: the stages' batch sizes (registry order),
    the delays, the stages' per-run caps, then the run-wide settings."""
    return (*(st.batch_key for st in registry.STAGES if st.batch_key), "within_stage_delay",
            "between_stage_delay", *(st.cap_key for st in registry.STAGES if st.cap_key), *RUN_FIELDS)


def new_run_id(trigger: Trigger | str, now: datetime | None = None) -> str:
    now = now or utcnow()
    return f"run_{now:%Y%m%d_%H%M%S}_{Trigger(trigger).value}_{secrets.token_hex(3)}"


def queue_snapshot(*, session: Session, site_id: int) -> dict[str, int]:
    return {f"stage_{r['stage']}_pending": r["pending"] for r in pipeline_overview(session=session, site_id=site_id)}


def config_snapshot(cfg: AutomationConfig | None) -> dict[str, Any]:
    cfg = cfg or AutomationConfig(site_id=0)
    return {f: getattr(cfg, f) for f in config_fields()}


def _get_config(session: Session, site_id: int) -> AutomationConfig:
    cfg = session.exec(select(AutomationConfig).where(AutomationConfig.site_id == site_id)).one_or_none()
    if cfg is None:
        cfg = AutomationConfig(site_id=site_id)
        session.add(cfg)
        session.flush()
    return cfg


def required_to_start(estimate_total: int) -> int:
    """Credits a run needs on the balance to start: 1.2 × the estimate, rounded up."""
    return math.ceil(estimate_total * CREDIT_SAFETY_FACTOR)


def estimate(*, session: Session, site_id: int, active: AutomationRun | None = None) -> dict[str, Any]:
    """The site's run estimate (per stage and total), what starting requires, and the balance.
    With the site's ``active`` run: that run's own estimate, made when it started (no dry run)."""
    site = session.get(Site, site_id)
    if site is None:
        raise NotFound("Site not found.")
    cfg = session.exec(select(AutomationConfig).where(AutomationConfig.site_id == site_id)).one_or_none()
    est = ((active.stage_results or {}).get("estimate") if active is not None else None) or \
        estimate_for_site(session=session, site_id=site_id, config=config_snapshot(cfg))
    return {**est, "required_to_start": required_to_start(est["total"]),
            "balance": session.get(Account, site.account_id).credits}


def get_run(*, session: Session, run_id: str, site_id: int | None = None, for_update: bool = False) -> AutomationRun:
    stmt = select(AutomationRun).where(AutomationRun.run_id == run_id)
    if site_id is not None:
        stmt = stmt.where(AutomationRun.site_id == site_id)
    if for_update:
        stmt = stmt.with_for_update()
    run = session.exec(stmt).one_or_none()
    if run is None:
        raise NotFound(f"Run {run_id} not found.")
    return run


def worker_active(run: AutomationRun, now: datetime | None = None) -> bool:
    """A worker holds the run's lease and its heartbeat is fresh."""
    if not run.lease_owner or run.heartbeat_at is None:
        return False
    timeout = timedelta(seconds=get_settings().heartbeat_timeout_s)
    return (now or utcnow()) - run.heartbeat_at < timeout


# --- commands -----------------------------------------------------------------------------------

def start_run(*, site_id: int, trigger: Trigger | str = Trigger.MANUAL, user_id: int | None = None,
              scheduled_for: datetime | None = None, enqueue: bool = True, actor: str | None = None,
              session: Session | None = None) -> AutomationRun:
    """Create a run and queue its job (after the commit). Refuses when the site already has an
    active run, or when the balance is below 1.2 × the estimate. ``actor``: who starts it, for the
    activity log."""
    with within(session) as s:
        site = s.get(Site, site_id)
        if site is None:
            raise NotFound("Site not found.")
        if not site.is_active:
            raise Conflict(f"Site '{site.name}' is deactivated; it runs nothing.")
        lock = s.get(SiteLock, site_id)
        if lock is not None:
            active = s.get(AutomationRun, lock.run_pk)
            raise Conflict(f"Site '{site.name}' already has an active run ({active.run_id}, {active.status}).")
        cfg = _get_config(s, site_id)
        snapshot = config_snapshot(cfg)
        estimate = estimate_for_site(session=s, site_id=site_id, config=snapshot)
        account = s.get(Account, site.account_id)
        needed = required_to_start(estimate["total"])
        if account.credits < needed:
            raise InsufficientCredits(
                needed=needed, balance=account.credits,
                message=f"Not enough credits to start: the run needs about {estimate['total']} credits and "
                        f"starting requires {needed} (1.2 × the estimate), but the balance is {account.credits}.",
            )
        now = utcnow()
        run = AutomationRun(
            run_id=new_run_id(trigger, now), site_id=site_id, account_id=site.account_id,
            trigger=Trigger(trigger).value, scheduled_for=scheduled_for, status=RunStatus.RUNNING.value,
            current_stage=1, started_at=now, heartbeat_at=now, created_by=user_id,
            initial_snapshot=queue_snapshot(session=s, site_id=site_id), config_snapshot=snapshot,
            stage_results={"estimate": estimate},
        )
        # Both flushes can lose a race: the run's insert to another scheduler's row for the same
        # due time (unique site_id, scheduled_for), the lock's insert to another active run. After
        # a failed flush the session's objects are expired, so the message uses a copied name.
        site_name = site.name
        try:
            s.add(run)
            s.flush()
            s.add(SiteLock(site_id=site_id, run_pk=run.id))
            cfg.last_run_at = now
            s.add(cfg)
            by = f" by {actor}" if actor else ""
            run_events.record(s, run, f"Run started ({run.trigger}){by}; estimated {estimate['total']} credits.",
                              kind="run_start", actor=actor)
            s.flush()
        except sa.exc.IntegrityError:
            raise Conflict(f"Site '{site_name}' already has an active run or a run for this due time.") from None
        if enqueue:
            on_commit(s, lambda: enqueue_run(run))
    return run


def enqueue_run(run: AutomationRun) -> None:
    """Queue a job for the run. A duplicate job is harmless (the lease lets one work)."""
    from redis.exceptions import RedisError

    from igny8_app.queue import enqueue_run as queue_run

    try:
        queue_run(run.id)
    except RedisError:
        log.exception("could not queue run %s; the watchdog will queue it", run.run_id)


def _apply(run_id: str, action: Action, *, site_id: int | None, actor: str | None,
           session: Session | None = None) -> dict[str, Any]:
    enqueue = False
    who = actor or OPERATOR
    with within(session) as s:
        run = get_run(session=s, run_id=run_id, site_id=site_id, for_update=True)
        now = utcnow()
        d = decide(run.status, run.requested_action, action, worker_active=worker_active(run, now))
        if not d.immediate:  # the worker applies it after its item, naming who asked
            run.requested_action, run.requested_by = d.requested_action.value, actor
            verb = "Pausing" if action is Action.PAUSE else "Cancelling"
            run_events.record(s, run, f"{verb} (asked by {who}) — finishing the current item…",
                              kind=f"{action.value}_requested", actor=actor)
        elif d.status is RunStatus.PAUSED:
            transition(s, run, RunStatus.PAUSED, f"Paused by {who} (no item was in progress).",
                       reason=PauseReason.OPERATOR, actor=actor, now=now)
        elif d.status is RunStatus.CANCELLED:
            transition(s, run, RunStatus.CANCELLED, f"Cancelled by {who}.", actor=actor, now=now)
        elif d.enqueue:
            transition(s, run, RunStatus.RUNNING, f"Resumed by {who}; continuing with the next item.", actor=actor,
                       now=now)
            enqueue = True
        else:  # a pause that has not landed yet is taken back
            run.requested_action = run.requested_by = None
            run_events.record(s, run, f"Pause request withdrawn by {who}.", kind="resume", actor=actor)
        if d.immediate and (d.status is not RunStatus.RUNNING or d.enqueue):  # a withdrawn pause keeps its worker
            run.lease_fence += 1  # invalidate any stale holder
            run.lease_owner = None if d.status is not RunStatus.RUNNING else run.lease_owner
        s.add(run)
        s.flush()
        state = processing_state(session=s, run=run)
        if enqueue:
            on_commit(s, lambda: enqueue_run(run))
        run_events.publish(s, run, state)
    return state


def pause_run(*, run_id: str, site_id: int | None = None, actor: str | None = None,
              session: Session | None = None) -> dict[str, Any]:
    """Pause (``actor``: who asks, shown in the activity log; None: 'operator')."""
    return _apply(run_id, Action.PAUSE, site_id=site_id, actor=actor, session=session)


def resume_run(*, run_id: str, site_id: int | None = None, actor: str | None = None,
               session: Session | None = None) -> dict[str, Any]:
    return _apply(run_id, Action.RESUME, site_id=site_id, actor=actor, session=session)


def cancel_run(*, run_id: str, site_id: int | None = None, actor: str | None = None,
               session: Session | None = None) -> dict[str, Any]:
    return _apply(run_id, Action.CANCEL, site_id=site_id, actor=actor, session=session)


def retry_failed_items(*, site_id: int, session: Session | None = None) -> dict[str, int]:
    """Put every failed item of the site back in its queue (attempts reset)."""
    now = utcnow()
    counts = {}
    with within(session) as s:
        for q in (st.queue for st in registry.STAGES):
            res = s.execute(sa.update(q.model).where(q.model.site_id == site_id, q.status == FAILED)
                            .values({q.column: q.pending, "attempts": 0, "last_error": None, "updated_at": now}))
            counts[q.name] = res.rowcount or 0
    return counts


# --- queries ------------------------------------------------------------------------------------

def current_run(*, session: Session, site_id: int) -> AutomationRun | None:
    lock = session.get(SiteLock, site_id)
    return session.get(AutomationRun, lock.run_pk) if lock else None


def last_run(*, session: Session, site_id: int) -> AutomationRun | None:
    return session.exec(select(AutomationRun).where(AutomationRun.site_id == site_id)
                        .order_by(AutomationRun.id.desc()).limit(1)).first()


def duration_seconds(run: AutomationRun, now: datetime | None = None) -> int:
    """Wall time since start, excluding paused time."""
    end = run.completed_at or now or utcnow()
    paused = run.paused_seconds
    if run.paused_at is not None and run.completed_at is None:
        paused += max(0, int(((now or utcnow()) - run.paused_at).total_seconds()))
    return max(0, int((end - run.started_at).total_seconds()) - paused)


def _titles(s: Session, site_id: int, stage: int, limit: int) -> list[str]:
    q = registry.stage(stage).queue
    rows = s.execute(sa.select(getattr(q.model, q.title_column))
                     .where(q.model.site_id == site_id, q.status == q.pending)
                     .order_by(q.model.id).limit(limit)).scalars().all()
    return [str(r)[:120] for r in rows]


def processing_state(*, session: Session, run: AutomationRun) -> dict[str, Any]:
    """The exact progress of a run: counts are *completed* items, never remaining ones."""
    stages = {p.stage: p for p in session.exec(select(StageProgress).where(StageProgress.run_pk == run.id)).all()}
    stage = registry.clamp(run.current_stage)
    prog = stages.get(stage)
    total = prog.total_items if prog else 0
    processed = prog.processed_items if prog else 0
    failed = prog.failed_items if prog else 0
    finished = bool(prog and prog.finished_at)
    titles = _titles(session, run.site_id, stage, 4) if run.status == RunStatus.RUNNING.value else []
    return {
        "run_id": run.run_id,
        "site_id": run.site_id,
        "status": run.status,
        "requested_action": run.requested_action,
        "pause_reason": run.pause_reason,
        "current_stage": stage,
        "stage_name": registry.stage(stage).title,
        "stage_count": len(registry.STAGES),  # the card's "Stage n/N"
        "total_items": total,
        "processed_items": processed,
        "failed_items": failed,
        "remaining_count": max(0, total - processed - failed),
        "percentage": percentage(processed + failed, total, finished=finished),
        "current_item": titles[0] if titles else None,
        "up_next": titles[1:4],
        "credits_used": run.total_credits_used,
        "estimate_total": ((run.stage_results or {}).get("estimate") or {}).get("total"),
        "estimate_remaining": remaining(run, stages),  # credits still to go, from the run's own figures
        "started_at": run.started_at.isoformat(),
        "completed_at": run.completed_at.isoformat() if run.completed_at else None,
        "duration_seconds": duration_seconds(run),
        "as_of": utcnow().timestamp(),  # when duration_seconds was measured (live counters tick from here)
        "error": run.error,
        "result": (run.stage_results or {}).get("result"),  # 'cap_reached' when the credit cap ended it
        "skip_reason": run.skip_reason,
        "stages": [
            {"stage": n, "name": registry.stage(n).title,
             "total_items": stages[n].total_items if n in stages else 0,
             "processed_items": stages[n].processed_items if n in stages else 0,
             "failed_items": stages[n].failed_items if n in stages else 0,
             "credits_used": stages[n].credits_used if n in stages else 0,
             "finished": bool(n in stages and stages[n].finished_at),
             "result": run.stage_results.get(str(n), {})}
            for n in registry.numbers()
        ],
    }


def get_processing_state(*, run_id: str, site_id: int | None = None) -> dict[str, Any]:
    with read_session() as s:
        return processing_state(session=s, run=get_run(session=s, run_id=run_id, site_id=site_id))


def run_summary(run: AutomationRun) -> dict[str, Any]:
    return {"run_id": run.run_id, "status": run.status, "trigger": run.trigger,
            "current_stage": run.current_stage, "pause_reason": run.pause_reason,
            "started_at": run.started_at.isoformat(),
            "completed_at": run.completed_at.isoformat() if run.completed_at else None,
            "duration_seconds": duration_seconds(run), "total_credits_used": run.total_credits_used,
            "error": run.error, "skip_reason": run.skip_reason,
            "result": (run.stage_results or {}).get("result"),
            "scheduled_for": run.scheduled_for.isoformat() if run.scheduled_for else None}


def history(*, session: Session, site_id: int, limit: int = HISTORY_LIMIT) -> list[dict[str, Any]]:
    runs = session.exec(select(AutomationRun).where(AutomationRun.site_id == site_id)
                        .order_by(AutomationRun.id.desc()).limit(limit)).all()
    return [run_summary(r) for r in runs]


def logs(*, session: Session, run: AutomationRun, lines: int = 100) -> list[dict[str, Any]]:
    if not 1 <= lines <= 5000:
        raise ValidationError("lines must be between 1 and 5000.")
    rows = session.exec(select(RunEvent).where(RunEvent.run_pk == run.id)
                        .order_by(RunEvent.id.desc()).limit(lines)).all()
    return [{"id": e.id, "stage": e.stage, "level": e.level, "message": e.message, "actor": e.actor,
             "created_at": e.created_at.isoformat()} for e in reversed(rows)]


def site_dashboard(*, session: Session, site_id: int) -> dict[str, Any]:
    """Everything the Automation page shows for a site, as plain data: the stage queues, the
    current (or last) run's processing state, history, the run's activity tail and the estimate.
    The caller has authorised the site; the result is the same for every user who may read it,
    so one computation can serve every open page of the site."""
    active = current_run(session=session, site_id=site_id)
    run = active or last_run(session=session, site_id=site_id)
    est = estimate(session=session, site_id=site_id, active=active)
    return {"stages": pipeline_overview(session=session, site_id=site_id),
            "run": processing_state(session=session, run=run) if run else {},
            "history": history(session=session, site_id=site_id),
            "activity": logs(session=session, run=run, lines=30) if run else [],
            "estimate_total": est["total"], "estimate_needed": est["required_to_start"],
            "balance": est["balance"]}


def read_site_dashboard(site_id: int) -> dict[str, Any]:
    with read_session() as s:
        return site_dashboard(session=s, site_id=site_id)
