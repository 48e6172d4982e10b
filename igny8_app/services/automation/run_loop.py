"""The run loop: works one run, item by item, exactly once.

For each stage, for each next eligible item:
1. read ``requested_action`` (pause/cancel): stop cleanly if set;
2. call the stage function (the AI call) outside any transaction, with retries;
3. in ONE transaction: check the lease fence, write the output and statuses, charge the credits
   with the idempotency key ``run:stage:item``, bump the StageProgress counters and heartbeat;
4. after the commit, publish a progress event (``run_events.publish``, an on_commit effect);
5. a heartbeat thread keeps the lease fresh during long AI calls.

A worker killed anywhere leaves either the whole item committed or nothing. A job works a run
for at most ``SLICE_SECONDS``, then hands it to a fresh job (fairness across sites, bounded job
timeouts); crash detection comes from heartbeats, never from the RQ job timeout. A database that
is briefly unreachable or locked (``db.is_transient_db_error``) is waited for, not taken as the
run's failure: the item in flight was rolled back and is simply next again.

An entry point (called by the RQ job): it opens one unit of work per item (and one per bookkeeping
step), and sends the live events, job continuations and mail as after-commit effects.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from sqlmodel import Session, select

from igny8_app.ai.base import AIProvider, ProviderError, interruptible_sleeper
from igny8_app.ai.resilience import ProviderUnavailable
from igny8_app.db import is_transient_db_error, write_session
from igny8_app.domain.enums import EventLevel, PauseReason, RunStatus
from igny8_app.domain.errors import InsufficientCredits
from igny8_app.domain.run_state import OPERATOR, worker_stop
from igny8_app.models import AutomationRun, StageProgress, utcnow
from igny8_app.pipeline import stages as registry
from igny8_app.pipeline.stages.base import RunConfig
from igny8_app.queue import enqueue_run
from igny8_app.services.billing import ledger as billing
from igny8_app.services.automation import events as run_events
from igny8_app.services.automation import stage_items as stage_io
from igny8_app.services.automation.control import processing_state
from igny8_app.services.automation.transitions import transition
from igny8_app.services.automation import ai_settings
from igny8_app.services.automation.lease import (Heartbeat, Lease, LeaseLost, acquire, default_owner, release,
                                                 stop_checker as _stop_checker, wait as _wait)
from igny8_app.services.automation.lease import fenced_run as _fenced_run
from igny8_app.services.automation.stage_progress import finish_stage as _finish_stage
from igny8_app.services.automation.stage_progress import stage_progress as _stage_progress
from igny8_app.settings import get_ai_settings

__all__ = ["Lease", "LeaseLost", "acquire", "execute_run", "release"]

log = logging.getLogger(__name__)
SLICE_SECONDS = 120
MAX_ATTEMPTS = 3
RETRY_BACKOFF_S = (0.5, 2.0, 5.0)
STOP_POLL_S = 0.05
CIRCUIT_WAIT_S = (2.0, 10.0, 30.0)  # between items the provider could not serve, before the pause
DB_RETRY_S = (0.25, 0.5, 1.0, 2.0, 5.0)  # waits while the database is unreachable or locked
DB_OUTAGE_MAX_S = 120.0  # then the job ends; the run stays running and the watchdog re-queues it


@dataclass
class _Slice:
    """One job's work on a run, kept when the loop starts again after a database outage."""

    started: float
    provider: AIProvider | None = None
    worked: int = 0
    answered_at: float = 0.0  # when the database last answered the loop (monotonic)


# --- the loop ------------------------------------------------------------------------------------

def execute_run(run_pk: int, *, owner: str | None = None, provider: AIProvider | None = None,
                slice_seconds: float = SLICE_SECONDS, max_items: int | None = None) -> str:
    """Work the run until it pauses, is cancelled, completes, fails or its slice ends.

    ``max_items`` bounds the slice in items too (tests and tools step a run item by item): once
    that many items are done the lease is released and 'released' returned, with no job queued.

    Returns what happened: 'not_acquired', 'paused', 'cancelled', 'completed', 'failed',
    'continued' (slice over; a new job was queued), 'released', 'lease_lost' or 'db_unavailable'
    (no database for ``DB_OUTAGE_MAX_S``; the run is left running for the watchdog)."""
    lease = acquire(run_pk, owner or default_owner())
    if lease is None:
        return "not_acquired"
    beat = Heartbeat(lease)
    beat.start()
    try:
        return _loop_through_outages(lease, beat, _Slice(time.monotonic(), provider), slice_seconds, max_items)
    except LeaseLost:
        return "lease_lost"
    except Exception as exc:  # noqa: BLE001 - an unexpected error fails the run, recorded
        log.exception("run %s failed", run_pk)
        _fail(lease, exc)
        return "failed"
    finally:
        beat.stopped.set()
        beat.join(5)


