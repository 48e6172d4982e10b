"""Stage 6 (Image prompts → Images): a real image, checked by decoding it."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest
from PIL import Image

from igny8_app.ai.base import ImageOut, ImagePromptIn, ProviderError, ProviderResult
from igny8_app.ai.offline import OfflineProvider
from igny8_app.domain.costs import Usage
from igny8_app.pipeline.stages import s6_images
from igny8_app.pipeline.stages.s6_images import media_relpath, render_image

PROMPT = ImagePromptIn(prompt="Featured image: a cosy knitting corner", image_type="featured",
                       title="Knitting for Beginners")


class Scripted:
    name = "scripted"

    def __init__(self, out):
        self.out = out

    def render_image(self, prompt):
        return ProviderResult(self.out, Usage(images=1))


def jpeg(size=(64, 32)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 10, 10)).save(buf, format="JPEG")
    return buf.getvalue()


def test_offline_png():
    res = render_image(PROMPT, OfflineProvider())
    img = res.image
    assert (img.width, img.height, img.format, img.extension) == (1200, 630, "png", "png")
    assert img.size_bytes == len(img.data) > 1000
    assert Image.open(io.BytesIO(img.data)).size == (1200, 630)
    assert res.usage.images == 1


def test_in_article_size():
    res = render_image(ImagePromptIn(prompt="x", image_type="in_article", title="T"), OfflineProvider())
    assert (res.image.width, res.image.height) == (800, 450)


def test_real_size_and_format_are_recorded():
    # a provider that lies about size and format
    res = render_image(PROMPT, Scripted(ImageOut(data=jpeg(), width=1, height=1, format="png")))
    assert (res.image.width, res.image.height, res.image.format, res.image.extension) == (64, 32, "jpeg", "jpg")


@pytest.mark.parametrize("data", [b"", b"not an image", jpeg()[:40]])
def test_undecodable_is_retryable_error(data):
    with pytest.raises(ProviderError) as err:
        render_image(PROMPT, Scripted(ImageOut(data=data, width=1, height=1)))
    assert err.value.retryable


def test_media_relpath():
    img = render_image(PROMPT, OfflineProvider()).image
    assert media_relpath(site_id=3, content_id=41, position=0, image=img) == "site_3/content_41/0.png"


def test_engine_adapters():
    image_row = SimpleNamespace(prompt=PROMPT.prompt, image_type="featured")
    data = s6_images.inputs(image_row, SimpleNamespace(title="Knitting for Beginners"))
    assert data == PROMPT
    res = s6_images.run(data, OfflineProvider())
    assert isinstance(res.value, ImageOut) and res.value.format == "png"
    assert res.value.data == s6_images.run(data, OfflineProvider()).value.data
