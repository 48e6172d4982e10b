"""Stage 6, Image prompts → Images (image AI, one image per item).

The bytes are checked with Pillow (a PNG, JPEG or WebP that decodes; the real size is recorded),
else a retryable ProviderError. ``media_relpath`` says where to save it under the media folder."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from PIL import Image, UnidentifiedImageError

from igny8_app.ai.base import AIProvider, ImageOut, ImagePromptIn, ProviderError, ProviderResult
from igny8_app.domain.costs import StageEstimate, Usage

FORMATS = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp"}
EXTENSIONS = {"png": "png", "jpeg": "jpg", "webp": "webp"}


@dataclass(frozen=True)
class ImageWrite:
    data: bytes
    width: int
    height: int
    format: str  # png / jpeg / webp
    size_bytes: int

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]


@dataclass(frozen=True)
class Stage6Result:
    image: ImageWrite
    usage: Usage


def render_image(prompt: ImagePromptIn, provider: AIProvider) -> Stage6Result:
    result = provider.render_image(prompt)
    out = result.value
    if not isinstance(out, ImageOut) or not out.data:
        raise ProviderError("Image output is empty", retryable=True)
    try:
        with Image.open(io.BytesIO(out.data)) as img:
            fmt = FORMATS.get(img.format or "")
            width, height = img.size
            img.load()  # decode fully: a truncated file fails here
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ProviderError(f"Image output does not decode: {exc}", retryable=True) from exc
    if fmt is None:
        raise ProviderError("Image output is not PNG, JPEG or WebP", retryable=True)
    image = ImageWrite(data=out.data, width=width, height=height, format=fmt, size_bytes=len(out.data))
    return Stage6Result(image=image, usage=result.usage)


def media_relpath(*, site_id: int, content_id: int, position: int, image: ImageWrite) -> str:
    """Path of the file relative to settings.media_dir, e.g. ``site_3/content_41/0.png``.
    Deterministic, so a retried item overwrites its own file instead of leaving another."""
    return f"site_{site_id}/content_{content_id}/{position}.{image.extension}"


# --- the engine's adapter pair ------------------------------------------------------------------

def inputs(image_row: Any, content_row: Any | None) -> ImagePromptIn:
    return ImagePromptIn(prompt=image_row.prompt, image_type=image_row.image_type,
                         title=content_row.title if content_row is not None else "")


def run(data: ImagePromptIn, provider: AIProvider) -> ProviderResult[ImageOut]:
    """The checked image (format and size as decoded by Pillow)."""
    res = render_image(data, provider)
    i = res.image
    return ProviderResult(ImageOut(data=i.data, width=i.width, height=i.height, format=i.format), res.usage)


def estimate(prompts: int) -> StageEstimate:
    """Stage 6: one image per prompt."""
    prompts = max(0, prompts)
    return StageEstimate(prompts, ((Usage(requests=1, items=1, images=1), prompts),) if prompts else ())
