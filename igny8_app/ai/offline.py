"""The offline provider: deterministic, no network, honest about being offline
(model name ``offline-deterministic``). Real work all the same: TF-IDF + agglomerative
clustering, templated articles near the target length, Pillow-rendered PNGs.

``OFFLINE_AI_DELAY_MS`` is slept once per call (per batch in stage 1, per item elsewhere) through
``sleeper`` — the engine injects an interruptible one.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from igny8_app.ai import offline_cluster, offline_image, offline_text
from igny8_app.ai.base import (ClusterIn, ClusterOut, ClusterRef, ContentIn, ContentOut, IdeaOut, ImageOut,
                               ImagePromptIn, ImagePromptOut, KeywordIn, ProviderResult, Sleeper, TaskIn,
                               interruptible_sleeper)
from igny8_app.ai.html import count_words
from igny8_app.domain.costs import Usage

MODEL = "offline-deterministic"
TOKENS_PER_WORD = 1.3


def _tokens(text: str) -> int:
    return int(len(text.split()) * TOKENS_PER_WORD) + 1


class OfflineProvider:
    name = "offline"

    def __init__(self, *, delay_ms: int = 0, sleeper: Sleeper | None = None,
                 should_stop: Callable[[], bool] | None = None, **_: Any) -> None:
        self.delay_s = max(0, int(delay_ms)) / 1000
        if sleeper is None and should_stop is not None:
            sleeper = interruptible_sleeper(should_stop)
        self.sleeper = sleeper or time.sleep

    def _delay(self) -> None:
        if self.delay_s:
            self.sleeper(self.delay_s)

    def cluster_keywords(self, keywords: list[KeywordIn], existing: list[ClusterRef]) -> ProviderResult[list[ClusterOut]]:
        self._delay()
        out = offline_cluster.cluster_keywords(keywords, existing)
        text = " ".join(k.keyword for k in keywords)
        return ProviderResult(out, Usage(requests=1, items=len(keywords), tokens_in=_tokens(text),
                                         tokens_out=_tokens(" ".join(c.name for c in out)), model=MODEL))

    def generate_ideas(self, cluster: ClusterIn, max_ideas: int) -> ProviderResult[list[IdeaOut]]:
        self._delay()
        ideas = offline_text.ideas_for(cluster, max_ideas)
        return ProviderResult(ideas, Usage(items=len(ideas), tokens_in=_tokens(" ".join(cluster.keywords)),
                                           tokens_out=_tokens(" ".join(i.title + " " + i.description for i in ideas)),
                                           model=MODEL))

    def write_content(self, task: TaskIn) -> ProviderResult[ContentOut]:
        self._delay()
        article = offline_text.write_article(task)
        return ProviderResult(article, Usage(items=1, words=article.word_count,
                                             tokens_in=_tokens(task.title + " " + " ".join(task.keywords)),
                                             tokens_out=int(count_words(article.html) * TOKENS_PER_WORD), model=MODEL))

    def image_prompts(self, content: ContentIn, in_article: int) -> ProviderResult[list[ImagePromptOut]]:
        self._delay()
        prompts = offline_text.prompts_for(content, in_article)
        return ProviderResult(prompts, Usage(items=len(prompts), tokens_in=_tokens(content.title),
                                             tokens_out=_tokens(" ".join(p.prompt for p in prompts)), model=MODEL))

    def render_image(self, prompt: ImagePromptIn) -> ProviderResult[ImageOut]:
        self._delay()
        return ProviderResult(offline_image.render(prompt), Usage(images=1, model=MODEL))
