"""Article HTML helpers shared by providers and stages: the allowed tag set, sanitising,
word counting and heading extraction. Pure (nh3 + the standard library)."""

from __future__ import annotations

import html as html_lib
import re
from html.parser import HTMLParser

import nh3

#: The only tags an article body may contain (no attributes at all).
ALLOWED_TAGS = frozenset({"h2", "h3", "p", "ul", "li", "strong", "em"})

_WORD = re.compile(r"\S+")
META_TITLE_MAX = 60
META_DESCRIPTION_MAX = 160


def clip(text: str, limit: int) -> str:
    """``text`` with whitespace collapsed, cut at a word boundary to at most ``limit`` chars."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit + 1].rsplit(" ", 1)[0].rstrip(" ,;:-–—")
    return cut if cut else text[:limit]


def sanitize_html(html: str) -> str:
    """Keep only ALLOWED_TAGS, drop every attribute, scripts, styles and comments."""
    return nh3.clean(html, tags=set(ALLOWED_TAGS), attributes={}, strip_comments=True,
                     link_rel=None).strip()


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[str] = []
        self.headings: list[tuple[str, str]] = []
        self._heading: list[str] | None = None

    def handle_starttag(self, tag: str, attrs) -> None:  # noqa: ANN001
        self.parts.append(" ")
        if tag in ("h2", "h3"):
            self._heading = []
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        self.parts.append(" ")
        if tag in ("h2", "h3") and self.stack and self._heading is not None:
            self.headings.append((self.stack.pop(), " ".join("".join(self._heading).split())))
            self._heading = None

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        if self._heading is not None:
            self._heading.append(data)


def _parse(html: str) -> _Text:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return parser


def html_text(html: str) -> str:
    """The visible text of ``html``, whitespace collapsed."""
    return " ".join("".join(_parse(html).parts).split())


def count_words(html: str) -> int:
    """Words of visible text (whitespace-separated tokens), the figure billed per 100 words."""
    return len(_WORD.findall(html_text(html)))


def headings(html: str, tag: str = "h2") -> list[str]:
    return [text for t, text in _parse(html).headings if t == tag]


def esc(text: str) -> str:
    return html_lib.escape(text, quote=False)


def tags_used(html: str) -> set[str]:
    return {m.lower() for m in re.findall(r"</?\s*([a-zA-Z][a-zA-Z0-9]*)", html)}
