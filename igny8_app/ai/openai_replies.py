"""The OpenAI-compatible provider's reply schemas (pydantic) and pure helpers: the JSON part of a
reply, validation messages, the existing clusters worth showing the model, merging clusters by name."""

from __future__ import annotations

import re
from typing import Sequence

from pydantic import BaseModel, Field, ValidationError

from igny8_app.ai.base import ClusterRef, KeywordIn

MAX_EXISTING_IN_PROMPT = 80  # the site's clusters most related to the batch (prompt size and cost)
KEYWORDS_PER_EXISTING = 8


# --- reply schemas ---------------------------------------------------------------------------------

class ClusterReply(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    description: str = ""
    keyword_ids: list[int] = Field(min_length=1)
    existing_cluster_id: int | None = None


class ClustersReply(BaseModel):
    clusters: list[ClusterReply] = Field(min_length=1)


class IdeaReply(BaseModel):
    title: str = Field(min_length=1)
    description: str = ""
    content_type: str = "post"
    content_structure: str = "article"
    estimated_word_count: int = Field(default=1000, ge=0)
    keywords: list[str] = Field(default_factory=list)
    intent: str = ""


class IdeasReply(BaseModel):
    ideas: list[IdeaReply] = Field(min_length=1)


class ArticleReply(BaseModel):
    title: str = Field(min_length=1)
    html: str = Field(min_length=1)
    meta_title: str = ""
    meta_description: str = ""


class ImagePromptsReply(BaseModel):
    featured: str = Field(min_length=1)
    in_article: list[str] = Field(default_factory=list)


# --- helpers -----------------------------------------------------------------------------------------

_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.S)


def json_text(text: str) -> str:
    """The JSON part of a reply (local models sometimes wrap it in a code fence)."""
    m = _FENCE.match(text or "")
    return m.group(1) if m else (text or "")


def short_error(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors()[:4]:
        loc = ".".join(str(x) for x in e.get("loc", ())) or "reply"
        parts.append(f"{loc}: {e.get('msg')}")
    return "; ".join(parts)


def mask_key(key: str | None) -> str:
    """What may be shown of an API key: its last 4 characters."""
    key = key or ""
    return f"…{key[-4:]}" if len(key) > 4 else ("set" if key else "")


def relevant_existing(keywords: Sequence[KeywordIn], existing: Sequence[ClusterRef],
                      limit: int = MAX_EXISTING_IN_PROMPT) -> list[ClusterRef]:
    """The existing clusters to show the model for this batch: those sharing the most words with
    the batch's keywords first, then the most recent; at most ``limit``, in their original order."""
    if len(existing) <= limit:
        return list(existing)
    words = {w for k in keywords for w in _norm(k.keyword).split() if len(w) > 2}

    def overlap(r: ClusterRef) -> int:
        own = {w for t in (r.name, *r.keywords[:KEYWORDS_PER_EXISTING]) for w in _norm(t).split()}
        return len(words & own)

    ranked = sorted(range(len(existing)), key=lambda i: (-overlap(existing[i]), -i))[:limit]
    return [existing[i] for i in sorted(ranked)]


def _norm(name: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", (name or "").lower()))


def merge_by_name(clusters: list[ClusterReply], existing: Sequence[ClusterRef]
                   ) -> dict[int | str, tuple[str, str, list[int]]]:
    """Group the reply's clusters: a 'new' cluster named like an existing one (ignoring case and
    punctuation) joins it, and new clusters with the same name become one, so a model that forgets
    an existing cluster cannot split a topic across batches. Key: existing id, or the new name."""
    by_name = {_norm(r.name): r.id for r in existing}
    known = {r.id for r in existing}
    out: dict[int | str, tuple[str, str, list[int]]] = {}
    for c in clusters:
        key: int | str
        if c.existing_cluster_id is not None and c.existing_cluster_id in known:
            key = c.existing_cluster_id
        elif _norm(c.name) in by_name:
            key = by_name[_norm(c.name)]
        elif c.existing_cluster_id is not None:
            key = c.existing_cluster_id  # unknown id: stage 1 repairs it into a new cluster
        else:
            key = "new:" + _norm(c.name)
        name, description, ids = out.get(key, (c.name, c.description, []))
        out[key] = (name, description, ids + [i for i in c.keyword_ids if i not in ids])
    return out
