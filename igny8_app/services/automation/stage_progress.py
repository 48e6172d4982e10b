"""A run's per-stage bookkeeping: the StageProgress row made when a stage starts (its total, after
the stage's per-run cap and skip rule) and closed when it ends, mirrored in ``run.stage_results``
and the activity log. The run moves to the registry's next stage; after the last one it stays on
it (a finished run is told by its status, never by a stage past the end)."""

from __future__ import annotations

from sqlmodel import Session, select

from igny8_app.models import AutomationRun, StageProgress, utcnow
from igny8_app.pipeline import stages as registry
from igny8_app.pipeline.stages.base import RunConfig, Stage
from igny8_app.services.automation import events as run_events
from igny8_app.services.automation import stage_items as stage_io


def stage_progress(s: Session, run: AutomationRun, stage: Stage, cfg: RunConfig) -> StageProgress:
    prog = s.exec(select(StageProgress).where(StageProgress.run_pk == run.id,
                                              StageProgress.stage == stage.number)).one_or_none()
    if prog is not None:
        return prog
    eligible = stage_io.count_eligible(s, stage.number, run.site_id)
    cap = cfg.cap(stage.number)
    total = eligible if cap is None else min(eligible, cap)
    skip_reason = stage.skip_reason(total) if stage.skip_reason is not None else None
    if skip_reason:
        total = 0
    prog = StageProgress(run_pk=run.id, stage=stage.number, total_items=total, started_at=utcnow())
    s.add(prog)
    s.flush()
    results = dict(run.stage_results or {})
    results[str(stage.number)] = {"total_items": total,
                                  **({"skipped": True, "skip_reason": skip_reason} if skip_reason else {})}
    run.stage_results = results
    msg = (f"Stage {stage.number} ({stage.title}) skipped: {skip_reason}" if skip_reason
           else f"Stage {stage.number} ({stage.title}) started: {total} item(s).")
    run_events.record(s, run, msg, stage=stage.number, kind="stage_start", total_items=total)
    return prog


def finish_stage(s: Session, run: AutomationRun, prog: StageProgress) -> None:
    now = utcnow()
    if prog.finished_at is None:
        prog.finished_at = now
        s.add(prog)
    results = dict(run.stage_results or {})
    entry = dict(results.get(str(prog.stage), {}))
    entry.update({"processed_items": prog.processed_items, "failed_items": prog.failed_items,
                  "credits_used": prog.credits_used,
                  "partial": prog.processed_items + prog.failed_items < prog.total_items})
    results[str(prog.stage)] = entry
    run.stage_results = results
    run_events.record(s, run, f"Stage {prog.stage} complete: {prog.processed_items} processed, "
                      f"{prog.failed_items} failed, {prog.credits_used} credits.", stage=prog.stage,
                      kind="stage_complete")
    following = registry.next_after(prog.stage)
    if following is not None:
        run.current_stage = following.number
    s.add(run)
