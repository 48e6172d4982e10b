"""Retention: prune run traces, run logs and orphaned media older than ``IGNY8_RETENTION_DAYS``.

Runs as a periodic task beside the scheduler (every ``IGNY8_RETENTION_INTERVAL_S``, default hourly)
and on demand (``igny8 retention prune``). Only finished runs lose their logs and traces; the run
rows themselves (history, credits, config snapshot) and the credit ledger are kept. Media files
are pruned only when no image row points at them (crashed or capped stage-6 items leave such
files behind) and they are older than the cut-off. Reports what it pruned.

An entry point (a periodic task, or the CLI): it opens its own units of work.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from igny8_app.db import read_session, write_session
from igny8_app.domain.enums import RunStatus
from igny8_app.models import AutomationRun, Image, RunEvent, utcnow
from igny8_app.settings import get_settings

ACTIVE = (RunStatus.RUNNING.value, RunStatus.PAUSED.value)


@dataclass
class Pruned:
    cutoff: datetime
    run_events: int = 0
    trace_dirs: list[str] = field(default_factory=list)
    media_files: list[str] = field(default_factory=list)
    bytes_freed: int = 0

    def summary(self) -> dict[str, Any]:
        return {"cutoff": self.cutoff.isoformat(), "run_events": self.run_events,
                "trace_dirs": len(self.trace_dirs), "media_files": len(self.media_files),
                "bytes_freed": self.bytes_freed}


def _size(path) -> int:  # noqa: ANN001
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def prune(*, now: datetime | None = None, days: int | None = None) -> Pruned:
    now = now or utcnow()
    cutoff = now - timedelta(days=days or get_settings().retention_days)
    out = Pruned(cutoff=cutoff)
    settings = get_settings()
    # 1. logs (RunEvent rows) of runs that finished before the cut-off
    with write_session() as s:
        old_runs = sa.select(AutomationRun.id).where(AutomationRun.status.not_in(ACTIVE),
                                                    AutomationRun.completed_at < cutoff)
        out.run_events = s.execute(sa.delete(RunEvent).where(RunEvent.run_pk.in_(old_runs))).rowcount or 0
    # 2. trace folders data/runs/<run_id>: of finished old runs, or of runs that no longer exist
    with read_session() as s:
        keep = set(s.execute(sa.select(AutomationRun.run_id).where(
            sa.or_(AutomationRun.status.in_(ACTIVE), AutomationRun.completed_at.is_(None),
                   AutomationRun.completed_at >= cutoff))).scalars())
        known = set(s.execute(sa.select(AutomationRun.run_id)).scalars())
        referenced = set(s.execute(sa.select(Image.path).where(Image.path.is_not(None))).scalars())
    cutoff_ts = cutoff.timestamp()
    if settings.runs_dir.is_dir():
        for folder in sorted(settings.runs_dir.iterdir()):
            if not folder.is_dir() or folder.name in keep:
                continue
            if folder.name not in known and folder.stat().st_mtime >= cutoff_ts:
                continue  # a run being created right now, or a recent one of another database
            out.bytes_freed += _size(folder)
            shutil.rmtree(folder, ignore_errors=True)
            out.trace_dirs.append(folder.name)
    # 3. media files no image row points at, older than the cut-off
    media = settings.media_dir
    if media.is_dir():
        for path in sorted(p for p in media.rglob("*") if p.is_file()):
            rel = str(path.relative_to(media))
            if rel in referenced or path.stat().st_mtime >= cutoff_ts:
                continue
            out.bytes_freed += path.stat().st_size
            path.unlink(missing_ok=True)
            out.media_files.append(rel)
    return out
