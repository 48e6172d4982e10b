"""Stage 2, Clusters → Ideas (AI, one cluster per item): 1 to ``max_ideas`` content ideas.

The provider's ideas are checked: at least one idea (else a retryable ProviderError), extras
beyond ``max_ideas`` dropped, an unknown content_type becomes ``post``, the word count is clamped
to [MIN_WORDS, MAX_WORDS], titles are trimmed to the column size. Positions are 0..n-1 (the
database has one idea per (cluster, position), so a repeated write is refused)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from sqlmodel import Session, select

from igny8_app.ai.base import AIProvider, ClusterIn, IdeaOut, ProviderError, ProviderResult
from igny8_app.domain.costs import Usage
from igny8_app.domain.enums import ContentType, OperationType
from igny8_app.models import Cluster, ContentIdea, Keyword
from igny8_app.pipeline.stages.base import (Applied, ApplyContext, Queue, RunConfig, Stage, WorkItem, mark_done,
                                            next_rows)
from igny8_app.pipeline.stages.s1_clustering import KEYWORDS_PER_CLUSTER_REF


from igny8_app.domain.costs import StageEstimate, Usage, spread
from igny8_app.domain.enums import ContentType
from igny8_app.pipeline.stages.forecast import SIZE_BUCKETS, Basis

MAX_IDEAS_PER_CLUSTER = 3
MAX_IDEAS = MAX_IDEAS_PER_CLUSTER
MIN_WORDS = 300
MAX_WORDS = 5000
TITLE_MAX = 255
STRUCTURE_MAX = 32


@dataclass(frozen=True)
class IdeaWrite:
    position: int
    idea_title: str
    description: str
    keywords: str  # comma-separated, as stored in ContentIdea.keywords
    content_type: str
    content_structure: str
    estimated_word_count: int
    intent: str = ""

    @property
    def keyword_list(self) -> tuple[str, ...]:
        return tuple(k.strip() for k in self.keywords.split(",") if k.strip())


@dataclass(frozen=True)
class Stage2Result:
    cluster_id: int
    ideas: tuple[IdeaWrite, ...]
    usage: Usage


def generate_ideas(cluster: ClusterIn, provider: AIProvider, *,
                   max_ideas: int = MAX_IDEAS_PER_CLUSTER) -> Stage2Result:
    max_ideas = max(1, min(max_ideas, MAX_IDEAS_PER_CLUSTER))
    result = provider.generate_ideas(cluster, max_ideas)
    raw = [i for i in (result.value or []) if isinstance(i, IdeaOut) and i.title.strip()]
    if not raw:
        raise ProviderError(f"No usable ideas for cluster {cluster.id}", retryable=True)
    ideas = tuple(_clean(pos, idea, cluster) for pos, idea in enumerate(raw[:max_ideas]))
    return Stage2Result(cluster_id=cluster.id, ideas=ideas, usage=result.usage)


def _clean(position: int, idea: IdeaOut, cluster: ClusterIn) -> IdeaWrite:
    valid_types = {t.value for t in ContentType}
    ctype = idea.content_type if idea.content_type in valid_types else ContentType.POST.value
    keywords = [k.replace(",", " ").strip() for k in (idea.keywords or (cluster.name,))]
    return IdeaWrite(
        position=position,
        idea_title=" ".join(idea.title.split())[:TITLE_MAX],
        description=idea.description.strip(),
        keywords=", ".join(k for k in dict.fromkeys(keywords) if k),
        content_type=ctype,
        content_structure=(idea.content_structure or "article").strip()[:STRUCTURE_MAX],
        estimated_word_count=max(MIN_WORDS, min(int(idea.estimated_word_count or 0), MAX_WORDS)),
        intent=idea.intent,
    )


# --- the engine's adapter pair ------------------------------------------------------------------

def inputs(cluster_row: Any, keywords: Sequence[str]) -> ClusterIn:
    """``keywords``: the cluster's keyword texts, highest volume first."""
    return ClusterIn(id=cluster_row.id, name=cluster_row.name, description=cluster_row.description or "",
                     keywords=tuple(keywords), volume=cluster_row.volume or 0)


