"""Stage 4: Tasks → Content (a structured, sanitised HTML article near the target length)."""

from __future__ import annotations

from typing import Any

from igny8_app.ai.base import AIProvider, ContentOut, ProviderResult, TaskIn
from igny8_app.ai.html import count_words, sanitize_html


def inputs(task_row: Any, idea_row: Any | None, cluster_row: Any | None) -> TaskIn:
    keywords: tuple[str, ...] = ()
    if idea_row is not None and idea_row.keywords:
        keywords = tuple(k.strip() for k in idea_row.keywords.split(",") if k.strip())
    if not keywords and cluster_row is not None:
        keywords = (cluster_row.name,)
    return TaskIn(id=task_row.id, title=task_row.title, keywords=keywords,
                  cluster_name=cluster_row.name if cluster_row is not None else "",
                  content_type=task_row.content_type, content_structure=task_row.content_structure,
                  word_count=task_row.word_count, description=idea_row.description if idea_row is not None else "")


def run(data: TaskIn, provider: AIProvider) -> ProviderResult[ContentOut]:
    result = provider.write_content(data)
    html = sanitize_html(result.value.html)  # never trust a provider's HTML
    out = ContentOut(title=result.value.title, html=html, meta_title=result.value.meta_title[:60],
                     meta_description=result.value.meta_description[:160], word_count=count_words(html))
    return ProviderResult(out, result.usage)
