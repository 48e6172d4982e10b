"""The database side of the six stages: which item is next, what the pure stage function gets,
and how its output is written. ``run_loop`` calls these; the AI work itself is in
``igny8_app.pipeline.stages`` (pure) behind the provider.

Every ``apply`` is written to run inside the item's single transaction and to *refuse* (raise
``StaleItem``) if the item is no longer pending — so a duplicate or stale job can never write an
output twice even before the lease check catches it.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from igny8_app.ai.base import AIProvider, ClusterRef, ProviderResult
from igny8_app.domain.costs import Usage
from igny8_app.models import Cluster, Content, ContentIdea, Image, Keyword, Task, utcnow
from igny8_app.pipeline import stages as pure
from igny8_app.settings import get_settings

MAX_EXISTING_CLUSTERS = 500
KEYWORDS_PER_CLUSTER_REF = 25
CLUSTER_CONTEXT = 600


class StaleItem(Exception):
    """The item changed under us (already processed by another job): write nothing."""


@dataclass
class WorkItem:
    stage: int
    ids: list[int]
    title: str
    key: str  # the idempotency part for (run, stage, item)
    data: Any = None  # stage input built from rows
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Applied:
    processed: int
    usage: Usage | None
    operation: str | None
    object_type: str
    object_id: int | None


def _short_hash(ids: list[int]) -> str:
    return hashlib.sha256(",".join(str(i) for i in sorted(ids)).encode()).hexdigest()[:20]


def _update_pending(s: Session, model, ids: list[int], column: str, pending: str, values: dict) -> None:  # noqa: ANN001
    col = getattr(model, column)
    res = s.execute(sa.update(model).where(model.id.in_(ids), col == pending).values(**values, updated_at=utcnow()))
    if (res.rowcount or 0) != len(ids):
        raise StaleItem(f"{model.__tablename__} {ids} no longer pending")


def _mark_failed(s: Session, model, ids: list[int], column: str, pending: str, error: str) -> None:  # noqa: ANN001
    col = getattr(model, column)
    s.execute(sa.update(model).where(model.id.in_(ids), col == pending).values(
        {column: "failed", "last_error": error[:2000], "attempts": model.attempts + 1, "updated_at": utcnow()}))


# --- queue definitions: (model, status column, pending value) ----------------------------------

QUEUES = {
    1: (Keyword, "status", "new"),
    2: (Cluster, "status", "new"),
    3: (ContentIdea, "status", "new"),
    4: (Task, "status", "queued"),
    5: (Content, "prompt_status", "pending"),
    6: (Image, "status", "pending"),
}


def count_eligible(s: Session, stage: int, site_id: int) -> int:
    model, column, pending = QUEUES[stage]
    return int(s.execute(sa.select(sa.func.count()).select_from(model).where(
        model.site_id == site_id, getattr(model, column) == pending)).scalar_one())


def next_item(s: Session, stage: int, site_id: int, *, limit: int, config: dict[str, Any]) -> WorkItem | None:
    model, column, pending = QUEUES[stage]
    rows = s.exec(select(model).where(model.site_id == site_id, getattr(model, column) == pending)
                  .order_by(model.id).limit(max(1, limit) if stage == 1 else 1)).all()
    if not rows:
        return None
    if stage == 1:
        ids = [r.id for r in rows]
        # the texts of the next pending keywords give the clusterer the topic structure beyond
        # this batch (batched ARI 0.60 -> 0.81; see bench/clustering_quality.py)
        context = s.exec(select(Keyword.keyword).where(Keyword.site_id == site_id, Keyword.status == "new",
                                                       Keyword.id > ids[-1]).order_by(Keyword.id)
                         .limit(CLUSTER_CONTEXT)).all()
        return WorkItem(1, ids, f"{len(rows)} keywords: {rows[0].keyword}…", f"kw:{_short_hash(ids)}",
                        data=pure.s1_clustering.inputs(rows, _existing_clusters(s, site_id), context=list(context)))
    row = rows[0]
    if stage == 2:
        kws = s.exec(select(Keyword.keyword).where(Keyword.cluster_id == row.id)
                     .order_by(Keyword.volume.desc()).limit(KEYWORDS_PER_CLUSTER_REF)).all()
        return WorkItem(2, [row.id], row.name, f"cluster:{row.id}", data=pure.s2_ideas.inputs(row, list(kws)))
    if stage == 3:
        return WorkItem(3, [row.id], row.idea_title, f"idea:{row.id}", data=pure.s3_tasks.inputs(row))
    if stage == 4:
        idea = s.get(ContentIdea, row.idea_id) if row.idea_id else None
        cluster = s.get(Cluster, row.cluster_id) if row.cluster_id else None
        return WorkItem(4, [row.id], row.title, f"task:{row.id}", data=pure.s4_content.inputs(row, idea, cluster),
                        extra={"idea_id": row.idea_id, "cluster_id": row.cluster_id})
    if stage == 5:
        return WorkItem(5, [row.id], row.title, f"content:{row.id}", data=pure.s5_image_prompts.inputs(row),
                        extra={"in_article": int(config.get("in_article_images") or 0)})
    content = s.get(Content, row.content_id)
    return WorkItem(6, [row.id], f"{row.image_type} image: {content.title if content else row.prompt[:60]}",
                    f"image:{row.id}", data=pure.s6_images.inputs(row, content))


def _existing_clusters(s: Session, site_id: int) -> list[ClusterRef]:
    clusters = s.exec(select(Cluster).where(Cluster.site_id == site_id, Cluster.status != "failed")
                      .order_by(Cluster.id.desc()).limit(MAX_EXISTING_CLUSTERS)).all()
    if not clusters:
        return []
    members: dict[int, list[str]] = {}
    for cid, kw in s.execute(sa.select(Keyword.cluster_id, Keyword.keyword)
                             .where(Keyword.cluster_id.in_([c.id for c in clusters]))
                             .order_by(Keyword.volume.desc())):
        if len(members.setdefault(cid, [])) < KEYWORDS_PER_CLUSTER_REF:
            members[cid].append(kw)
    return [ClusterRef(id=c.id, name=c.name, keywords=tuple(members.get(c.id, ())), description=c.description)
            for c in reversed(clusters)]


#: Set to a file path to have every AI call appended to it as "<stage> <item key> <pid>" (at the
#: call's start): tests count calls per item through it, e.g. at-least-once across crashes.
AI_CALL_LOG_ENV = "IGNY8_AI_CALL_LOG"


def _log_ai_call(item: WorkItem) -> None:
    path = os.environ.get(AI_CALL_LOG_ENV)
    if not path or item.stage == 3:  # stage 3 is local: no AI call
        return
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{item.stage} {item.key} {os.getpid()}\n".encode())  # one O_APPEND write: whole lines
    finally:
        os.close(fd)


def compute(provider: AIProvider, item: WorkItem) -> ProviderResult | None:
    """The AI (or local) work for an item: outside any transaction."""
    _log_ai_call(item)
    if item.stage == 1:
        return pure.s1_clustering.run(item.data, provider)
    if item.stage == 2:
        return pure.s2_ideas.run(item.data, provider)
    if item.stage == 3:
        return pure.s3_tasks.run(item.data)
    if item.stage == 4:
        return pure.s4_content.run(item.data, provider)
    if item.stage == 5:
        return pure.s5_image_prompts.run(item.data, provider, in_article=item.extra["in_article"])
    return pure.s6_images.run(item.data, provider)


def media_path(site_id: int, image_id: int, fmt: str) -> Path:
    return get_settings().media_dir / f"site_{site_id}" / f"image_{image_id}.{fmt}"


def save_media(item: WorkItem, result: ProviderResult, site_id: int) -> Path:
    """Write the image file before the item's transaction (atomic rename; same path on retry)."""
    out = result.value
    path = media_path(site_id, item.ids[0], out.format)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + f".tmp{os.getpid()}")
    tmp.write_bytes(out.data)
    os.replace(tmp, path)
    return path


