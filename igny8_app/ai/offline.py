"""The offline provider: deterministic, no network, honest about what it is.

Clustering is a real algorithm (``offline_cluster``); ideas, articles and image prompts are
templates keyed by hashes (``offline_text``); images are real PNGs drawn with Pillow
(``offline_image``). Every result reports ``model="offline-deterministic"`` and the units it
consumed, so credits are charged exactly as they would be for a real model.

``delay_ms`` (settings.offline_ai_delay_ms, OFFLINE_AI_DELAY_MS) makes every call wait once, to
make demo runs long enough to watch and to measure pause latency. The wait goes through
``sleeper``; pass an interruptible one (``should_stop=`` or ``sleeper=interruptible_sleeper(...)``
or ``sleeper=stop_event.wait``) and a pause or cancel cuts the wait short: the call then finishes
at once (its result is still complete and valid).
"""

from __future__ import annotations

import math
import threading
import time
from typing import Callable, Sequence

from igny8_app.ai.base import (
    ClusterIn, ClusterOut, ClusterRef, ContentIn, ContentOut, IdeaOut, ImageOut, ImagePromptIn,
    ImagePromptOut, KeywordIn, ProviderResult, Sleeper, TaskIn, interruptible_sleeper,
)
from igny8_app.ai.offline_cluster import DEFAULT_PARAMS, ClusterParams, cluster_keywords
from igny8_app.ai.offline_image import render
from igny8_app.ai.offline_text import ideas_for, prompts_for, write_article
from igny8_app.domain.costs import Usage

MODEL = "offline-deterministic"
TOKENS_PER_WORD = 1.3


def estimate_tokens(*texts: str) -> int:
    """A model-free token estimate: words x 1.3, rounded up."""
    return math.ceil(sum(len(t.split()) for t in texts) * TOKENS_PER_WORD)


class OfflineProvider:
    name = "offline"
    model = MODEL

    def __init__(self, *, delay_ms: int = 0, sleeper: Sleeper | None = None,
                 should_stop: Callable[[], bool] | threading.Event | None = None,
                 cluster_params: ClusterParams = DEFAULT_PARAMS, **_ignored: object) -> None:
        """Unknown keyword arguments (settings meant for other providers, e.g. an API key passed
        through ``get_provider``) are ignored."""
        if delay_ms < 0:
            raise ValueError("delay_ms must be >= 0")
        self.delay_ms = delay_ms
        if sleeper is None:
            sleeper = interruptible_sleeper(should_stop) if should_stop is not None else time.sleep
        self.sleeper = sleeper
        self.cluster_params = cluster_params

    def _delay(self) -> None:
        if self.delay_ms > 0:
            self.sleeper(self.delay_ms / 1000.0)

    # --- operations --------------------------------------------------------------------------

    def cluster_keywords(self, keywords: list[KeywordIn], existing: list[ClusterRef], *,
                         context: Sequence[str] = ()) -> ProviderResult[list[ClusterOut]]:
        self._delay()
        clusters = cluster_keywords(list(keywords), list(existing), self.cluster_params,
                                    tuple(context))
        tokens_in = estimate_tokens(*(k.keyword for k in keywords),
                                    *(r.name for r in existing), *(m for r in existing for m in r.keywords))
        tokens_out = estimate_tokens(*(f"{c.name} {c.description}" for c in clusters)) + len(keywords)
        usage = Usage(requests=1, items=len(keywords), tokens_in=tokens_in, tokens_out=tokens_out,
                      model=MODEL)
        return ProviderResult(clusters, usage)

    def generate_ideas(self, cluster: ClusterIn, max_ideas: int) -> ProviderResult[list[IdeaOut]]:
        self._delay()
        ideas = ideas_for(cluster, max_ideas)
        usage = Usage(requests=1, items=len(ideas),
                      tokens_in=estimate_tokens(cluster.name, cluster.description, *cluster.keywords),
                      tokens_out=estimate_tokens(*(f"{i.title} {i.description} {' '.join(i.keywords)}"
                                                   for i in ideas)),
                      model=MODEL)
        return ProviderResult(ideas, usage)

    def write_content(self, task: TaskIn) -> ProviderResult[ContentOut]:
        self._delay()
        content = write_article(task)
        usage = Usage(requests=1, items=1, words=content.word_count,
                      tokens_in=estimate_tokens(task.title, task.description, *task.keywords),
                      tokens_out=math.ceil(content.word_count * TOKENS_PER_WORD), model=MODEL)
        return ProviderResult(content, usage)

    def image_prompts(self, content: ContentIn, in_article: int) -> ProviderResult[list[ImagePromptOut]]:
        self._delay()
        prompts = prompts_for(content, in_article)
        usage = Usage(requests=1, items=len(prompts),
                      tokens_in=estimate_tokens(content.title, *content.keywords)
                      + math.ceil(len(content.html.split()) * TOKENS_PER_WORD),
                      tokens_out=estimate_tokens(*(p.prompt for p in prompts)), model=MODEL)
        return ProviderResult(prompts, usage)

    def render_image(self, prompt: ImagePromptIn) -> ProviderResult[ImageOut]:
        self._delay()
        image = render(prompt)
        usage = Usage(requests=1, items=1, images=1, tokens_in=estimate_tokens(prompt.prompt), model=MODEL)
        return ProviderResult(image, usage)
