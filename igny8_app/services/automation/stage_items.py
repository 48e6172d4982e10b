"""The database side of the stages, through the registry: which item is next, the pure work, and how
its output is written. ``run_loop`` calls these; each stage's own fetch/compute/apply is declared in
its module of ``igny8_app.pipeline.stages`` (the AI work itself is pure, behind the provider).

Every ``apply`` is written to run inside the item's single transaction and to *refuse* (raise
``StaleItem``) if the item is no longer pending — so a duplicate or stale job can never write an
output twice even before the lease check catches it.
"""

from __future__ import annotations

import os
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from igny8_app.ai.base import AIProvider, ProviderResult
from igny8_app.pipeline import stages as registry
from igny8_app.pipeline.stages.base import (Applied, ApplyContext, RunConfig, StaleItem, WorkItem,
                                            mark_failed as _mark_failed)

__all__ = ["AI_CALL_LOG_ENV", "Applied", "StaleItem", "WorkItem", "after_compute", "apply", "compute",
           "count_eligible", "mark_failed", "next_item"]


def _config(config: RunConfig | dict[str, Any] | None) -> RunConfig:
    return config if isinstance(config, RunConfig) else registry.run_config(config)


def count_eligible(s: Session, stage: int, site_id: int) -> int:
    q = registry.stage(stage).queue
    return int(s.execute(sa.select(sa.func.count()).select_from(q.model).where(
        q.model.site_id == site_id, q.status == q.pending)).scalar_one())


def next_item(s: Session, stage: int, site_id: int, *, limit: int,
              config: RunConfig | dict[str, Any] | None) -> WorkItem | None:
    """The stage's next pending item; ``limit`` bounds a batched stage's batch (others take one row)."""
    st = registry.stage(stage)
    return st.fetch(s, site_id, max(1, limit) if st.batched else 1, _config(config))


#: Set to a file path to have every AI call appended to it as "<stage> <item key> <pid>" (at the
#: call's start): tests count calls per item through it, e.g. at-least-once across crashes.
AI_CALL_LOG_ENV = "IGNY8_AI_CALL_LOG"


def _log_ai_call(item: WorkItem) -> None:
    path = os.environ.get(AI_CALL_LOG_ENV)
    if not path or not registry.stage(item.stage).uses_ai:  # a local stage makes no AI call
        return
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{item.stage} {item.key} {os.getpid()}\n".encode())  # one O_APPEND write: whole lines
    finally:
        os.close(fd)


def compute(provider: AIProvider, item: WorkItem) -> ProviderResult | None:
    """The AI (or local) work for an item: outside any transaction."""
    _log_ai_call(item)
    return registry.stage(item.stage).compute(item, provider)


def after_compute(item: WorkItem, result: ProviderResult | None, site_id: int) -> None:
    """What a stage writes before the item's transaction (stage 6: the image file)."""
    hook = registry.stage(item.stage).after_compute
    if hook is not None:
        hook(item, result, site_id)


def apply(s: Session, item: WorkItem, result: ProviderResult | None, *, run_id: str, site_id: int) -> Applied:
    """Write the item's output and statuses (inside the item's transaction)."""
    return registry.stage(item.stage).apply(s, item, result, ApplyContext(run_id=run_id, site_id=site_id))


def mark_failed(s: Session, item: WorkItem, error: str) -> None:
    _mark_failed(s, registry.stage(item.stage).queue, item.ids, error)