def _loop_through_outages(lease: Lease, beat: Heartbeat, job: _Slice, slice_seconds: float,
                          max_items: int | None) -> str:
    """``_loop``, started again after a transient database error instead of failing the run (the
    error rolled the item back; nothing of it is lost or doubled). The waits back off along
    ``DB_RETRY_S``; after ``DB_OUTAGE_MAX_S`` without an answer the job gives up with the run still
    running, and the watchdog queues it again once the database is back."""
    failures, outage_since, last_failure = 0, 0.0, 0.0
    while True:
        try:
            return _loop(lease, beat, job, slice_seconds, max_items)
        except Exception as exc:
            if not is_transient_db_error(exc):
                raise
            now = time.monotonic()
            if not failures or job.answered_at > last_failure:  # a new outage
                failures, outage_since = 0, now
            failures, last_failure = failures + 1, now
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]
            if now - outage_since > DB_OUTAGE_MAX_S:
                log.error("run %s: no database for %.0f s (%s); leaving the run to the watchdog", lease.run_pk,
                          now - outage_since, reason)
                return "db_unavailable"
            delay = DB_RETRY_S[min(failures, len(DB_RETRY_S)) - 1]
            log.warning("run %s: database unavailable (%s); retrying in %.2f s", lease.run_pk, reason, delay)
            if beat.lost.wait(delay):
                raise LeaseLost(str(lease.run_pk)) from None


def _loop(lease: Lease, beat: Heartbeat, job: _Slice, slice_seconds: float, max_items: int | None = None) -> str:
    unavailable = 0  # consecutive items the provider could not serve (the circuit)
    threshold = get_ai_settings().circuit_threshold
    sleeper = interruptible_sleeper(lambda: beat.lost.is_set())
    in_batch = 0  # items done back to back in this stage since the last within-stage delay
    stop_requested = _stop_checker(lease)
    while True:
        if beat.lost.is_set():
            raise LeaseLost(str(lease.run_pk))
        with write_session() as s:  # 1. pause/cancel requested? (also: stage bookkeeping)
            run = _fenced_run(s, lease)
            cfg = registry.run_config(run.config_snapshot)
            stop = worker_stop(run.requested_action)
            if stop is not None:
                return _stop(s, run, stop)
            stage = registry.stage(run.current_stage)
            prog = _stage_progress(s, run, stage, cfg)
            if prog.finished_at is not None and registry.is_last(stage.number):
                return _complete(s, run)  # the last stage is done (it stays the run's current stage)
            remaining = prog.total_items - prog.processed_items - prog.failed_items
            item = None
            if prog.finished_at is None and remaining > 0:
                limit = cfg.batch_size(stage.number) if stage.batched else 1
                item = stage_io.next_item(s, stage.number, run.site_id, limit=min(limit, remaining), config=cfg)
            if item is None:
                _finish_stage(s, run, prog)
                finished_stage = True
                if (not registry.is_last(stage.number) and prog.processed_items
                        and stage.number in cfg.review_after_stages):
                    return _pause_for_review(s, run, stage.number)
                run_events.publish(s, run, stage_done=stage.number)
            else:
                finished_stage = False
            run_id, site_id, account_id = run.run_id, run.site_id, run.account_id
        job.answered_at = time.monotonic()
        if finished_stage:
            in_batch = 0
            if not registry.is_last(stage.number):
                _wait(cfg.between_stage_delay, stop_requested)  # a stop is seen next turn
            continue
        if time.monotonic() - job.started > slice_seconds:  # hand over to a fresh job
            release(lease)
            enqueue_run(lease.run_pk)
            return "continued"
        if max_items is not None and job.worked >= max_items:
            release(lease)
            return "released"
        if job.provider is None:  # once per job: the account's AI settings over the environment's
            job.provider = ai_settings.provider_for_account(account_id, sleeper=sleeper,
                                                            should_stop=stop_requested)
        outcome = _work_item(lease, item, job.provider, run_id=run_id, site_id=site_id,
                             credit_cap=cfg.max_credits_per_run)
        job.worked += 1
        if outcome in ("paused", "cancelled", "cap_reached"):
            return outcome
        if outcome == "unavailable":  # the item stays queued; N in a row pause the run
            unavailable += 1
            if unavailable >= threshold:
                return _pause_for_provider(lease, item, unavailable)
            _wait(CIRCUIT_WAIT_S[min(unavailable, len(CIRCUIT_WAIT_S)) - 1], stop_requested)
            continue
        unavailable = 0
        in_batch += 1
        if in_batch >= _batch_size(cfg, stage):  # every stage: the delay comes after each batch
            in_batch = 0
            _wait(cfg.within_stage_delay, stop_requested)


