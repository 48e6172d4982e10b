"""The stage descriptor and the types the engine passes between a stage's fetch, compute and apply.

A stage module (``s1_clustering`` … ``s6_images``) ends with one ``Stage(...)`` that says everything
the engine, the read models, the pages and the API need to know about it: its number, names and
icon; the queue it reads (model, status column, pending and done values); its credit operation;
the config keys it uses; and the three functions of an item's life:

- ``fetch(session, site_id, limit, config)`` -> the next ``WorkItem`` (or None), inside a read of
  the run's transaction; the item's ``data`` is the pure stage function's input;
- ``compute(item, provider)`` -> ``ProviderResult``: the pure (AI or local) work, outside any
  transaction; ``after_compute(item, result, site_id)`` (optional) writes files before the commit;
- ``apply(session, item, result, ctx)`` -> ``Applied``: the writes, inside the item's transaction,
  refusing (``StaleItem``) an item that is no longer pending.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import sqlalchemy as sa
from sqlmodel import select

from igny8_app.domain.costs import Usage
from igny8_app.domain.enums import OperationType
from igny8_app.models import utcnow
from igny8_app.models.automation import (DEFAULT_BATCH_SIZES, DEFAULT_BETWEEN_STAGE_DELAY_S,
                                         DEFAULT_IN_ARTICLE_IMAGES, DEFAULT_WITHIN_STAGE_DELAY_S)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlmodel import Session

    from igny8_app.ai.base import AIProvider, ProviderResult

FAILED = "failed"  # every queue's failed value (retry-failed puts these back to pending)


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


@dataclass(frozen=True)
class ApplyContext:
    run_id: str
    site_id: int


@dataclass(frozen=True)
class RunConfig:
    """A run's configuration, typed, built once from its ``config_snapshot`` (``from_snapshot``).
    A missing or empty value takes the default of ``AutomationConfig``'s column."""

    batch_sizes: dict[int, int]  # by stage number
    caps: dict[int, int | None]  # by stage number; None: no cap
    within_stage_delay: float = DEFAULT_WITHIN_STAGE_DELAY_S
    between_stage_delay: float = DEFAULT_BETWEEN_STAGE_DELAY_S
    max_credits_per_run: int | None = None
    in_article_images: int = DEFAULT_IN_ARTICLE_IMAGES
    review_after_stages: frozenset[int] = frozenset()

    @classmethod
    def from_snapshot(cls, snapshot: dict[str, Any] | None, stages: Iterable[Stage]) -> RunConfig:
        snap = snapshot or {}

        def number(key: str, default: int) -> int:
            value = snap.get(key)
            return default if value is None or value == "" else int(value)

        def optional(key: str | None) -> int | None:
            value = snap.get(key) if key else None
            return None if value is None else int(value)

        stages = list(stages)
        return cls(
            batch_sizes={st.number: max(1, number(st.batch_key, 0) or DEFAULT_BATCH_SIZES.get(st.number, 1))
                         if st.batch_key else 1 for st in stages},
            caps={st.number: optional(st.cap_key) for st in stages},
            within_stage_delay=float(number("within_stage_delay", DEFAULT_WITHIN_STAGE_DELAY_S)),
            between_stage_delay=float(number("between_stage_delay", DEFAULT_BETWEEN_STAGE_DELAY_S)),
            max_credits_per_run=optional("max_credits_per_run"),
            in_article_images=number("in_article_images", DEFAULT_IN_ARTICLE_IMAGES),
            review_after_stages=frozenset(int(n) for n in snap.get("review_after_stages") or ()),
        )

    def batch_size(self, stage: int) -> int:
        return self.batch_sizes.get(stage, 1)

    def cap(self, stage: int) -> int | None:
        return self.caps.get(stage)


@dataclass(frozen=True)
class Queue:
    """What a stage reads: rows of ``model`` whose ``column`` is ``pending``; ``done`` are the values
    a processed row has (in this or a later stage). ``name`` labels the queue (retry-failed counts,
    "keywords"); ``title_column`` is what the processing card shows of a row."""

    name: str
    model: type
    column: str
    pending: str
    done: tuple[str, ...]
    title_column: str

    @property
    def status(self):  # noqa: ANN201 - the column attribute
        return getattr(self.model, self.column)


@dataclass(frozen=True)
class Stage:
    number: int  # shipped numbers never change; a new stage is appended
    name: str  # machine name, e.g. "clustering"
    title: str  # what people read, e.g. "Keywords → Clusters"
    icon: str  # lucide icon of the stage card
    unit: str  # what one queue row is ("keyword")
    queue: Queue
    operation_type: OperationType | None  # the credit operation; None: local, no AI and no credits
    fetch: Callable[[Session, int, int, RunConfig], WorkItem | None]
    compute: Callable[[WorkItem, AIProvider], ProviderResult | None]
    apply: Callable[[Session, WorkItem, ProviderResult | None, ApplyContext], Applied]
    batch_key: str | None = None  # config key of the batch size (None: one item at a time, no key)
    cap_key: str | None = None  # config key of the per-run item cap (None: no cap)
    batched: bool = False  # one item is a batch of up to batch-size queue rows (one AI call)
    skip_reason: Callable[[int], str | None] | None = None  # at stage start, from the eligible count
    after_compute: Callable[[WorkItem, Any, int], Any] | None = None  # outside the transaction
    estimate: Callable[..., Any] | None = None  # the stage's output estimate (services.automation.estimate)
    short: str | None = None  # a shorter title for narrow places (the config form); default: the title

    @property
    def short_title(self) -> str:
        return self.short or self.title

    @property
    def uses_ai(self) -> bool:
        return self.operation_type is not None

    @property
    def operation(self) -> str | None:
        return self.operation_type.value if self.operation_type is not None else None


# --- helpers for the stages' apply ----------------------------------------------------------------

def short_hash(ids: list[int]) -> str:
    return hashlib.sha256(",".join(str(i) for i in sorted(ids)).encode()).hexdigest()[:20]


def update_pending(s: Session, queue: Queue, ids: list[int], values: dict) -> None:
    """Move ``ids`` out of the pending state with ``values``; StaleItem unless all were pending."""
    model = queue.model
    res = s.execute(sa.update(model).where(model.id.in_(ids), queue.status == queue.pending)
                    .values(**values, updated_at=utcnow()))
    if (res.rowcount or 0) != len(ids):
        raise StaleItem(f"{model.__tablename__} {ids} no longer pending")


def mark_done(s: Session, queue: Queue, ids: list[int], **more: Any) -> None:
    update_pending(s, queue, ids, {queue.column: queue.done[0], **more})


def mark_failed(s: Session, queue: Queue, ids: list[int], error: str) -> None:
    model = queue.model
    s.execute(sa.update(model).where(model.id.in_(ids), queue.status == queue.pending).values(
        {queue.column: FAILED, "last_error": error[:2000], "attempts": model.attempts + 1, "updated_at": utcnow()}))


def next_rows(s: Session, queue: Queue, site_id: int, limit: int = 1) -> list:
    model = queue.model
    return list(s.exec(select(model).where(model.site_id == site_id, queue.status == queue.pending)
                       .order_by(model.id).limit(max(1, limit))).all())