def apply(s: Session, item: WorkItem, result: ProviderResult | None, *, run_id: str, site_id: int) -> Applied:
    """Write the item's output and statuses (inside the item's transaction)."""
    now = utcnow()
    if item.stage == 1:
        keywords = {k.id: k for k in s.exec(select(Keyword).where(Keyword.id.in_(item.ids))).all()}
        _update_pending(s, Keyword, item.ids, "status", "new", {"status": "mapped"})
        first_cluster = None
        for group in result.value:
            ids = [i for i in group.keyword_ids if i in keywords]
            if not ids:
                continue
            volume = sum(keywords[i].volume for i in ids)
            if group.existing_cluster_id:
                cluster = s.get(Cluster, group.existing_cluster_id)
                if cluster is None or cluster.site_id != site_id:
                    raise ValueError(f"provider named unknown cluster {group.existing_cluster_id}")
                cluster.keywords_count += len(ids)
                cluster.volume += volume
                cluster.updated_at = now
            else:
                cluster = Cluster(site_id=site_id, name=group.name[:255], description=group.description,
                                  keywords_count=len(ids), volume=volume, run_id=run_id)
            s.add(cluster)
            s.flush()
            first_cluster = first_cluster or cluster.id
            s.execute(sa.update(Keyword).where(Keyword.id.in_(ids)).values(cluster_id=cluster.id))
        return Applied(len(item.ids), result.usage, "clustering", "keyword_batch", first_cluster)
    if item.stage == 2:
        cluster_id = item.ids[0]
        _update_pending(s, Cluster, item.ids, "status", "new", {"status": "mapped"})
        for pos, idea in enumerate(result.value):
            s.add(ContentIdea(site_id=site_id, cluster_id=cluster_id, position=pos, idea_title=idea.title[:255],
                              description=idea.description, keywords=", ".join(idea.keywords),
                              content_type=idea.content_type, content_structure=idea.content_structure,
                              estimated_word_count=idea.estimated_word_count))
        return Applied(1, result.usage, "ideas", "cluster", cluster_id)
    if item.stage == 3:
        idea = s.get(ContentIdea, item.ids[0])
        _update_pending(s, ContentIdea, item.ids, "status", "new", {"status": "queued"})
        spec = result.value
        s.add(Task(site_id=site_id, cluster_id=idea.cluster_id, idea_id=idea.id, title=spec.title[:255],
                   content_type=spec.content_type, content_structure=spec.content_structure,
                   word_count=spec.word_count))
        return Applied(1, None, None, "idea", idea.id)
    if item.stage == 4:
        _update_pending(s, Task, item.ids, "status", "queued", {"status": "completed"})
        out = result.value
        s.add(Content(site_id=site_id, task_id=item.ids[0], cluster_id=item.extra.get("cluster_id"),
                      title=out.title[:255], html=out.html, meta_title=out.meta_title[:255],
                      meta_description=out.meta_description[:500], word_count=out.word_count, run_id=run_id))
        if item.extra.get("idea_id"):
            s.execute(sa.update(ContentIdea).where(ContentIdea.id == item.extra["idea_id"])
                      .values(status="completed", updated_at=now))
        return Applied(1, result.usage, "content", "task", item.ids[0])
    if item.stage == 5:
        _update_pending(s, Content, item.ids, "prompt_status", "pending", {"prompt_status": "done"})
        for p in result.value:
            s.add(Image(site_id=site_id, content_id=item.ids[0], image_type=p.image_type, position=p.position,
                        prompt=p.prompt))
        return Applied(1, result.usage, "image_prompts", "content", item.ids[0])
    out = result.value
    path = media_path(site_id, item.ids[0], out.format)
    _update_pending(s, Image, item.ids, "status", "pending", {
        "status": "generated", "path": str(path.relative_to(get_settings().media_dir)), "width": out.width,
        "height": out.height, "format": out.format, "size_bytes": len(out.data)})
    return Applied(1, result.usage, "images", "image", item.ids[0])


def mark_failed(s: Session, item: WorkItem, error: str) -> None:
    model, column, pending = QUEUES[item.stage]
    _mark_failed(s, model, item.ids, column, pending, error)