def _batch_size(cfg: RunConfig, stage: registry.Stage) -> int:
    """A batched stage (clustering) sends a batch of rows in one call, so each of its items is a
    batch; the others work their batch size of items back to back before the within-stage delay."""
    return 1 if stage.batched else cfg.batch_size(stage.number)




def _call_with_retries(provider: AIProvider, item: stage_io.WorkItem):  # noqa: ANN202
    last: Exception | None = None
    for attempt in range(MAX_ATTEMPTS):
        try:
            return stage_io.compute(provider, item), None
        except ProviderError as exc:
            last = exc
            if not exc.retryable or attempt == MAX_ATTEMPTS - 1:
                break
            time.sleep(RETRY_BACKOFF_S[min(attempt, len(RETRY_BACKOFF_S) - 1)])
    return None, last


class CapReached(Exception):
    """Charging this item would take the run past its credit cap: nothing of it is written."""

    def __init__(self, cap: int, used: int, needed: int) -> None:
        super().__init__(f"cap {cap}, used {used}, next item {needed}")
        self.cap, self.used, self.needed = cap, used, needed


def _work_item(lease: Lease, item: stage_io.WorkItem, provider: AIProvider, *, run_id: str, site_id: int,
               credit_cap: int | None = None) -> str:
    result, error = _call_with_retries(provider, item)  # 2. outside any transaction
    if isinstance(error, ProviderUnavailable):  # not the item's fault: it stays queued, nothing charged
        return _provider_unavailable(lease, item, error)
    if error is None:
        stage_io.after_compute(item, result, site_id)  # e.g. the image file, before the transaction
    try:
        with write_session() as s:  # 3. one transaction
            run = _fenced_run(s, lease)
            prog = s.exec(select(StageProgress).where(StageProgress.run_pk == run.id,
                                                      StageProgress.stage == item.stage)).one()
            if error is not None:
                stage_io.mark_failed(s, item, str(error))
                prog.failed_items += len(item.ids)
                run_events.record(s, run, f"Failed: {item.title} — {error}", stage=item.stage,
                                  level=EventLevel.WARNING, kind="stage_item_failed")
            else:
                applied = stage_io.apply(s, item, result, run_id=run_id, site_id=site_id)
                credits = 0
                if applied.operation and applied.usage is not None:
                    tx = billing.charge(session=s, account_id=run.account_id, operation_type=applied.operation,
                                        usage=applied.usage, idempotency_key=f"{run_id}:{item.stage}:{item.key}",
                                        run_id=run_id, site_id=site_id, stage=item.stage,
                                        object_type=applied.object_type, object_id=applied.object_id,
                                        description=f"{registry.stage(item.stage).title}: {item.title}"[:500])
                    credits = -tx.amount
                    if credit_cap is not None and run.total_credits_used + credits > int(credit_cap):
                        raise CapReached(int(credit_cap), run.total_credits_used, credits)  # rolls back
                prog.processed_items += applied.processed
                prog.credits_used += credits
                run.total_credits_used += credits
                run_events.trace(run, "stage_item_processed", stage=item.stage, item=item.key, credits=credits)
                if (prog.processed_items // max(applied.processed, 1)) % run_events.PROGRESS_EVERY_N == 0:
                    run_events.record(s, run, f"Progress: {prog.processed_items}/{prog.total_items} processed.",
                                      stage=item.stage, kind="stage_progress")
            s.add(prog)
            s.add(run)
            s.flush()
            run_events.publish(s, run, processing_state(session=s, run=run))  # 4. sent after the commit
    except InsufficientCredits as exc:
        return _pause_for_credits(lease, exc)
    except CapReached as exc:
        return _stop_at_cap(lease, exc, item)
    except stage_io.StaleItem:
        log.warning("item %s of run %s was already processed; skipped", item.key, run_id)
        return "stale"
    return "done" if error is None else "failed_item"


def _pause_for_credits(lease: Lease, exc: InsufficientCredits) -> str:
    with write_session() as s:
        run = _fenced_run(s, lease)
        transition(s, run, RunStatus.PAUSED, f"Paused: {exc.message} Add credits, then resume.",
                   reason=PauseReason.INSUFFICIENT_CREDITS, level=EventLevel.WARNING)
        s.add(run)
        s.flush()
        run_events.publish(s, run, processing_state(session=s, run=run))
    return "paused"


def _pause_for_review(s: Session, run: AutomationRun, stage: int) -> str:
    """A review gate: the run pauses after ``stage`` so the operator checks its output first."""
    title = registry.stage(stage).title
    transition(s, run, RunStatus.PAUSED, f"Paused for review after stage {stage} ({title}): check its "
               "output, then resume.", reason=PauseReason.REVIEW, stage=stage, review_stage=stage)
    s.add(run)
    s.flush()
    run_events.publish(s, run, processing_state(session=s, run=run))
    s.commit()
    return "paused"


def _stop_at_cap(lease: Lease, exc: CapReached, item: stage_io.WorkItem) -> str:
    """The per-run credit cap is reached: the run ends, completed with result ``cap_reached``
    (not a failure). The item that did not fit stays in its queue for the next run."""
    with write_session() as s:
        run = _fenced_run(s, lease)
        now = utcnow()
        results = dict(run.stage_results or {})
        results["result"] = "cap_reached"
        results["cap_reached"] = {"cap": exc.cap, "credits_used": exc.used, "next_item_credits": exc.needed,
                                  "stage": item.stage, "item": item.title[:200]}
        run.stage_results = results
        transition(s, run, RunStatus.COMPLETED, f"Credit cap reached: {exc.used} of {exc.cap} credits used; the "
                   f"next item ({item.title[:80]}) needs {exc.needed}. Run stopped (cap_reached).", now=now,
                   stage=item.stage, level=EventLevel.WARNING, kind="cap_reached")
        s.add(run)
        s.flush()
        run_events.publish(s, run, processing_state(session=s, run=run))
    return "cap_reached"


def _stop(s: Session, run: AutomationRun, stop: RunStatus) -> str:
    now = utcnow()
    who = run.requested_by  # who asked for it
    verb = "Paused" if stop is RunStatus.PAUSED else "Cancelled"
    transition(s, run, stop, f"{verb} by {who or OPERATOR} after the current item.", actor=who, now=now,
               reason=PauseReason.OPERATOR if stop is RunStatus.PAUSED else None)
    run.lease_owner = None
    s.add(run)
    s.flush()
    run_events.publish(s, run, processing_state(session=s, run=run))
    s.commit()
    return stop.value


def _complete(s: Session, run: AutomationRun) -> str:
    estimated = ((run.stage_results or {}).get("estimate") or {}).get("total")
    transition(s, run, RunStatus.COMPLETED, f"Run completed: {run.total_credits_used} credits used"
               + (f" (estimated {estimated})." if estimated is not None else "."))
    s.flush()
    run_events.publish(s, run, processing_state(session=s, run=run))
    s.commit()
    return "completed"


def _fail(lease: Lease, exc: Exception) -> None:
    try:
        with write_session() as s:
            run = s.exec(select(AutomationRun).where(AutomationRun.id == lease.run_pk).with_for_update()).one()
            if run.lease_fence != lease.fence or run.status != RunStatus.RUNNING.value:
                return
            run.error = f"{type(exc).__name__}: {exc}"[:2000]
            transition(s, run, RunStatus.FAILED, f"Run failed: {run.error}", level=EventLevel.ERROR)
            run_events.publish(s, run)
    except Exception:  # noqa: BLE001
        log.exception("could not record the failure of run %s", lease.run_pk)


# --- the provider circuit --------------------------------------------------------------------------

def _provider_unavailable(lease: Lease, item: stage_io.WorkItem, error: ProviderUnavailable) -> str:
    """Log that the provider could not serve ``item``; the item is not failed (it is next again)."""
    item.extra["unavailable"] = error.message
    with write_session() as s:
        run = _fenced_run(s, lease)
        run_events.record(s, run, f"AI provider unavailable for {item.title[:80]}: {error.message[:300]} "
                          "The item stays queued.", stage=item.stage, level=EventLevel.WARNING,
                          kind="provider_unavailable")
        s.add(run)
    return "unavailable"


def _pause_for_provider(lease: Lease, item: stage_io.WorkItem, failures: int) -> str:
    """The circuit opens: pause with ``provider_unavailable`` (resumable) instead of failing item
    after item. The current item stays queued, so a resume starts with it."""
    with write_session() as s:
        run = _fenced_run(s, lease)
        last = str(item.extra.get("unavailable") or "")[:300]
        transition(s, run, RunStatus.PAUSED, f"Paused: the AI provider failed {failures} time(s) in a row ({last}). "
                   "Check the AI settings or the provider, then resume.", reason=PauseReason.PROVIDER_UNAVAILABLE,
                   stage=item.stage, level=EventLevel.WARNING)
        s.add(run)
        s.flush()
        run_events.publish(s, run, processing_state(session=s, run=run))
    return "paused"
