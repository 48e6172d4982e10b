"""Stage 6, Image prompts → Images (image AI, one image per item).

The bytes are checked with Pillow (a PNG, JPEG or WebP that decodes; the real size is recorded),
else a retryable ProviderError. ``media_relpath`` says where to save it under the media folder."""

from __future__ import annotations

import io
import os
from pathlib import Path
from dataclasses import dataclass
from typing import Any

from PIL import Image, UnidentifiedImageError

from sqlmodel import Session

from igny8_app.ai.base import AIProvider, ImageOut, ImagePromptIn, ProviderError, ProviderResult
from igny8_app.domain.costs import Usage
from igny8_app.domain.enums import OperationType
from igny8_app.models import Content
from igny8_app.models import Image as ImageRow
from igny8_app.pipeline.stages.base import (Applied, ApplyContext, Queue, RunConfig, Stage, WorkItem, mark_done,
                                            next_rows)
from igny8_app.settings import get_settings


from igny8_app.domain.costs import StageEstimate, Usage
from igny8_app.pipeline.stages.forecast import Basis

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


# --- the engine's database side (fetch inside the run's transaction, apply inside the item's) ------

NUMBER = 6
QUEUE = Queue("images", ImageRow, "status", "pending", ("generated",), "prompt")


def fetch(s: Session, site_id: int, limit: int, config: RunConfig) -> WorkItem | None:
    rows = next_rows(s, QUEUE, site_id)
    if not rows:
        return None
    row = rows[0]
    content = s.get(Content, row.content_id)
    return WorkItem(NUMBER, [row.id], f"{row.image_type} image: {content.title if content else row.prompt[:60]}",
                    f"image:{row.id}", data=inputs(row, content))


def media_path(site_id: int, image_id: int, fmt: str) -> Path:
    return get_settings().media_dir / f"site_{site_id}" / f"image_{image_id}.{fmt}"


def save_media(item: WorkItem, result: ProviderResult, site_id: int) -> Path:
    """Write the image file before the item's transaction (atomic rename; same path on retry)."""
    out = result.value
    path = media_path(site_id, item.ids[0], out.format)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + f".tmp{os.getpid()}")
    tmp.write_bytes(out.data)
    os.replace(tmp, path)
    return path


def apply(s: Session, item: WorkItem, result: ProviderResult, ctx: ApplyContext) -> Applied:
    out = result.value
    path = media_path(ctx.site_id, item.ids[0], out.format)
    mark_done(s, QUEUE, item.ids, path=str(path.relative_to(get_settings().media_dir)), width=out.width,
              height=out.height, format=out.format, size_bytes=len(out.data))
    return Applied(1, result.usage, STAGE.operation, "image", item.ids[0])


def estimate(prompts: int) -> StageEstimate:
    """Stage 6: one image per prompt."""
    prompts = max(0, prompts)
    return StageEstimate(prompts, ((Usage(requests=1, items=1, images=1), prompts),) if prompts else ())


def estimate_in_run(n: int, b: Basis) -> StageEstimate:
    """The registry's hook."""
    return estimate(n)


STAGE = Stage(
    number=NUMBER, name="images", title="Image prompts → Images", icon="image", unit="image", queue=QUEUE,
    operation_type=OperationType.IMAGES, fetch=fetch, compute=lambda item, provider: run(item.data, provider),
    apply=apply, after_compute=save_media, batch_key="stage_6_batch_size", cap_key="max_images_per_run",
    short="Prompts → Images",
    estimate=estimate_in_run,
)
