"""Retention: old run logs and traces and orphaned media are pruned, recent and referenced ones kept."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from igny8_app.db import read_session, write_session
from igny8_app.models import AutomationRun, Image, RunEvent, utcnow
from igny8_app.services.automation import control as automation
from igny8_app.services.system import retention
from igny8_app.services.automation.run_loop import execute_run
from igny8_app.settings import get_settings
from tests.engine_helpers import seed_site

pytestmark = pytest.mark.usefixtures("redis")


def _age(path, days: int) -> None:  # noqa: ANN001
    ts = (utcnow() - timedelta(days=days)).timestamp()
    os.utime(path, (ts, ts))


def test_prunes_old_logs_traces_and_orphaned_media_only(db):
    ref = seed_site(n_keywords=10, credits=50_000)
    old = automation.start_run(site_id=ref.site_id, enqueue=False)
    assert execute_run(old.id) == "completed"
    new = automation.start_run(site_id=ref.site_id, enqueue=False)
    assert execute_run(new.id) == "completed"
    with write_session() as s:  # the first run finished 100 days ago
        s.execute(sa.update(AutomationRun).where(AutomationRun.id == old.id)
                  .values(completed_at=utcnow() - timedelta(days=100)))
    settings = get_settings()
    assert (settings.runs_dir / old.run_id / "trace.jsonl").exists()
    media = settings.media_dir / f"site_{ref.site_id}"
    with read_session() as s:
        kept_images = [p for p in s.execute(sa.select(Image.path).where(Image.path.is_not(None))).scalars()]
    assert kept_images
    orphan_old = media / "image_999999.png"
    orphan_new = media / "image_999998.png"
    media.mkdir(parents=True, exist_ok=True)
    for p in (orphan_old, orphan_new):
        p.write_bytes(b"x" * 10)
    _age(orphan_old, 40)
    for rel in kept_images:
        _age(settings.media_dir / rel, 400)  # old but referenced: kept
    with read_session() as s:
        old_events = s.execute(sa.select(sa.func.count()).select_from(RunEvent)
                               .where(RunEvent.run_pk == old.id)).scalar_one()
    r = retention.prune(days=30)
    assert r.run_events == old_events > 0
    assert r.trace_dirs == [old.run_id]
    assert r.media_files == [f"site_{ref.site_id}/image_999999.png"]
    assert not (settings.runs_dir / old.run_id).exists() and (settings.runs_dir / new.run_id).exists()
    assert not orphan_old.exists() and orphan_new.exists()
    assert all((settings.media_dir / rel).exists() for rel in kept_images)
    with read_session() as s:
        assert s.get(AutomationRun, old.id).status == "completed"  # the run row (history, credits) stays
        assert s.execute(sa.select(sa.func.count()).select_from(RunEvent)
                         .where(RunEvent.run_pk == new.id)).scalar_one() > 0
    assert r.summary()["trace_dirs"] == 1
    # the CLI reports what it pruned (nothing left now)
    from igny8_app.cli import app

    out = CliRunner().invoke(app, ["retention", "prune", "--days", "30"])
    assert out.exit_code == 0 and "Pruned 0 run log event(s), 0 trace folder(s), 0 orphaned media file(s)" in out.stdout
