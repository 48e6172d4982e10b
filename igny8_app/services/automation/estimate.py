"""The credits a run would need, per stage and in total, from queue sizes, caps and costs."""

from __future__ import annotations

import math
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from igny8_app.domain.costs import Usage, credits_for
from igny8_app.models import Cluster, Content, ContentIdea, Image, Keyword, Task
from igny8_app.services.billing.ledger import cost_rule

# Averages used where the queue does not exist yet (documented in README).
KEYWORDS_PER_CLUSTER = 4
IDEAS_PER_CLUSTER = 2
AVERAGE_WORDS = 1200
MIN_KEYWORDS_TO_CLUSTER = 5


def _count(s: Session, model, column, value, site_id: int) -> int:  # noqa: ANN001
    return int(s.execute(sa.select(sa.func.count()).select_from(model)
                         .where(model.site_id == site_id, getattr(model, column) == value)).scalar_one())


def _cap(n: int, cap: int | None) -> int:
    return n if cap is None else min(n, cap)


def estimate_for_site(*, session: Session, site_id: int, config: dict[str, Any]) -> dict[str, Any]:
    s = session
    batch = max(1, int(config.get("stage_1_batch_size") or 20))
    in_article = int(config.get("in_article_images") or 0)
    kw = _cap(_count(s, Keyword, "status", "new", site_id), config.get("max_keywords_per_run"))
    if kw < MIN_KEYWORDS_TO_CLUSTER:
        kw = 0
    clusters = _cap(_count(s, Cluster, "status", "new", site_id) + math.ceil(kw / KEYWORDS_PER_CLUSTER),
                    config.get("max_clusters_per_run"))
    ideas = _cap(_count(s, ContentIdea, "status", "new", site_id) + clusters * IDEAS_PER_CLUSTER,
                 config.get("max_ideas_per_run"))
    tasks = _cap(_count(s, Task, "status", "queued", site_id) + ideas, config.get("max_tasks_per_run"))
    content = _cap(_count(s, Content, "prompt_status", "pending", site_id) + tasks, config.get("max_content_per_run"))
    images = _cap(_count(s, Image, "status", "pending", site_id) + content * (1 + in_article),
                  config.get("max_images_per_run"))
    stages = {
        1: credits_for(cost_rule(s, "clustering"), Usage(requests=1, items=batch)) * math.ceil(kw / batch),
        2: credits_for(cost_rule(s, "ideas"), Usage(items=IDEAS_PER_CLUSTER)) * clusters,
        3: 0,
        4: credits_for(cost_rule(s, "content"), Usage(words=AVERAGE_WORDS)) * tasks,
        5: credits_for(cost_rule(s, "image_prompts"), Usage(items=1 + in_article)) * content,
        6: credits_for(cost_rule(s, "images"), Usage(images=1)) * images,
    }
    total = sum(stages.values())
    cap = config.get("max_credits_per_run")
    if cap is not None:
        total = min(total, int(cap))
    return {"stages": {str(k): v for k, v in stages.items()}, "total": total,
            "items": {"keywords": kw, "clusters": clusters, "ideas": ideas, "tasks": tasks, "content": content,
                      "images": images}}
