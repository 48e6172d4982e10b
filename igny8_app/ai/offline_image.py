"""Offline image rendering with Pillow: a real PNG with a deterministic palette (hashed from the
prompt), a diagonal gradient, a few soft shapes and the wrapped title text.

Uses Pillow's bundled default font (``ImageFont.load_default(size=...)``, FreeType, Pillow >= 10.1),
so it needs no font files and no network. Same prompt -> same bytes.
"""

from __future__ import annotations

import colorsys
import hashlib
import io

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from igny8_app.ai.base import ImageOut, ImagePromptIn

CAPTION = "Illustration generated offline"


def _palette(prompt: str) -> tuple[tuple[int, int, int], tuple[int, int, int], tuple[int, int, int]]:
    h = hashlib.sha256(prompt.encode("utf-8")).digest()
    hue = h[0] / 255.0
    shift = (40 + h[1] % 80) / 360.0
    sat = 0.45 + (h[2] % 30) / 100.0
    val = 0.38 + (h[3] % 20) / 100.0  # dark enough for white text

    def rgb(hh: float, s: float, v: float) -> tuple[int, int, int]:
        r, g, b = colorsys.hsv_to_rgb(hh % 1.0, s, v)
        return (round(r * 255), round(g * 255), round(b * 255))

    return rgb(hue, sat, val), rgb(hue + shift, sat, val * 0.7), rgb(hue + shift / 2, sat * 0.6, 0.95)


def _gradient(width: int, height: int, a: tuple[int, int, int], b: tuple[int, int, int]) -> Image.Image:
    xs = np.linspace(0.0, 1.0, width, dtype=np.float64)[None, :]
    ys = np.linspace(0.0, 1.0, height, dtype=np.float64)[:, None]
    t = (0.6 * xs + 0.4 * ys)[..., None]  # diagonal blend
    arr = np.asarray(a, dtype=np.float64) * (1 - t) + np.asarray(b, dtype=np.float64) * t
    return Image.fromarray(np.round(arr).astype(np.uint8), "RGB")


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
          max_width: float) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        cand = f"{line} {word}".strip()
        if draw.textlength(cand, font=font) <= max_width or not line:
            line = cand
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines


def render(prompt: ImagePromptIn) -> ImageOut:
    width, height = prompt.size
    base, end, accent = _palette(prompt.prompt)
    img = _gradient(width, height, base, end)
    digest = hashlib.sha256(("shapes:" + prompt.prompt).encode("utf-8")).digest()
    overlay = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    odraw = ImageDraw.Draw(overlay)
    for i in range(4):  # soft circles, positions from the hash
        cx = digest[4 + i] / 255 * width
        cy = digest[8 + i] / 255 * height
        r = (0.12 + digest[12 + i] / 255 * 0.25) * min(width, height)
        odraw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(*accent, 38))
    img = Image.alpha_composite(img.convert("RGBA"), overlay).convert("RGB")

    draw = ImageDraw.Draw(img)
    text = " ".join((prompt.title or prompt.prompt).split())
    margin = int(width * 0.08)
    max_width = width - 2 * margin
    size = max(16, int(height * 0.11))
    while True:
        font = ImageFont.load_default(size=size)
        lines = _wrap(draw, text, font, max_width)
        too_wide = any(draw.textlength(ln, font=font) > max_width for ln in lines)
        if (len(lines) <= 4 and not too_wide) or size <= 16:
            break
        size = int(size * 0.88)
    lines = lines[:4]
    line_h = int(size * 1.25)
    y = (height - line_h * len(lines)) // 2
    for ln in lines:
        w = draw.textlength(ln, font=font)
        x = (width - w) / 2
        draw.text((x + 2, y + 2), ln, font=font, fill=(0, 0, 0))  # shadow for contrast
        draw.text((x, y), ln, font=font, fill=(255, 255, 255))
        y += line_h
    bar_h = max(4, height // 90)
    draw.rectangle((0, height - bar_h, width, height), fill=accent)
    small = ImageFont.load_default(size=max(12, height // 36))
    draw.text((margin // 2, height - bar_h - max(12, height // 36) - 10), CAPTION, font=small,
              fill=(235, 235, 235))

    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False, compress_level=6)
    return ImageOut(data=buf.getvalue(), width=width, height=height, format="png")