def run(data: ClusterIn, provider: AIProvider, *, max_ideas: int = MAX_IDEAS) -> ProviderResult[list[IdeaOut]]:
    """The checked ideas, in position order, as ``IdeaOut`` (keywords as a tuple)."""
    res = generate_ideas(data, provider, max_ideas=max_ideas)
    return ProviderResult([IdeaOut(title=i.idea_title, description=i.description, content_type=i.content_type,
                                   content_structure=i.content_structure,
                                   estimated_word_count=i.estimated_word_count, keywords=i.keyword_list,
                                   intent=i.intent) for i in res.ideas], res.usage)


# --- the engine's database side (fetch inside the run's transaction, apply inside the item's) ------

NUMBER = 2
QUEUE = Queue("clusters", Cluster, "status", "new", ("mapped",), "name")


def fetch(s: Session, site_id: int, limit: int, config: RunConfig) -> WorkItem | None:
    rows = next_rows(s, QUEUE, site_id)
    if not rows:
        return None
    row = rows[0]
    kws = s.exec(select(Keyword.keyword).where(Keyword.cluster_id == row.id)
                 .order_by(Keyword.volume.desc()).limit(KEYWORDS_PER_CLUSTER_REF)).all()
    return WorkItem(NUMBER, [row.id], row.name, f"cluster:{row.id}", data=inputs(row, list(kws)))


def apply(s: Session, item: WorkItem, result: ProviderResult, ctx: ApplyContext) -> Applied:
    cluster_id = item.ids[0]
    mark_done(s, QUEUE, item.ids)
    for pos, idea in enumerate(result.value):
        s.add(ContentIdea(site_id=ctx.site_id, cluster_id=cluster_id, position=pos, idea_title=idea.title[:255],
                          description=idea.description, keywords=", ".join(idea.keywords),
                          content_type=idea.content_type, content_structure=idea.content_structure,
                          estimated_word_count=idea.estimated_word_count))
    return Applied(1, result.usage, STAGE.operation, "cluster", cluster_id)


# --- estimate -----------------------------------------------------------------------------------

#: The ideas prompt (ai/prompts/ideas.md) asks for an estimated_word_count in this range. With no
#: completed run to learn from, an article is expected at its top: the estimate may come out high
#: (the 1.2 x start rule then asks for a little more than needed), never low.
ASKED_WORDS = (600, 2500)
FIRST_RUN_WORDS = ASKED_WORDS[1]


def estimate(cluster_sizes: Sequence[int], *, ideas_by_size: Mapping[int, float] | None = None,
             buckets: int = 10, max_ideas: int = MAX_IDEAS_PER_CLUSTER) -> StageEstimate:
    """Stage 2 over clusters of these sizes (keywords each): one call per cluster. A cluster gets
    the ideas clusters of its size got in the site's completed runs (``ideas_by_size``, sizes of
    ``buckets`` or more together); a size never seen, the stage's own limit: up to ``max_ideas``,
    and no more ideas than the cluster has keywords."""
    cap = max(1, min(max_ideas, MAX_IDEAS_PER_CLUSTER))
    known = ideas_by_size or {}
    expected = 0.0
    for size in cluster_sizes:
        seen = known.get(min(max(size, 1), buckets))
        expected += min(cap, max(1.0, seen)) if seen is not None else max(1, min(cap, size))
    clusters = len(cluster_sizes)
    calls = spread(round(expected), clusters)
    return StageEstimate(sum(v * n for v, n in calls), tuple((Usage(requests=1, items=v), n) for v, n in calls))


def estimate_in_run(n: int, b: Basis) -> StageEstimate:
    """The registry's hook: ``n`` clusters of the basis's sizes (unknown ones at the largest)."""
    known = b.cluster_sizes[:n]
    sizes = known + (MAX_IDEAS_PER_CLUSTER,) * (n - len(known))
    return estimate(sizes, ideas_by_size=b.averages.ideas_by_size, buckets=SIZE_BUCKETS)


STAGE = Stage(
    number=NUMBER, name="ideas", title="Clusters → Ideas", icon="lightbulb", unit="cluster", queue=QUEUE,
    operation_type=OperationType.IDEAS, fetch=fetch, compute=lambda item, provider: run(item.data, provider),
    apply=apply, batch_key="stage_2_batch_size", cap_key="max_clusters_per_run",
    estimate=estimate_in_run,
)
