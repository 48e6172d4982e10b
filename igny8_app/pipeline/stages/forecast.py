"""What the stage estimates go on (pure data): the site's averages from its completed runs and the
basis of one estimate. Each stage's ``estimate_in_run(n, basis)`` (its descriptor's ``estimate``)
turns the items it takes into a ``StageEstimate``; ``services.automation.estimate`` chains them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SIZE_BUCKETS = 10  # clusters of 10 or more keywords are averaged together


@dataclass(frozen=True)
class Averages:
    """What the completed runs made; None where they measured nothing (e.g. no run yet)."""

    keywords_per_cluster: float | None = None
    ideas_per_cluster: float | None = None
    ideas_by_size: dict[int, float] = field(default_factory=dict)  # cluster size (capped) -> ideas it got
    clusters_vs_dry_run: float | None = None  # clusters stage 1 made / clusters its dry run foresaw
    words_per_article: float | None = None
    images_per_article: float | None = None
    runs: int = 0


@dataclass(frozen=True)
class Basis:
    """Everything the stage estimates go on, besides the items flowing between them."""

    config: dict[str, Any]
    averages: Averages = Averages()
    new_clusters: int = 0  # clusters stage 1 makes
    cluster_sizes: tuple[int, ...] = ()  # keywords per cluster stage 2 will see, in queue order
    dry_run_clusters: int | None = None  # the new clusters the dry run foresaw (None: no dry run)
