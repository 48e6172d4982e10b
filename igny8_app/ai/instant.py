"""A zero-cost provider for benchmarks: fixed outputs, returned at once.

``AI_PROVIDER=instant`` makes every AI call free of work (one cluster per keyword batch, one idea,
a fixed short article, one prompt, a 1x1 PNG), so a benchmark measures the orchestration around
the stage functions (RQ, database writes, the ledger, events, heartbeats) and nothing else. It is
not meant for users; it is named in ``PROVIDERS`` so worker processes can build it from settings
like any other provider.
"""

from __future__ import annotations

from typing import Any, Sequence

from igny8_app.ai.base import (
    ClusterIn,
    ClusterOut,
    ClusterRef,
    ContentIn,
    ContentOut,
    IdeaOut,
    ImageOut,
    ImagePromptIn,
    ImagePromptOut,
    KeywordIn,
    ProviderResult,
    TaskIn,
)
from igny8_app.domain.costs import Usage

MODEL = "instant-fixed"



def _tiny_png() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (1, 1), (200, 200, 200)).save(buf, format="PNG")
    return buf.getvalue()


_PNG_1x1 = _tiny_png()
_HTML = "<h2>Overview</h2><p>Fixed benchmark body.</p>"


class InstantProvider:
    name = "instant"

    def __init__(self, **_ignored: Any) -> None:
        """Settings meant for other providers (delay, sleeper, keys) are ignored."""

    def cluster_keywords(self, keywords: list[KeywordIn], existing: list[ClusterRef], *,
                         context: Sequence[str] = ()) -> ProviderResult[list[ClusterOut]]:
        ids = tuple(k.id for k in keywords)
        volume = sum(k.volume for k in keywords)
        first = keywords[0].keyword if keywords else "cluster"
        out = [ClusterOut(name=first.title(), description="", keyword_ids=ids, volume=volume)] if ids else []
        return ProviderResult(out, Usage(requests=1, items=len(keywords), model=MODEL))

    def generate_ideas(self, cluster: ClusterIn, max_ideas: int) -> ProviderResult[list[IdeaOut]]:
        idea = IdeaOut(title=f"Guide to {cluster.name}", description="", content_type="post",
                       content_structure="how_to_guide", estimated_word_count=800,
                       keywords=cluster.keywords[:3], intent="how_to")
        return ProviderResult([idea], Usage(requests=1, items=1, model=MODEL))

    def write_content(self, task: TaskIn) -> ProviderResult[ContentOut]:
        out = ContentOut(title=task.title, html=_HTML, meta_title=task.title[:60],
                         meta_description=task.title[:150], word_count=5)
        return ProviderResult(out, Usage(requests=1, items=1, words=out.word_count, model=MODEL))

    def image_prompts(self, content: ContentIn, in_article: int) -> ProviderResult[list[ImagePromptOut]]:
        out = [ImagePromptOut(image_type="featured", position=0, prompt=f"Photo for {content.title}")]
        return ProviderResult(out, Usage(requests=1, items=1, model=MODEL))

    def render_image(self, prompt: ImagePromptIn) -> ProviderResult[ImageOut]:
        return ProviderResult(ImageOut(data=_PNG_1x1, width=1, height=1, format="png"),
                              Usage(requests=1, items=1, images=1, model=MODEL))
