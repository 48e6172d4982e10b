"""Read models over the pipeline's stages (the registry): what is waiting and what is done per stage."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session

from igny8_app.pipeline import stages as registry
from igny8_app.pipeline.stages.base import FAILED


def stage_names() -> dict[int, str]:
    """Stage number -> title, in registry order."""
    return {st.number: st.title for st in registry.STAGES}


def pipeline_overview(*, session: Session, site_id: int) -> list[dict]:
    """Per stage: pending, processed and failed counts (one grouped query per stage's queue)."""
    out = []
    for st in registry.STAGES:
        q = st.queue
        counts = dict(session.execute(
            sa.select(q.status, sa.func.count()).where(q.model.site_id == site_id).group_by(q.status)
        ).all())
        out.append({
            "stage": st.number,
            "name": st.title,
            "pending": int(counts.get(q.pending, 0)),
            "processed": sum(int(counts.get(s, 0)) for s in q.done),
            "failed": int(counts.get(FAILED, 0)),
        })
    return out
