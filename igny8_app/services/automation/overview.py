"""Read models over the six-stage pipeline: what is waiting and what is done per stage."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session

from igny8_app.models import Cluster, Content, ContentIdea, Image, Keyword, Task

STAGES = [
    # number, name, table, status column, pending statuses, processed statuses
    (1, "Keywords → Clusters", Keyword, "status", ("new",), ("mapped",)),
    (2, "Clusters → Ideas", Cluster, "status", ("new",), ("mapped",)),
    (3, "Ideas → Tasks", ContentIdea, "status", ("new",), ("queued", "completed")),
    (4, "Tasks → Content", Task, "status", ("queued",), ("completed",)),
    (5, "Content → Image prompts", Content, "prompt_status", ("pending",), ("done",)),
    (6, "Image prompts → Images", Image, "status", ("pending",), ("generated",)),
]
STAGE_NAMES = {n: name for n, name, *_ in STAGES}


def pipeline_overview(*, session: Session, site_id: int) -> list[dict]:
    """Per stage: pending, processed and failed counts (one grouped query per table)."""
    out = []
    for number, name, model, column, pending, processed in STAGES:
        col = getattr(model, column)
        counts = dict(session.execute(
            sa.select(col, sa.func.count()).where(model.site_id == site_id).group_by(col)
        ).all())
        out.append({
            "stage": number,
            "name": name,
            "pending": sum(int(counts.get(s, 0)) for s in pending),
            "processed": sum(int(counts.get(s, 0)) for s in processed),
            "failed": int(counts.get("failed", 0)),
        })
    return out
