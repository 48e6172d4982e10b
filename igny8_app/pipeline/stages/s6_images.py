"""Stage 6: Image prompts → Images."""

from __future__ import annotations

from typing import Any

from igny8_app.ai.base import AIProvider, ImageOut, ImagePromptIn, ProviderResult


def inputs(image_row: Any, content_row: Any | None) -> ImagePromptIn:
    return ImagePromptIn(prompt=image_row.prompt, image_type=image_row.image_type,
                         title=content_row.title if content_row is not None else "")


def run(data: ImagePromptIn, provider: AIProvider) -> ProviderResult[ImageOut]:
    return provider.render_image(data)
